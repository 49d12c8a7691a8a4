"""A batch line pays a person's account (对私) or an institution's settlement account (对公): the file says which,
and the checksum covers it, while a batch of people's lines checks as it did before the column existed."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from portal.integrations.bank import CORPORATE, HEADER, BatchFile, PaymentLine, get_bank_files, local_bank

PERSON = PaymentLine("P0000000001", "张伟明", "6222020200112233446", "中国工商银行", Decimal("720.00"),
                     "住院费用报销 1")
CLINIC = PaymentLine("P0000000002", "演示第一诊所", "22050161000100012345", "中国建设银行", Decimal("98500.00"),
                     "定点机构医保费用月结算 2", CORPORATE)


@pytest.fixture(params=["csv", "xlsx"])
def layout(request, app):
    saved = app.config.get("PORTAL_BANK_FILE_FORMAT", "csv")
    app.config["PORTAL_BANK_FILE_FORMAT"] = request.param
    with app.app_context():
        yield get_bank_files()
    app.config["PORTAL_BANK_FILE_FORMAT"] = saved


def test_each_line_says_its_account_type_and_the_local_bank_pays_both(layout):
    batch = BatchFile("PB20261207AAAAAA", date(2026, 12, 7), (PERSON, CLINIC))
    rows = layout.read_batch(layout.write_batch(batch))
    assert tuple(rows[0]) == HEADER and HEADER[-1] == "账户类型"
    assert [r[6] for r in rows[1:3]] == ["对私", "对公"]
    assert rows[-1][:3] == ["合计", "2", "99220.00"] and rows[-1][5] == batch.checksum
    answered = layout.read_return(local_bank.answer(layout, layout.write_batch(batch)))
    assert [(x.line_id, x.paid) for x in answered] == [("P0000000001", True), ("P0000000002", True)]


def test_the_checksum_covers_the_account_type_and_a_personal_batch_checks_as_before():
    old = hashlib.sha256(("PB1\n" + "|".join((PERSON.line_id, PERSON.payee_name, PERSON.account, PERSON.bank,
                                                "720.00", PERSON.purpose))).encode()).hexdigest()
    assert BatchFile("PB1", date(2026, 12, 7), (PERSON,)).checksum == old  # batches made before still check
    as_person = PaymentLine(*[getattr(CLINIC, f) for f in ("line_id", "payee_name", "account", "bank", "amount",
                                                           "purpose")])
    assert BatchFile("PB1", date(2026, 12, 7), (CLINIC,)).checksum != \
        BatchFile("PB1", date(2026, 12, 7), (as_person,)).checksum
