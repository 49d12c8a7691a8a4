"""QR codes for printed documents: the module matrix, an inline SVG for pages, vector squares for PDFs.

One matrix feeds both outputs, so the page and the PDF carry the same code. Error correction M (15 % of
the code may be smudged or folded away) and a quiet zone of 2 modules, which the matrix includes: a slip's
white margin around the code adds to it. Dark modules of a row are drawn as one rectangle per run, which
keeps the SVG and the PDF small and leaves no hairline seams between neighbouring squares.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import qrcode
from markupsafe import Markup

from ..core.translation import gettext as _

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
BORDER = 2  # modules of quiet zone on each side, part of the matrix
DEFAULT_SIZE_PX = 132

Matrix = list[list[bool]]


def qr_matrix(data: str) -> Matrix:
    """The modules of the smallest QR code holding ``data``, quiet zone included; ``True`` is dark."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def dark_runs(matrix: Matrix) -> Iterator[tuple[int, int, int]]:
    """``(row, column, length)`` of every horizontal run of dark modules, top row first."""
    for row, modules in enumerate(matrix):
        column, width = 0, len(modules)
        while column < width:
            if modules[column]:
                start = column
                while column < width and modules[column]:
                    column += 1
                yield row, start, column - start
            else:
                column += 1


SVG_TEMPLATE = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" aria-label="{label}" width="{size}" '
    'height="{size}" viewBox="0 0 {n} {n}" shape-rendering="crispEdges"><title>{label}</title>'
    '<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{path}"/></svg>'
)


def svg_from_matrix(matrix: Matrix, *, size_px: int = DEFAULT_SIZE_PX, label: str | None = None) -> Markup:
    """An inline SVG of ``matrix``, one unit per module (no style attribute, so it passes a nonce-only CSP)."""
    path = "".join(f"M{c} {r}h{w}v1h-{w}z" for r, c, w in dark_runs(matrix))
    label = label if label is not None else _("QR code")
    return SVG_TEMPLATE.format(label=label, size=int(size_px), n=len(matrix), path=path)  # arguments escaped


def qr_svg(data: str, *, size_px: int = DEFAULT_SIZE_PX, label: str | None = None) -> Markup:
    """An inline SVG QR code of ``data``, ``size_px`` wide, titled ``label`` for screen readers."""
    return svg_from_matrix(qr_matrix(data), size_px=size_px, label=label)


def draw_matrix(canvas: Any, matrix: Matrix, x: float, y: float, size: float) -> None:
    """Draw ``matrix`` on a ReportLab canvas as filled squares: ``(x, y)`` is the bottom-left corner and
    ``size`` the side of the whole code, quiet zone included, in points.

    The canvas is scaled to one unit per module (y pointing down, like the matrix), and the runs go in as
    one path of integer rectangles through ``addLiteral``: the same vectors ``canvas.rect`` would draw, at a
    tenth of the cost (ReportLab formats every float it writes), filled at once so no seams show.
    """
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillGray(1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)  # the quiet zone stays white on a tinted background
    canvas.setFillGray(0)
    canvas.transform(module, 0, 0, -module, x, y + size)
    canvas.addLiteral(" ".join(f"{column} {row} {length} 1 re" for row, column, length in dark_runs(matrix)) + " f")
    canvas.restoreState()


def draw_qr(canvas: Any, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``data`` on a ReportLab canvas, as vectors (see ``draw_matrix``)."""
    draw_matrix(canvas, qr_matrix(data), x, y, size)
