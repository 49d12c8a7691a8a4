"""Reading spreadsheets people upload (XLSX or CSV), defensively, and writing simple XLSX workbooks.

Reading never runs anything in the file: the size is capped before a parser sees it; an XLSX's ZIP directory is
checked (number of entries, declared sizes, compression ratio) so a ZIP bomb is refused before it is inflated; a
macro-enabled workbook (a VBA project inside) is refused outright; the first sheet is read with openpyxl in
read-only mode, and a formula is never evaluated — its cell is reported (``Sheet.formulas``) and its cached
result ignored. A CSV is read as UTF-8 (with or without BOM) or, failing that, GBK/GB 18030 (what Excel on a
Chinese Windows saves); ``Sheet.encoding`` says which. Every refusal is a ``SheetRefused`` whose message says
what to do, in the user's language.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from .errors import DomainError
from .translation import gettext as _

MAX_ENTRIES = 200
MAX_INFLATED = 200 * 1024 * 1024
MAX_RATIO = 200
MACRO_PARTS = ("vbaproject.bin", "vbaprojectsignature.bin")
MACRO_CONTENT_TYPE = b"macroenabled"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc, ... (the old binary Office files)


class SheetRefused(DomainError):
    """The file cannot be read as a spreadsheet of rows; the message says why and what to do."""

    code = "sheet_refused"
    status = 422


@dataclass
class Sheet:
    """The cells of a sheet as text (empty cells ""), row by row; ``formulas`` lists (row, column) of formula cells
    (both 1-based, as the spreadsheet numbers them)."""

    rows: list[list[str]]
    kind: str  # "xlsx" or "csv"
    encoding: str | None = None  # a CSV's: "utf-8" or "gbk"
    formulas: set[tuple[int, int]] = field(default_factory=set)
    number_cells: set[tuple[int, int]] = field(default_factory=set)  # cells typed as numbers (not text)


def check_zip(data: bytes, *, max_entries: int = MAX_ENTRIES, max_inflated: int = MAX_INFLATED,
              max_ratio: int = MAX_RATIO) -> list[zipfile.ZipInfo]:
    """The entries of the ZIP ``data`` after checking its directory; nothing is decompressed. Raises ``SheetRefused``
    for too many entries, too much inflated data or a compression ratio no spreadsheet has (a ZIP bomb), and
    ``zipfile.BadZipFile`` for something that is not a ZIP."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    inflated = sum(i.file_size for i in infos)
    if len(infos) > max_entries or inflated > max_inflated or any(
            i.compress_size and i.file_size / i.compress_size > max_ratio for i in infos) or any(
            not i.compress_size and i.file_size > 1024 for i in infos):
        raise SheetRefused(_("The file is not a plain spreadsheet (it unpacks to far more than its size)."))
    return infos


def read_sheet(data: bytes, *, max_bytes: int, max_rows: int, max_columns: int = 60) -> Sheet:
    """The first sheet of an XLSX, or a CSV, as rows of text. See the module's note for what is refused."""
    if not data:
        raise SheetRefused(_("The file is empty."))
    if len(data) > max_bytes:
        raise SheetRefused(_("The file is larger than %(mb)d MB; split the roster into several files.",
                             mb=max(1, max_bytes // (1024 * 1024))))
    if data.startswith(OLE2):
        raise SheetRefused(_("This is an old Excel file (.xls) or another Office document; save it as an Excel "
                             "workbook (.xlsx) or as CSV and upload that."))
    if data.startswith(b"PK"):
        return _read_xlsx(data, max_rows=max_rows, max_columns=max_columns)
    return _read_csv(data, max_rows=max_rows, max_columns=max_columns)


def _read_xlsx(data: bytes, *, max_rows: int, max_columns: int) -> Sheet:
    from openpyxl import load_workbook

    try:
        infos = check_zip(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in archive.namelist() else b""
    except SheetRefused:
        raise
    except Exception:  # a truncated or damaged ZIP
        raise SheetRefused(_("The file is not an Excel workbook (.xlsx) or a CSV file.")) from None
    names = {i.filename.lower().rsplit("/", 1)[-1] for i in infos}
    if names & set(MACRO_PARTS) or MACRO_CONTENT_TYPE in types.lower():
        raise SheetRefused(_("The workbook contains macros (.xlsm). Macros are never run here: save it as a plain "
                             "Excel workbook (.xlsx) and upload that."))
    if not any(i.filename.lower().startswith("xl/") for i in infos):
        raise SheetRefused(_("The file is not an Excel workbook (.xlsx) or a CSV file."))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds of error for a bad file
        raise SheetRefused(_("The file is not an Excel workbook (.xlsx) or a CSV file.")) from None
    try:
        sheet = book.worksheets[0]
        out = Sheet(rows=[], kind="xlsx")
        for r, row in enumerate(sheet.iter_rows(max_col=max_columns), start=1):
            if r > max_rows:
                raise SheetRefused(_("The file has more than %(n)d rows; split it into several files.", n=max_rows))
            values = []
            for c, cell in enumerate(row, start=1):
                kind = getattr(cell, "data_type", None)
                if kind == "f":
                    out.formulas.add((r, c))
                    values.append("")
                    continue
                if kind == "n" and cell.value is not None and not isinstance(cell.value, bool):
                    out.number_cells.add((r, c))
                values.append(_text(cell.value))
            out.rows.append(values)
        return out
    except SheetRefused:
        raise
    except Exception:
        raise SheetRefused(_("The file is not an Excel workbook (.xlsx) or a CSV file.")) from None
    finally:
        book.close()


def _text(value: object) -> str:
    """A cell value as the text a person reads in it: dates as 2026-05-01, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(Decimal(repr(value)), "f")
    return str(value).strip()


def _read_csv(data: bytes, *, max_rows: int, max_columns: int) -> Sheet:
    if b"\x00" in data[:4096]:
        raise SheetRefused(_("The file is not an Excel workbook (.xlsx) or a CSV file."))
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("gb18030"), "gbk"
        except UnicodeDecodeError:
            raise SheetRefused(_("The CSV file is neither UTF-8 nor GBK text; save it from Excel as “CSV UTF-8” "
                                 "and upload again.")) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for r, row in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            if r > max_rows:
                raise SheetRefused(_("The file has more than %(n)d rows; split it into several files.", n=max_rows))
            rows.append([cell.strip() for cell in row[:max_columns]])
    except csv.Error:
        raise SheetRefused(_("The CSV file cannot be read (a quote is not closed?); save it again from Excel."))\
            from None
    return Sheet(rows=rows, kind="csv", encoding=encoding)


def column_letter(number: int) -> str:
    """1 → A, 27 → AA: how a spreadsheet names its columns."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
