"""CSV and XLSX downloads. CSV: UTF-8 with a byte-order mark, so spreadsheet programs on Chinese Windows open it as
UTF-8. XLSX (openpyxl): every cell is written as text or a number, never as a formula.

A cell that a spreadsheet would run as a formula (it starts with = + - @ or a tab/CR) is prefixed with an
apostrophe (OWASP, "CSV injection"). Headers follow S10: attachment with an RFC 5987 file name, nosniff, no-store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], *, filename: str) -> Response:
    response = file_response(csv_bytes(header, rows), mimetype="text/csv", filename=filename)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str = "Sheet1",
               lines: Sequence[str] = ()) -> bytes:
    """One sheet: ``lines`` above (a title, whose and when), the header in bold, then the rows. A text cell is typed
    as a string even when it starts with “=” (openpyxl would make it a formula); numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    out_sheet = book.create_sheet(sheet[:31])
    bold = Font(bold=True)

    def cells(values: Sequence[object], font: Font | None = None) -> list[WriteOnlyCell]:
        out = []
        for value in values:
            cell = WriteOnlyCell(out_sheet, value=value if isinstance(value, int | float) else
                                 ("" if value is None else str(value)))
            if not isinstance(value, int | float):
                cell.data_type = "s"
            if font is not None:
                cell.font = font
            out.append(cell)
        return out

    for line in lines:
        out_sheet.append(cells([line]))
    if lines:
        out_sheet.append([])
    out_sheet.append(cells(header, bold))
    for row in rows:
        out_sheet.append(cells(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_response(data: bytes, *, mimetype: str, filename: str) -> Response:
    """A download with the headers of S10 (attachment with an RFC 5987 name, nosniff, no-store)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
