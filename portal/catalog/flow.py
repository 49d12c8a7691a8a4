"""The process of an item as an SVG flow diagram drawn by the portal (no external assets).

Vertical, so it fits a phone; the SVG is labelled and the page also lists the steps as text.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .labels import STEP, is_english
from .schema import Step

BOX_W, BOX_H, GAP, PAD = 260, 46, 30, 8


def _label(step: Step) -> str:
    if is_english():
        return step.name.en or str(STEP[step.key])
    return step.name.zh


def flow_svg(steps: tuple[Step, ...], title: str, svg_id: str = "flow") -> Markup:
    """An accessible SVG of ``steps`` joined by arrows."""
    if not steps:
        return Markup("")
    height = PAD * 2 + len(steps) * BOX_H + (len(steps) - 1) * GAP
    width = BOX_W + PAD * 2
    desc = " → ".join(_label(s) for s in steps)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{svg_id}-title {svg_id}-desc">',
        f'<title id="{svg_id}-title">{escape(title)}</title>',
        f'<desc id="{svg_id}-desc">{escape(desc)}</desc>',
        f'<defs><marker id="{svg_id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1a1a1a"/></marker></defs>',
    ]
    for n, step in enumerate(steps):
        y = PAD + n * (BOX_H + GAP)
        parts.append(
            f'<rect x="{PAD}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="#e8f0fa" stroke="#0b5394" '
            'stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{PAD + BOX_W / 2}" y="{y + BOX_H / 2}" text-anchor="middle" dominant-baseline="central" '
            f'font-size="17" fill="#1a1a1a">{n + 1}. {escape(_label(step))}</text>'
        )
        if n < len(steps) - 1:
            x = PAD + BOX_W / 2
            parts.append(
                f'<line x1="{x}" y1="{y + BOX_H}" x2="{x}" y2="{y + BOX_H + GAP - 2}" stroke="#1a1a1a" '
                f'stroke-width="2" marker-end="url(#{svg_id}-arrow)"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text put into the SVG above went through escape()
