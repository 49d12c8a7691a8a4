"""CSV injection in the bank's payment file: every text cell a spreadsheet would run as a formula is written as text,
the account column too (a form that let anything but digits through must not turn the file into a formula)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from portal.integrations.bank import BatchFile, PaymentLine
from portal.integrations.bank.csv_layout import CsvLayout


@pytest.mark.parametrize("attack", ['=HYPERLINK("http://x","y")', "+1+2", "-3+4", "@SUM(A1)", "\t=1", "\r=1"])
def test_no_cell_of_the_payment_file_starts_a_formula(app, attack):
    data = CsvLayout().write_batch(BatchFile("PB1", date(2026, 6, 1), (
        PaymentLine("P1", attack, attack, attack, Decimal("1.00"), attack),)))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    line = rows[1]
    assert [line[1], line[2], line[3], line[5]] == ["'" + attack] * 4
