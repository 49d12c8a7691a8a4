"""CSV bank files: UTF-8 with a BOM (Excel opens it with the Chinese intact), one header row, a trailer row."""

from __future__ import annotations

import csv
import io

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


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _rows(data: bytes) -> list[list[str]]:
    from ...core.translation import gettext as _

    if len(data) > MAX_FILE_BYTES:
        raise BankFileError(_("The file is too large for a bank file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # banks' own tools often write GBK
        except UnicodeDecodeError:
            raise BankFileError(_("The file is not text in UTF-8 or GB18030.")) from None
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise BankFileError(_("The file is not a CSV file.")) from None


class CsvLayout:
    name = "csv"
    extension = "csv"
    media_type = "text/csv; charset=utf-8"

    def write_batch(self, batch: BatchFile) -> bytes:
        rows = [list(HEADER)]
        rows += [[line.line_id, _safe(line.payee_name), _safe(line.account), _safe(line.bank), f"{line.amount:.2f}",
                  _safe(line.purpose), line.account_type] for line in batch.lines]
        rows.append([TRAILER, str(len(batch.lines)), f"{batch.total:.2f}", batch.number,
                     batch.created_on.isoformat(), batch.checksum])
        return _csv(rows)

    def read_batch(self, data: bytes) -> list[list[str]]:
        return _rows(data)

    def write_return(self, lines: list[ReturnLine], names: dict[str, tuple[str, str]]) -> bytes:
        rows = [list(RETURN_HEADER)]
        rows += [[x.line_id, *names.get(x.line_id, ("", "")), f"{x.amount:.2f}", "成功" if x.paid else "失败",
                  x.reference, x.reason] for x in lines]
        rows.append([TRAILER, str(len(lines)), f"{sum(x.amount for x in lines):.2f}", "", "", "", ""])
        return _csv(rows)

    def read_return(self, data: bytes) -> list[ReturnLine]:
        return parse_return_rows(_rows(data))

    def health(self) -> Health:
        return Health(True, "CSV bank files (UTF-8 with BOM)")
