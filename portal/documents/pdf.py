"""The PDF machinery every printed document shares: the bundled CJK font, measuring and line breaking, drawing
a line of text, and the vector QR code placed in a page's top right corner.

Each document keeps its own layout with its feature (receipts here, certificates in ``portal/certificates``,
the 异地就医登记备案表 in ``portal/services/remote_care``); what they have in common lives here, so a new
document (a claim's payment notice, a transfer's 联系函) starts from the same font and the same wrapping.
The PDFs embed the bundled TrueType font (``fonts/wqy-microhei.ttc``), never a system font, so they look the
same on every machine and their Chinese text can be searched and copied.
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ..core import clock
from .qr import Matrix, draw_matrix

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"
_font_lock = threading.Lock()
_font: TTFont | None = None
_CHAR_WIDTHS: dict[str, float] = {}  # character → width at 1 pt in the bundled font

# A run of Latin characters (a word, a number, a URL) with its trailing spaces, spaces, or one other character
_TOKEN_RE = re.compile(r"[\x21-\x7e\u00a0-\u024f]+ *| +|.", re.DOTALL)
# Closing punctuation stays at the end of a line rather than starting the next (禁则)
_NO_LINE_START = frozenset("，。、；：？！）》」』”’%,.;:?!)")


def pdf_font() -> TTFont:
    """The bundled CJK font, registered with ReportLab once per process.

    Parsing the 5 MB collection takes a few hundred milliseconds; afterwards each PDF only subsets the
    glyphs it uses from the parsed font. The lock keeps two first requests from registering it twice.
    """
    global _font
    if _font is None:
        with _font_lock:
            if _font is None:
                font = TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0)
                pdfmetrics.registerFont(font)
                _font = font
    return _font


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in the bundled font at ``size`` points, from a per-character cache (wrapping
    measures every character of a slip, and ReportLab's own measure is slow for that)."""
    widths, total = _CHAR_WIDTHS, 0.0
    for char in text:
        width = widths.get(char)
        if width is None:
            width = widths[char] = pdf_font().stringWidth(char, 1)
        total += width
    return total * size


def wrap(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points at ``size``: Chinese between any two
    characters, Latin words whole (cut only when one is longer than a line), closing punctuation never first."""
    limit, space = width / size, text_width(" ", 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for token in _TOKEN_RE.findall(paragraph):
            full = text_width(token, 1)
            core = full - space * (len(token) - len(token.rstrip(" ")))
            if line and used + core > limit and token[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, used = "", 0.0
                if token[0] == " ":  # the spaces at a line break
                    continue
            if core > limit:  # longer than a whole line: cut it where it reaches the edge
                for char in token:
                    char_width = text_width(char, 1)
                    if line and used + char_width > limit:
                        lines.append(line.rstrip())
                        line, used = "", 0.0
                    line += char
                    used += char_width
                continue
            line += token
            used += full
        lines.append(line.rstrip())
    return lines


def draw_text(canvas: Any, x: float, y: float, value: str, size: float, grey: float = 0.0,
              align: str = "left") -> None:
    """Draw one line of ``value`` in the bundled font at ``size`` points and ``grey`` level (0 black, 1 white),
    its baseline at ``y``, starting at, centred on or ending at ``x`` as ``align`` says (left, center, right)."""
    canvas.setFont(FONT_NAME, size)
    canvas.setFillGray(grey)
    if align == "center":
        canvas.drawCentredString(x, y, value)
    elif align == "right":
        canvas.drawRightString(x, y, value)
    else:
        canvas.drawString(x, y, value)


def draw_corner_qr(canvas: Any, matrix: Matrix, *, page_width: float, top: float, margin: float,
                   size: float) -> float:
    """Draw ``matrix`` as a ``size``-point square in the top right corner, its top at ``top`` and its right edge
    ``margin`` from the page's; returns its left edge (where the title's room ends)."""
    left = page_width - margin - size
    draw_matrix(canvas, matrix, left, top - size, size)
    return left


def chinese_date(value: date | datetime | str | None) -> str:
    """A date as every page and document writes it in Chinese (2026年12月6日); a moment is taken in China's time.
    An ISO text (``2026-12-06``, a form's date field) is read first; blank stays blank."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value  # not a date: printed as the applicant wrote it
    if isinstance(value, datetime):
        value = clock.to_local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"
