"""四川 SC07 参保人员电话号码新增和更改: the new number, proven by a code sent to it, becomes the phone on record and
the login; the old number then no longer reaches the account. Without the SMS check nothing changes."""

from __future__ import annotations

import pytest

from portal.accounts import operations as account_ops
from portal.applications import operations as ops
from portal.applications.constants import State
from portal.core.errors import ValidationFailed
from portal.insurance.models import phone_index
from portal.services import handler_for
from portal.services.effects import effect_of
from portal.services.record_changes import phone as phone_change
from tests.conftest import csrf_from
from tests.factories import last_code, mobile
from tests.services.remote_care_support import SYSTEM

SC07 = "SC07"


def _login(phone: str):
    """Log in with an SMS code as the pages do; the account the number reaches."""
    from portal.extensions import limiter

    limiter.reset()  # one code a minute per number: these logins follow each other at once
    issued = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.8")
    return account_ops.login_with_code(account_ops.CodeLogin(issued.code, handle=issued.handle), actor=SYSTEM,
                                       client_ip="127.0.0.8")


def _change_by_pages(browser, db_session, new: str, *, code: str | None = None):
    page = browser.get("/me/phone/")
    assert page.status_code == 200, page.get_data(as_text=True)
    sent = browser.post("/me/phone/", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": new})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    form = browser.get("/me/phone/code")
    return browser.post("/me/phone/code", data={"csrf_token": csrf_from(form.get_data(as_text=True)),
                                                "code": code or last_code(db_session, new)})


def test_the_new_number_logs_in_and_the_old_one_no_longer_does(region, citizen, browser_for, db_session):
    region("sichuan")
    old, new = citizen.phone, mobile()
    person_id = citizen.person_id
    browser = browser_for(citizen)
    done = _change_by_pages(browser, db_session, new)
    assert done.status_code == 302, done.get_data(as_text=True)
    db_session.expire_all()
    case = ops.applicant_cases(citizen)[0][0]
    assert case.item_code == SC07 and case.state == State.COMPLETED and effect_of(case) is not None
    assert citizen.person.phone == new and citizen.person.phone_index == phone_index(new)
    # the owner of the old number is told
    assert "was changed to" in _last_body(db_session, old)
    # the new number reaches the same account, bound to the same person; the old one only a new, empty account
    assert _login(new).id == citizen.id and _login(new).person_id == person_id
    stranger = _login(old)
    assert stranger.id != citizen.id and stranger.person_id is None


def _last_body(db_session, phone: str) -> str:
    from sqlalchemy import select

    from portal.accounts.models import SmsMessage

    return db_session.execute(select(SmsMessage.body).where(SmsMessage.phone_index == phone_index(phone))
                              .order_by(SmsMessage.id.desc())).scalars().first()


def test_a_wrong_code_changes_nothing(region, citizen, browser_for, db_session):
    region("sichuan")
    old, new = citizen.phone, mobile()
    browser = browser_for(citizen)
    response = _change_by_pages(browser, db_session, new, code="000000")
    right = last_code(db_session, new)
    if right == "000000":  # one in a million: the wrong code happened to be the right one
        pytest.skip("the random code was 000000")
    assert response.status_code == 401
    assert "The code is wrong" in response.get_data(as_text=True)
    db_session.expire_all()
    assert citizen.person.phone == old and _login(old).id == citizen.id
    assert ops.applicant_cases(citizen)[1] == 0  # no case was filed, not even a draft left behind


def test_filing_without_the_sms_check_is_refused(english, region, citizen, db_session, app):
    """Through the generic operations (as the API files): the form alone does not change the number."""
    region("sichuan")
    item = app.extensions["portal_catalog"].get(SC07)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    new = mobile()
    ops.save_draft(case, ops.DraftInput(form={"new_phone": new, "phone_check": "made-up"}), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert "has not been proven" in str(refused.value.reasons)
    # a code sent to another number proves nothing about this one
    issued = phone_change.request_code(citizen, mobile(), actor=SYSTEM, client_ip="127.0.0.8")
    phone_change.prove(issued.handle, issued.code, actor=SYSTEM, client_ip="127.0.0.8")
    ops.save_draft(case, ops.DraftInput(form={"new_phone": new, "phone_check": issued.handle}), by=citizen,
                   actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert citizen.person.phone != new


def test_revoking_puts_the_old_number_back(region, citizen, db_session, app):
    region("sichuan")
    old, new = citizen.phone, mobile()
    item = app.extensions["portal_catalog"].get(SC07)
    issued = phone_change.request_code(citizen, new, actor=SYSTEM, client_ip="127.0.0.8")
    proven = phone_change.prove(issued.handle, issued.code, actor=SYSTEM, client_ip="127.0.0.8")
    case = phone_change.file_change(citizen, item, proven, issued.handle, actor=SYSTEM)
    assert case.state == State.COMPLETED and citizen.phone == new
    handler_for(item).revoke_effect(case, "核查不实")
    db_session.flush()
    assert citizen.person.phone == old and citizen.phone == old and _login(old).id == citizen.id


def test_a_number_that_logs_in_elsewhere_cannot_be_taken(region, citizen, db_session):
    region("sichuan")
    taken = mobile()
    _login(taken)  # somebody's account already logs in with it
    with pytest.raises(ValidationFailed) as refused:
        phone_change.request_code(citizen, taken, actor=SYSTEM, client_ip="127.0.0.8")
    assert refused.value.reasons[0][0] == "phone"
