"""Attacks on the phone change (/me/phone/), the way to take over an account by making one's own number its login:
guessing the code sent to the new number, flooding a number with codes, and reusing the proof of a number for
another account."""

from __future__ import annotations

import pytest

from portal.applications import operations as ops
from portal.core.errors import ValidationFailed
from portal.extensions import limiter
from portal.services.record_changes import phone as phone_change
from tests.conftest import csrf_from
from tests.factories import last_code, mobile
from tests.services.remote_care_support import SYSTEM

SC07 = "SC07"


def _send(browser, new: str):
    page = browser.get("/me/phone/")
    return browser.post("/me/phone/", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": new})


def _type(browser, code: str):
    form = browser.get("/me/phone/code")
    return browser.post("/me/phone/code", data={"csrf_token": csrf_from(form.get_data(as_text=True)), "code": code})


def test_guessing_uses_up_the_code_so_the_right_one_no_longer_works(region, citizen, browser_for, db_session):
    region("sichuan")
    old, new = citizen.phone, mobile()
    browser = browser_for(citizen)
    assert _send(browser, new).status_code == 302
    right = last_code(db_session, new)
    wrong = "000000" if right != "000000" else "111111"
    for _attempt in range(5):
        assert _type(browser, wrong).status_code in (401, 429)
    limiter.reset()  # the per-IP limit aside: the code itself is spent
    refused = _type(browser, right)
    assert refused.status_code == 401 and "The code is wrong" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert citizen.person.phone == old and ops.applicant_cases(citizen)[1] == 0


def test_a_number_cannot_be_flooded_with_codes(region, citizen, browser_for, db_session):
    region("sichuan")
    new = mobile()
    browser = browser_for(citizen)
    assert _send(browser, new).status_code == 302
    again = _send(browser, new)
    assert again.status_code == 429, again.get_data(as_text=True)


def test_a_number_proven_through_one_account_cannot_be_filed_by_another(english, region, citizen, make_citizen,
                                                                         db_session, app):
    """The attacker proves their number through their own account (their code, their handle) and writes that
    handle into a filing of the victim's account through the generic operations (as with a stolen API token, where
    no code can be asked for): refused, and the victim's number stays."""
    region("sichuan")
    attacker = make_citizen()
    number = mobile()
    issued = phone_change.request_code(attacker, number, actor=SYSTEM, client_ip="127.0.0.9")
    phone_change.prove(issued.handle, issued.code, actor=SYSTEM, client_ip="127.0.0.9")
    before = citizen.person.phone
    case = ops.start_application(app.extensions["portal_catalog"].get(SC07), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form={"new_phone": number, "phone_check": issued.handle}), by=citizen,
                   actor=SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert "has not been proven" in str(refused.value.reasons)
    db_session.expire_all()
    assert citizen.person.phone == before and citizen.phone == before
    # the same handle still proves the number for the account that asked for it
    own = ops.start_application(app.extensions["portal_catalog"].get(SC07), by=attacker, actor=SYSTEM)
    ops.save_draft(own, ops.DraftInput(form={"new_phone": number, "phone_check": issued.handle}), by=attacker,
                   actor=SYSTEM)
    ops.submit_application(own, by=attacker, actor=SYSTEM)
    assert attacker.person.phone == number


def test_neither_number_nor_the_code_reaches_an_audit_row_or_a_log_line(region, citizen, browser_for, db_session,
                                                                        caplog):
    import logging

    from sqlalchemy import select

    from portal.core.audit import AuditEvent

    region("sichuan")
    old, new = citizen.phone, mobile()
    browser = browser_for(citizen)
    caplog.set_level(logging.DEBUG, logger="portal")
    assert _send(browser, new).status_code == 302
    code = last_code(db_session, new)
    assert _type(browser, code).status_code == 302
    db_session.expire_all()
    assert citizen.person.phone == new
    rows = db_session.execute(select(AuditEvent.action, AuditEvent.detail, AuditEvent.object_id)).all()
    assert any(action.startswith("phone_change.") for action, _d, _o in rows)
    for action, detail, object_id in rows:
        for secret in (old, new):
            assert secret not in (detail or "") and secret != object_id, action
    for record in caplog.records:
        text = record.getMessage()
        assert old not in text and new not in text and code not in text, record.name
