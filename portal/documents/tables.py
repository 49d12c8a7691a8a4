"""A statement as a table on A4 (landscape when wide): title, the lines that say whose and when, the header repeated
on every page, page numbers, and the issuing agency's name where its electronic seal is. Signed by the caller with
the agency's key (``certificates.signing.sign_pdf``), as certificates are.

Cells are cut to their column's width with “…” (a statement's columns are short: numbers, masked names, amounts).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from .pdf import FONT_NAME, draw_text, pdf_font, text_width

MARGIN = 36.0
SIZE = 8.5
ROW = 14.0


def _fit(text: str, width: float) -> str:
    if text_width(text, SIZE) <= width:
        return text
    while text and text_width(text + "…", SIZE) > width:
        text = text[:-1]
    return text + "…"


def table_pdf(*, title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[object]],
              issuer: str, notes: Sequence[str] = ()) -> bytes:
    """The statement drawn as PDF (unsigned), the CJK font embedded."""
    pdf_font()
    wide = len(header) > 6
    page_width, page_height = landscape(A4) if wide else A4
    usable = page_width - 2 * MARGIN
    natural = [max([text_width(str(h), SIZE)] + [text_width(str(r[i]), SIZE) for r in rows[:200]]) + 8
               for i, h in enumerate(header)]
    scale = min(1.0, usable / sum(natural)) if natural else 1.0
    widths = [w * scale for w in natural]
    if natural and sum(widths) < usable:  # spread the spare room
        widths = [w + (usable - sum(widths)) / len(widths) for w in widths]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(page_width, page_height), pageCompression=1, initialFontName=FONT_NAME,
                    initialFontSize=SIZE, lang="zh-Hans")
    canvas.setTitle(title)
    canvas.setAuthor(issuer)
    per_page = max(1, int((page_height - 2 * MARGIN - 40 - 14 * len(lines) - 30) // ROW))
    chunks = [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    for number, chunk in enumerate(chunks, start=1):
        y = page_height - MARGIN - 16
        draw_text(canvas, page_width / 2, y, title, 15, align="center")
        y -= 22
        for line in lines:
            draw_text(canvas, MARGIN, y, line, 9)
            y -= 14
        y -= 4
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y + ROW - 3, page_width - MARGIN, y + ROW - 3)
        for cells, grey in [(header, 0.0), *[(row, 0.15) for row in chunk]]:
            x = MARGIN
            for width, cell in zip(widths, cells, strict=False):
                draw_text(canvas, x + 3, y, _fit(str(cell), width - 6), SIZE, grey)
                x += width
            y -= ROW
            canvas.setLineWidth(0.25)
            canvas.line(MARGIN, y + ROW - 3, page_width - MARGIN, y + ROW - 3)
        if number == len(chunks):
            for note in notes:
                y -= 4
                draw_text(canvas, MARGIN, y, note, 8, 0.35)
                y -= 12
        draw_text(canvas, MARGIN, MARGIN - 14, f"第 {number} 页 / 共 {len(chunks)} 页", 8, 0.35)
        draw_text(canvas, page_width - MARGIN, MARGIN - 14, f"{issuer}（电子签章）", 8, 0.35, "right")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
