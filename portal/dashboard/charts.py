"""Charts drawn by the portal as inline SVG: no script, no external asset, readable without the picture.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states every figure, and every
bar or column carries its own ``<title>``; the page shows the same figures in a table next to it. Labels are
escaped; sizes are fixed and the SVG scales to the width of the screen (``viewBox``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 180
WIDTH = 640
COLOURS = ("#1d5fa8", "#2e8540")


def _svg(title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    n = next(_ids)
    # every text interpolated into the markup below has been escaped
    return Markup(  # noqa: S704
        f'<svg class="chart" role="img" aria-labelledby="chart-{n}-title chart-{n}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{n}-title">{escape(title)}</title><desc id="chart-{n}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def bar_chart(title: str, rows: Sequence[tuple[str, int | float]], *, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    top = max((v for _l, v in rows), default=0) or 1
    plot = WIDTH - LABEL_WIDTH - 60
    body = []
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = round(plot * value / top, 1)
        text = f"{label}: {value:g}{unit}"
        body.append(
            f'<g><title>{escape(text)}</title>'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="13">{escape(_clip(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="{COLOURS[0]}"></rect>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 15}" font-size="13">{escape(f"{value:g}{unit}")}</text></g>')
    height = GAP + max(len(rows), 1) * (BAR_HEIGHT + GAP)
    desc = "; ".join(f"{label}: {value:g}{unit}" for label, value in rows)
    return _svg(title, desc, WIDTH, height, body)


def column_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Markup:
    """Grouped columns: for each label (a week), one column per series (e.g. submitted, completed)."""
    height, base, left = 240, 200, 40
    top = max((v for _n, values in series for v in values), default=0) or 1
    group = (WIDTH - left) / max(len(labels), 1)
    column = max(group / (len(series) + 1), 2)
    body = [f'<line x1="{left}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#666"></line>',
            f'<text x="{left - 4}" y="14" text-anchor="end" font-size="12">{top}</text>',
            f'<text x="{left - 4}" y="{base}" text-anchor="end" font-size="12">0</text>']
    for i, label in enumerate(labels):
        x0 = left + i * group
        for s, (name, values) in enumerate(series):
            value = values[i]
            h = round((base - 20) * value / top, 1)
            x = round(x0 + column * (s + 0.5), 1)
            tip = escape(f"{label} {name}: {value}")
            body.append(f'<rect x="{x}" y="{base - h}" width="{round(column, 1)}" height="{h}" '
                        f'fill="{COLOURS[s % len(COLOURS)]}"><title>{tip}</title></rect>')
        body.append(f'<text x="{round(x0 + group / 2, 1)}" y="{base + 16}" text-anchor="middle" '
                    f'font-size="11">{escape(label)}</text>')
    for s, (name, _values) in enumerate(series):
        x = left + s * 160
        body.append(f'<rect x="{x}" y="{height - 14}" width="12" height="12" fill="{COLOURS[s % len(COLOURS)]}">'
                    f'</rect><text x="{x + 16}" y="{height - 4}" font-size="12">{escape(name)}</text>')
    desc = "; ".join(f"{label}: " + ", ".join(f"{name} {values[i]}" for name, values in series)
                     for i, label in enumerate(labels))
    return _svg(title, desc, WIDTH, height, body)


def _clip(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
