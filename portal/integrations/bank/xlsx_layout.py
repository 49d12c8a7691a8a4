"""XLSX bank files: one sheet, a header row, the lines, a trailer row; written with XlsxWriter, read with openpyxl.

Writing uses XlsxWriter in memory: every cell is written as a string (``write_string``), so a payee name or bank
starting with ``=`` stays text and never becomes a formula, and nothing of the file (it holds accounts in full)
touches the disk — its ``constant_memory`` mode would spill rows to temporary files, so it is not used; a batch is
at most ``MAX_LINES`` lines. XlsxWriter was chosen over openpyxl for this file for speed: about half of openpyxl's
CPU time per cell (``bench/claims.py``, 5,000-line batch). The other XLSX files the portal writes (roster templates,
record downloads) are small and stay on openpyxl, which also reads every XLSX.

Reading is defensive: the file's size is capped before openpyxl sees it, the ZIP's entries are checked (count,
declared sizes, compression ratio) so a ZIP bomb is refused before it is inflated, and the sheet is read in
read-only mode with values only (no formulas run, no external links followed).
"""

from __future__ import annotations

import io
from datetime import datetime

from ...core.sheets import SheetRefused, check_zip
from . import (
    HEADER,
    MAX_FILE_BYTES,
    RETURN_HEADER,
    TRAILER,
    BankFileError,
    BatchFile,
    Health,
    ReturnLine,
    parse_return_rows,
)


def _book(rows: list[list[str]]) -> bytes:
    """One sheet "拨付" of text cells (a fixed creation date, so the same rows give the same bytes)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    book.set_properties({"created": _EPOCH})
    sheet = book.add_worksheet("拨付")
    write = sheet.write_string
    for number, row in enumerate(rows):
        for column, value in enumerate(row):
            write(number, column, value)
    book.close()
    return out.getvalue()


_EPOCH = datetime(2000, 1, 1)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    from ...core.translation import gettext as _

    if len(data) > MAX_FILE_BYTES:
        raise BankFileError(_("The file is too large for a bank file."))
    try:
        check_zip(data)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SheetRefused as refused:
        raise BankFileError(refused.message) from None
    except Exception:  # openpyxl raises many kinds of error for a bad file
        raise BankFileError(_("The file is not an XLSX spreadsheet.")) from None
    try:
        sheet = book.worksheets[0]
        return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


class XlsxLayout:
    name = "xlsx"
    extension = "xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def write_batch(self, batch: BatchFile) -> bytes:
        rows: list[list[str]] = [list(HEADER)]
        rows += [[line.line_id, _text(line.payee_name), line.account, _text(line.bank), f"{line.amount:.2f}",
                  _text(line.purpose), line.account_type] for line in batch.lines]
        rows.append([TRAILER, str(len(batch.lines)), f"{batch.total:.2f}", batch.number, batch.created_on.isoformat(),
                     batch.checksum])
        return _book(rows)

    def read_batch(self, data: bytes) -> list[list[str]]:
        return _rows(data)

    def write_return(self, lines: list[ReturnLine], names: dict[str, tuple[str, str]]) -> bytes:
        rows: list[list[str]] = [list(RETURN_HEADER)]
        rows += [[x.line_id, *names.get(x.line_id, ("", "")), f"{x.amount:.2f}", "成功" if x.paid else "失败",
                  _text(x.reference), _text(x.reason)] for x in lines]
        rows.append([TRAILER, str(len(lines)), f"{sum(x.amount for x in lines):.2f}", "", "", "", ""])
        return _book(rows)

    def read_return(self, data: bytes) -> list[ReturnLine]:
        return parse_return_rows(_rows(data))

    def health(self) -> Health:
        try:
            import openpyxl  # noqa: F401
            import xlsxwriter  # noqa: F401
        except ImportError:
            return Health(False, "PORTAL_BANK_FILE_FORMAT=xlsx needs openpyxl and xlsxwriter installed")
        return Health(True, "XLSX bank files (xlsxwriter writes, openpyxl reads)")
