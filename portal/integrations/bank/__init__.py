"""The port to the banks: payment batch files out (拨付批次), return files in (回盘).

There is no national format: banks take CSV or XLSX batches of lines (our line id, payee name, account, bank,
amount, purpose, account type: 对私 for a person, 对公 for an institution's settlement account) with a trailer of
count and total, and answer with a file of per-line results (paid with the bank's reference, or failed with the
reason) and the same trailer (INTEGRATIONS.md). The portal checks count and
total both ways: a return file whose lines do not add up to its trailer, or to the batch, is refused whole.

``get_bank_files()`` returns the layout ``PORTAL_BANK_FILE_FORMAT`` names: ``csv`` (UTF-8 with BOM, so Excel
opens it; ``csv_layout.py``) or ``xlsx`` (written with XlsxWriter, read with openpyxl; ``xlsx_layout.py``).
``local_bank.py`` plays the bank for development and tests: it reads a batch file as the bank would and writes its
return file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from flask import Flask, current_app

from ...core.errors import DomainError
from .. import Health

MAX_FILE_BYTES = 20 * 1024 * 1024  # a return file of 100,000 lines is well under this
MAX_LINES = 100_000
HEADER = ("行号", "收款人户名", "收款账号", "开户银行", "金额", "用途", "账户类型")
# 账户类型: a person's account, or an organisation's (a 定点医药机构's settlement account)
PERSONAL, CORPORATE = "对私", "对公"
# the trailer: 合计, count, total, batch number, date, SHA-256 of the lines
RETURN_HEADER = ("行号", "收款人户名", "收款账号", "金额", "结果", "银行流水号", "失败原因")
TRAILER = "合计"
PAID, FAILED = "成功", "失败"


class BankFileError(DomainError):
    """A bank file that cannot be read or does not add up; ``message`` says what, for finance."""

    code = "bank_file"
    status = 400


@dataclass(frozen=True)
class PaymentLine:
    line_id: str
    payee_name: str
    account: str
    bank: str
    amount: Decimal
    purpose: str
    account_type: str = PERSONAL


@dataclass(frozen=True)
class BatchFile:
    number: str
    created_on: date
    lines: tuple[PaymentLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def checksum(self) -> str:
        """SHA-256 of the lines (id, payee, account, bank, amount, purpose and, for a corporate account, its type),
        whatever the file layout: printed in the trailer and kept with the batch, so the bank and auditors can tell
        the lines were not changed. A personal line hashes as before the type existed (older batches still check)."""
        canonical = "\n".join("|".join((x.line_id, x.payee_name, x.account, x.bank, f"{x.amount:.2f}", x.purpose,
                                         *((x.account_type,) if x.account_type != PERSONAL else ())))
                               for x in self.lines)
        return hashlib.sha256(f"{self.number}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class ReturnLine:
    line_id: str
    amount: Decimal
    paid: bool
    reference: str
    reason: str


class BankFiles(Protocol):
    name: str
    extension: str
    media_type: str

    def write_batch(self, batch: BatchFile) -> bytes:
        """The batch file the bank takes: a header, one row per line, a trailer of count and total."""

    def read_batch(self, data: bytes) -> list[list[str]]:
        """The rows of a batch file (the local bank reads what we wrote)."""

    def write_return(self, lines: list[ReturnLine], names: dict[str, tuple[str, str]]) -> bytes:
        """A return file (the local bank writes it; ``names`` gives each line's payee name and account)."""

    def read_return(self, data: bytes) -> list[ReturnLine]:
        """The lines of a return file, its trailer checked; BankFileError when it cannot be read or does not add up."""

    def health(self) -> Health:
        """Whether this layout can work here (its library present); nothing is read or written."""


def check_trailer(lines: list[ReturnLine], count: Any, total: Any) -> None:
    """The trailer's count and total must be what the lines say."""
    from ...core.translation import gettext as _

    try:
        count_ok = int(str(count).strip()) == len(lines)
        total_ok = Decimal(str(total).strip().replace(",", "")) == sum((x.amount for x in lines), Decimal("0"))
    except (ValueError, ArithmeticError):
        count_ok = total_ok = False
    if not (count_ok and total_ok):
        raise BankFileError(_("The return file's trailer (count %(count)s, total %(total)s) does not match its "
                              "%(lines)d lines: the file is incomplete or altered.", count=count, total=total,
                              lines=len(lines)))


def parse_return_rows(rows: list[list[str]]) -> list[ReturnLine]:
    """Return-file rows (header, lines, trailer) into lines, every cell checked."""
    from ...core.translation import gettext as _

    if len(rows) > MAX_LINES + 2:
        raise BankFileError(_("The return file has too many lines."))
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    if len(rows) < 2 or tuple(str(c).strip() for c in rows[0][:len(RETURN_HEADER)]) != RETURN_HEADER:
        raise BankFileError(_("This is not a return file of the layout the agency uses (its first row should be "
                              "%(header)s).", header="、".join(RETURN_HEADER)))
    trailer = rows[-1]
    if str(trailer[0]).strip() != TRAILER or len(trailer) < 3:
        raise BankFileError(_("The return file has no trailer line (合计, count, total): it may be incomplete."))
    lines = []
    for number, row in enumerate(rows[1:-1], start=2):
        cells = [str(c).strip() for c in row] + [""] * len(RETURN_HEADER)
        try:
            amount = Decimal(cells[3].replace(",", ""))
        except ArithmeticError:
            amount = None
        if not cells[0] or amount is None or not amount.is_finite() or cells[4] not in (PAID, FAILED):
            raise BankFileError(_("Line %(n)d of the return file cannot be read.", n=number))
        lines.append(ReturnLine(cells[0], amount, cells[4] == PAID, cells[5][:64], cells[6][:200]))
    check_trailer(lines, trailer[1], trailer[2])
    return lines


def get_bank_files(app: Flask | None = None) -> BankFiles:
    """The layout ``PORTAL_BANK_FILE_FORMAT`` names."""
    app = app or current_app._get_current_object()
    name = app.config.get("PORTAL_BANK_FILE_FORMAT", "csv")
    if name == "csv":
        from .csv_layout import CsvLayout

        return CsvLayout()
    if name == "xlsx":
        from .xlsx_layout import XlsxLayout

        return XlsxLayout()
    raise RuntimeError(f"PORTAL_BANK_FILE_FORMAT={name!r} names no bank file layout (csv or xlsx)")
