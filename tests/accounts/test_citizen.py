"""Citizens: SMS code login (code from the outbox), then real-name binding (S5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts import binding as binding_ops
from portal.accounts import operations
from portal.accounts.models import Account, OtpChallenge, SmsMessage
from portal.core import clock
from portal.core.audit import Actor, AuditEvent, actor_of
from tests.factories import mobile, valid_id_number


def _bind(client, get_csrf, name, id_number):
    token = get_csrf("/bind")
    return client.post("/bind", data={"csrf_token": token, "name": name, "id_number": id_number})


def test_citizen_logs_in_with_the_code_then_binds(client, db_session, citizen_login, get_csrf, make_person):
    phone = mobile()
    number = valid_id_number()
    person = make_person("王小明", number, phone=phone)  # the login phone is the phone on record
    response = citizen_login(phone)
    assert response.status_code == 302 and response.headers["Location"].endswith("/bind")
    account = db_session.execute(select(Account).where(Account.kind == "citizen")).scalar_one()
    assert account.person is None and account.phone == phone

    response = _bind(client, get_csrf, "王小明", number.lower())
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    db_session.refresh(account)
    assert account.person_id == person.id
    page = client.get("/me").get_data(as_text=True)
    assert "王*" in page and number not in page and phone not in page
    actions = set(db_session.execute(select(AuditEvent.action)).scalars())
    assert {"otp.sent", "login.ok", "bind.ok"} <= actions


def test_wrong_name_or_id_is_refused_with_a_clear_message(client, citizen_login, get_csrf, make_person,
                                                           db_session):
    number = valid_id_number()
    make_person("王小明", number)
    citizen_login(mobile())
    wrong_name = _bind(client, get_csrf, "王小红", number)
    assert wrong_name.status_code == 422
    text = wrong_name.get_data(as_text=True)
    assert "do not match" in text and "4 tries left" in text
    wrong_id = _bind(client, get_csrf, "王小明", valid_id_number())
    assert wrong_id.status_code == 422 and "3 tries left" in wrong_id.get_data(as_text=True)
    malformed = _bind(client, get_csrf, "王小明", "12345")
    assert malformed.status_code == 422 and "18 characters" in malformed.get_data(as_text=True)
    account = db_session.execute(select(Account).where(Account.kind == "citizen")).scalar_one()
    assert account.person_id is None


def test_binding_attempts_are_limited(client, citizen_login, get_csrf, make_person, db_session):
    number, phone = valid_id_number(), mobile()
    make_person("王小明", number, phone=phone)
    with clock.frozen(datetime(2025, 3, 3, 9, 0, tzinfo=UTC)) as frozen:
        citizen_login(phone)
        for _ in range(5):
            assert _bind(client, get_csrf, "李四", number).status_code == 422
        blocked = _bind(client, get_csrf, "王小明", number)  # even the right pair is refused now
        assert blocked.status_code == 429 and "24 hours" in blocked.get_data(as_text=True)
        frozen.tick(timedelta(hours=24, minutes=1))
        account = db_session.execute(select(Account).where(Account.kind == "citizen")).scalar_one()
        # the browser session has timed out by now; the operation shows the block has ended
        binding = binding_ops.bind_real_name(account, binding_ops.RealNameBinding("王小明", number),
                                             actor=actor_of(account))
        assert binding.status == "active" and account.person_id == binding.person_id


def test_a_second_account_of_another_phone_only_gets_a_pending_binding(client, citizen_login, get_csrf, make_person):
    number, phone = valid_id_number(), mobile()
    person = make_person("王小明", number, phone=phone)
    citizen_login(phone)
    assert _bind(client, get_csrf, "王小明", number).status_code == 302
    anonymous = Actor("anonymous")
    issued = operations.request_login_code(operations.CodeRequest(mobile()), actor=anonymous, client_ip="10.0.0.9")
    other = operations.login_with_code(operations.CodeLogin(code=issued.code, handle=issued.handle),
                                       actor=anonymous, client_ip="10.0.0.9")
    binding = binding_ops.bind_real_name(other, binding_ops.RealNameBinding("王小明", number), actor=anonymous)
    assert binding.status == "pending" and other.person_id is None
    assert person.id == binding.person_id


def test_a_code_works_once_and_expires(client, db_session, get_csrf, outbox_code):
    phone = mobile()
    with clock.frozen(datetime(2025, 3, 3, 9, 0, tzinfo=UTC)) as frozen:
        client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": phone})
        code = outbox_code(phone)
        frozen.tick(timedelta(seconds=301))
        expired = client.post("/login/code", data={"csrf_token": get_csrf("/login/code"), "code": code})
        assert expired.status_code == 401 and "expired" in expired.get_data(as_text=True)
    challenge = db_session.execute(select(OtpChallenge)).scalar_one()
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64


def test_the_code_page_counts_down_to_when_a_new_code_may_be_sent(client, get_csrf):
    """One code a minute per phone (PORTAL_LIMIT_OTP_SEND_PHONE): the "send a new code" link waits that long, the
    page saying how long (countdown.js counts it down; without it a hint says to wait a minute)."""
    with clock.frozen(datetime(2025, 3, 3, 9, 0, tzinfo=UTC)) as frozen:
        client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": mobile()})
        frozen.tick(timedelta(seconds=15))
        page = client.get("/login/code").get_data(as_text=True)
        assert '<p id="resend" data-wait="45"' in page and 'id="resend-wait"' in page
        assert 'data-waiting="You can ask for a new code in {s} seconds."' in page
        assert "js/countdown.js" in page
        frozen.tick(timedelta(seconds=50))
        page = client.get("/login/code").get_data(as_text=True)
        assert '<p id="resend" data-wait="0"' in page and 'id="resend-wait"' not in page
        assert 'id="resend-link"' in page


def test_wrong_codes_burn_the_challenge(client, db_session, get_csrf, outbox_code):
    phone = mobile()
    client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": phone})
    code = outbox_code(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = client.post("/login/code", data={"csrf_token": get_csrf("/login/code"), "code": wrong})
        assert response.status_code == 401
    response = client.post("/login/code", data={"csrf_token": get_csrf("/login/code"), "code": code})
    assert response.status_code == 401  # the right code no longer works after 5 wrong ones
    assert db_session.scalar(select(func.count()).select_from(Account)) == 0


def test_otp_sends_are_limited_per_phone_and_per_ip(client, db_session, get_csrf, app, monkeypatch):
    phone = mobile()
    first = client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": phone})
    assert first.status_code == 302
    again = client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": phone})
    assert again.status_code == 429 and "wait" in again.get_data(as_text=True)
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_OTP_SEND_IP", "3/hour")
    statuses = [client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": mobile()})
                .status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 4


def test_malformed_phone_gets_a_clear_message(client, get_csrf):
    for bad, expected in [("12345", "11 digits"), ("2391234567a", "only digits"), ("", "Enter the mobile number")]:
        response = client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": bad})
        assert response.status_code == 422
        assert expected in response.get_data(as_text=True)


def test_code_page_without_a_challenge_goes_back_to_login(client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_pages_are_chinese_by_default_and_refusals_never_500(app):
    browser = app.test_client()  # no language cookie
    for url in ("/login", "/login/citizen", "/login/agent", "/login/staff"):
        response = browser.get(url)
        assert response.status_code == 200
        assert 'lang="zh-Hans"' in response.get_data(as_text=True)
    html = browser.get("/login/citizen").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]
    refused = browser.post("/login/citizen", data={"csrf_token": token, "phone": "12345"})
    assert refused.status_code == 422 and 'class="error-summary"' in refused.get_data(as_text=True)


def test_a_code_sent_for_a_progress_lookup_never_logs_in(db_session):
    from portal.accounts import operations, otp
    from portal.accounts.models import OtpPurpose
    from portal.core.audit import Actor
    from portal.core.errors import AuthenticationFailed

    issued = otp.issue(OtpPurpose.PROGRESS_LOOKUP.value, mobile())
    with pytest.raises(AuthenticationFailed):
        operations.login_with_code(operations.CodeLogin(issued.code, handle=issued.handle),
                                   actor=Actor.system(), client_ip="127.0.0.7")
