"""Payment batches: the file finance sends the bank, the return file the bank sends back (through the bank port and
its local bank), all or nothing, count and total checked both ways; a failed line asks the claimant for another
account and the case stays open until the money is paid."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.core import clock
from portal.core.db import db
from portal.core.errors import ValidationFailed
from portal.integrations.bank import get_bank_files, local_bank
from portal.notifications.models import Notification
from portal.services.claims import batches
from portal.services.claims import operations as claims
from tests.services.claims.conftest import SYSTEM

OUTPATIENT = "G002036006001"
CARD = "6222020200112233446"


@pytest.fixture(params=["csv", "xlsx"])
def layout(request, app):
    saved = app.config.get("PORTAL_BANK_FILE_FORMAT", "csv")
    app.config["PORTAL_BANK_FILE_FORMAT"] = request.param
    yield get_bank_files()
    app.config["PORTAL_BANK_FILE_FORMAT"] = saved


def _paying(make_case, citizen, staff, number: str, total: str = "1000.00"):
    invoice = {"number": number, "issued_on": (clock.today() - timedelta(days=20)).isoformat(),
               "institution": "长春市中心医院", "visit_type": "门诊", "total": total}
    case = make_case(OUTPATIENT, citizen, form={"invoices": [invoice], "payee_account": CARD})
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    return case


def test_a_batch_file_lists_every_waiting_payment_with_count_total_and_checksum(layout, make_case, citizen, staff):
    first = _paying(make_case, citizen, staff, "B-1")
    second = _paying(make_case, citizen, staff, "B-2", total="2000.00")
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    assert (batch.line_count, batch.total) == (2, Decimal("720.00") + Decimal("1620.00"))
    data = batches.batch_file(batch, actor=SYSTEM)
    rows = layout.read_batch(data)
    assert rows[-1][5] == batch.checksum and len(batch.checksum) == 64  # the lines' SHA-256, in the trailer
    assert layout.read_batch(batches.batch_file(batch, actor=SYSTEM)) == rows  # the same lines on every download
    assert rows[0][:5] == ["行号", "收款人户名", "收款账号", "开户银行", "金额"]
    assert [r[2] for r in rows[1:3]] == [CARD, CARD] and rows[1][1] == citizen.person.name
    assert rows[-1][:3] == ["合计", "2", "2340.00"]
    assert {claims.claim_of(c).payment.state for c in (first, second)} == {"exported"}
    with pytest.raises(ValidationFailed):  # nothing waits any more
        batches.create_batch(by=staff["finance"], actor=SYSTEM)


def test_the_return_file_pays_and_completes_or_fails_and_asks_for_another_account(layout, make_case, citizen, staff):
    paid = _paying(make_case, citizen, staff, "R-1")
    failing = _paying(make_case, citizen, staff, "R-2")
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    failing_line = batches.line_id(claims.claim_of(failing).payment)
    answer = local_bank.answer(layout, batches.batch_file(batch, actor=SYSTEM), fail={failing_line: "账户已销户"})
    assert batches.import_return(batch, answer, by=staff["finance"], actor=SYSTEM) == \
        {"paid": 1, "failed": 1, "unfinished": []}
    assert paid.state == State.COMPLETED and "已支付 ¥720.00" in paid.result_text
    assert claims.claim_of(paid).payment.bank_reference.startswith("B")
    payment = claims.claim_of(failing).payments[-1]
    assert (payment.state, payment.failure_reason, failing.state) == ("failed", "账户已销户", State.PAYING)
    told = db.session.execute(select(Notification).where(Notification.application_id == failing.id,
                                                         Notification.event == "payment_failed")).scalar_one()
    assert told.context["reason"] == "账户已销户"
    with pytest.raises(Exception, match="already been imported"):
        batches.import_return(batch, answer, by=staff["finance"], actor=SYSTEM)
    # the claimant gives another account; the next batch pays it and the case completes
    with pytest.raises(ValidationFailed) as error:
        claims.correct_payee(failing, citizen.person.name, "中国银行", "6222020200112233445", by=citizen, actor=SYSTEM)
    assert "payee_account" in dict(error.value.reasons)
    claims.correct_payee(failing, citizen.person.name, "中国银行", "6217000010002000308", by=citizen, actor=SYSTEM)
    again = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    assert again.line_count == 1
    answer = local_bank.answer(layout, batches.batch_file(again, actor=SYSTEM))
    batches.import_return(again, answer, by=staff["finance"], actor=SYSTEM)
    assert failing.state == State.COMPLETED
    assert [p.state for p in claims.claim_of(failing).payments] == ["failed", "paid"]


def _tampered(layout, data: bytes, change) -> bytes:
    """The return file with ``change`` applied to its rows, written as the bank's tool would write it."""
    rows = change(layout.read_batch(data))
    if layout.name == "csv":
        import csv

        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return out.getvalue().encode()
    from portal.integrations.bank.xlsx_layout import _book

    return _book(rows)


@pytest.mark.parametrize("change", ["amount", "foreign_line", "trailer"])
def test_a_return_file_that_does_not_add_up_is_refused_whole(layout, make_case, citizen, staff, change):
    case = _paying(make_case, citizen, staff, f"T-{change}")
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    answer = local_bank.answer(layout, batches.batch_file(batch, actor=SYSTEM))

    def edit(rows):
        if change == "amount":  # a line and the trailer both say more than was sent
            rows[1][3], rows[-1][2] = "9720.00", "9720.00"
        elif change == "foreign_line":
            rows[1][0] = "P9999999999"
        else:  # a line cut off: the trailer no longer matches
            rows[-1][1] = "2"
        return rows

    with pytest.raises(ValidationFailed):
        batches.import_return(batch, _tampered(layout, answer, edit), by=staff["finance"], actor=SYSTEM)
    assert case.state == State.PAYING and claims.claim_of(case).payment.state == "exported"
    assert batch.returned_at is None


def test_an_xlsx_return_file_that_is_a_zip_bomb_is_refused_before_it_is_unpacked(app, make_case, citizen, staff):
    app.config["PORTAL_BANK_FILE_FORMAT"] = "xlsx"
    try:
        _paying(make_case, citizen, staff, "ZB-1")
        batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
        with pytest.raises(ValidationFailed) as error:
            batches.import_return(batch, bomb.getvalue(), by=staff["finance"], actor=SYSTEM)
        assert "unpacks to far more" in error.value.reasons[0][1]
        with pytest.raises(ValidationFailed):
            batches.import_return(batch, b"not a spreadsheet", by=staff["finance"], actor=SYSTEM)
    finally:
        app.config["PORTAL_BANK_FILE_FORMAT"] = "csv"


def test_a_csv_cell_that_looks_like_a_formula_is_written_as_text(app):
    from datetime import date

    from portal.integrations.bank import BatchFile, PaymentLine
    from portal.integrations.bank.csv_layout import CsvLayout

    data = CsvLayout().write_batch(BatchFile("PB1", date(2026, 6, 1), (
        PaymentLine("P1", "=HYPERLINK(1)", CARD, "@bank", Decimal("1.00"), "x"),)))
    assert b"'=HYPERLINK" in data and b"'@bank" in data


def test_an_xlsx_cell_that_looks_like_a_formula_is_written_as_text(app):
    from datetime import date

    from openpyxl import load_workbook

    from portal.integrations.bank import BatchFile, PaymentLine
    from portal.integrations.bank.xlsx_layout import XlsxLayout

    data = XlsxLayout().write_batch(BatchFile("PB1", date(2026, 6, 1), (
        PaymentLine("P1", "=HYPERLINK(1)", CARD, "+bank", Decimal("1.00"), "x"),)))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [(c.value, c.data_type) for c in sheet[2]][1:4] == [("=HYPERLINK(1)", "s"), (CARD, "s"), ("+bank", "s")]
    assert XlsxLayout().read_batch(data)[-1][:3] == ["合计", "1", "1.00"]
