"""Attacks on the 转移接续 messages from the national platform: a message about a transfer counts only when it comes
from the area the transfer is with. Another node that learnt a transfer id (it travels in every message) cannot
close the sending area's case (which ends the person's enrolment), feed the receiving area a 信息表 or funds, or
reject the letter."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest

from portal.core import clock
from portal.core.db import db
from portal.core.errors import NotFound
from portal.insurance.models import id_number_index
from portal.services.transfer import operations as transfer
from portal.services.transfer.models import Side, TransferCase, TransferState

PARTNER, STRANGER = "231025", "110105"
ID_NUMBER = "220102199001011234"


def _case(side: Side, state: TransferState) -> TransferCase:
    case = TransferCase(transfer_id="a" * 32, side=side.value, state=state.value, region="jilin",
                        other_area=PARTNER, other_area_name="林口县", person_name="赵建华", id_number=ID_NUMBER,
                        id_number_index=id_number_index(ID_NUMBER), insurance_type="职工医保",
                        letter_number="吉医保转联〔2026〕1号", letter_on=clock.today())
    db.session.add(case)
    db.session.flush()
    return case


def _from(sender: str) -> SimpleNamespace:
    return SimpleNamespace(sender=sender, message_id="m" * 32)


SHEET = {"transfer_id": "a" * 32, "letter_number": "x", "sheet_number": "吉医保转信〔2026〕1号", "periods": [],
         "contribution_months": 95, "account_balance": "99999.00", "issued_on": "2026-12-01"}
FUNDS = {"transfer_id": "a" * 32, "sheet_number": "s", "amount": "99999.00", "transferred_on": "2026-12-01",
         "reference": "ZYFORGED"}
REJECTION = {"transfer_id": "a" * 32, "letter_number": "x", "reason_code": "other", "reason": "伪造的退回"}


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(datetime(2026, 12, 1, 10)):
        yield


@pytest.mark.parametrize(("handler", "body"), [
    (transfer.receive_information_sheet, SHEET),
    (transfer.receive_funds, FUNDS),
    (transfer.receive_rejection, REJECTION),
], ids=["information_sheet", "fund_transfer", "contact_letter_rejection"])
def test_a_third_area_cannot_answer_a_letter_it_did_not_receive(app, handler, body):
    case = _case(Side.IN, TransferState.LETTER_SENT)
    with pytest.raises(NotFound):
        handler(_from(STRANGER), body)
    db.session.refresh(case)
    assert (case.state, case.sheet_on, case.funds_on, case.funds_amount, case.rejected_on) == (
        TransferState.LETTER_SENT.value, None, None, None, None)
    handler(_from(PARTNER), body)  # the area the letter went to: believed
    assert case.state != TransferState.LETTER_SENT.value


def test_a_third_area_cannot_close_the_sending_areas_case(app):
    case = _case(Side.OUT, TransferState.SHEET_SENT)
    body = {"transfer_id": case.transfer_id, "completed_on": "2026-12-01"}
    with pytest.raises(NotFound):
        transfer.receive_completion(_from(STRANGER), body)
    db.session.refresh(case)
    assert (case.state, case.completed_on) == (TransferState.SHEET_SENT.value, None)
    transfer.receive_completion(_from(PARTNER), body)
    assert case.state == TransferState.CLOSED.value
