"""Progress lookup: the receipt's QR page (/q/<token>) and details by receipt number + ID digits + SMS code."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import SmsMessage
from portal.applications import deadlines, numbers
from portal.applications import operations as ops
from portal.applications.constants import Defect, MaterialMode, State
from portal.applications.progress import PublicProgress, Stage, StepStatus, mask_unit_name, steps_of
from portal.core import clock
from portal.core.db import db
from portal.core.masking import mask_name, mask_phone
from portal.extensions import limiter
from tests.conftest import csrf_from
from tests.factories import last_code

from .conftest import MONEY_ITEM, PROMISE_ITEM, SYSTEM, UNIT_ITEM

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
STAGE_RE = re.compile(r'data-stage="(\w+)" aria-current="step"')
NO_MATCH = "No case matches this receipt number"


@pytest.fixture(autouse=True)
def _sms_limit(app, monkeypatch):
    """The citizen fixture logs in by SMS a moment before; the lookup's code goes to the same phone."""
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_OTP_SEND_PHONE", "20/minute")


@pytest.fixture
def browser(make_client):
    return make_client()


def _sweep(text: str) -> None:
    """No 身份证-shaped or mobile-shaped number anywhere (S12)."""
    assert not ID_RE.search(text), ID_RE.search(text).group()
    assert not MOBILE_RE.search(text), MOBILE_RE.search(text).group()


def _stage(response) -> str:
    assert response.status_code == 200
    return STAGE_RE.search(response.get_data(as_text=True)).group(1)


def _lookup(browser, number: str, last4: str, **kwargs):
    token = csrf_from(browser.get("/q/lookup").get_data(as_text=True))
    return browser.post("/q/lookup", data={"csrf_token": token, "number": number, "id_last4": last4}, **kwargs)


def _enter_code(browser, code: str):
    token = csrf_from(browser.get("/q/lookup/code").get_data(as_text=True))
    return browser.post("/q/lookup/code", data={"csrf_token": token, "code": code})


def _grant(browser, db_session, case, last4: str, phone: str):
    response = _lookup(browser, case.number, last4)
    assert response.status_code == 302 and response.headers["Location"] == "/q/lookup/code"
    response = _enter_code(browser, last_code(db_session, phone))
    assert response.status_code == 302 and response.headers["Location"] == "/q/details"
    return response


def _sms_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(SmsMessage))


def _notice(case, by, note="请补交诊断书原件"):
    entry = ops.NoticeEntry(material="diagnosis", defect=Defect.MISSING, note=note)
    return ops.request_correction(case, ops.NoticeInput(entries=(entry,), note="病历首页一并提供"), by=by, actor=SYSTEM)


# --- the QR page ------------------------------------------------------------------------------------------


def test_qr_page_shows_masked_facts_and_nothing_personal(browser, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    token = ops.issue_progress_token(case)
    response = browser.get(f"/q/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert case.item_name in page and "Outpatient chronic disease benefit recognition" in page
    assert numbers.mask(case.number) in page and case.number not in page
    assert case.applicant_name == "王晓明" and "王*" in page and "王晓明" not in page
    assert _stage(response) == "application" and "Submitted, awaiting acceptance" in page
    assert citizen.person.id_number not in page and citizen.phone not in page
    _sweep(page)  # also catches the form's sample phone and ID values
    assert '<meta name="robots" content="noindex' in page
    assert 'href="/q/lookup"' in page


def test_qr_page_headers_keep_the_link_private(browser, citizen, make_case):
    token = ops.issue_progress_token(make_case(PROMISE_ITEM, citizen))
    for url in (f"/q/{token}", f"/q/{secrets.token_urlsafe(16)}", "/q/lookup"):
        response = browser.get(url)
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "noindex" in response.headers["X-Robots-Tag"], url


def test_unknown_revoked_and_expired_tokens_answer_the_same_404(browser, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    revoked = ops.issue_progress_token(case)
    ops.revoke_progress_tokens(case, actor=SYSTEM)
    expiring = ops.issue_progress_token(case)
    unknown = secrets.token_urlsafe(16)
    assert browser.get(f"/q/{expiring}").status_code == 200
    with clock.frozen(clock.now() + timedelta(days=ops.PROGRESS_TOKEN_DAYS, minutes=1)):
        answers = {}
        for name, token in (("unknown", unknown), ("revoked", revoked), ("expired", expiring)):
            assert ops.find_by_token(token) is None  # the page and the core agree
            response = browser.get(f"/q/{token}")
            # the page's language links point back to the address asked for; everything else is identical
            answers[name] = (response.status_code, response.get_data(as_text=True).replace(token, "TOKEN"))
    assert answers["unknown"][0] == 404
    assert answers["unknown"] == answers["revoked"] == answers["expired"]
    # not a dead end: the page says what may have happened and offers the lookup by receipt number
    page = answers["unknown"][1]
    assert 'id="qr-unknown"' in page and '<a class="button" href="/q/lookup" id="lookup-link">' in page


def test_qr_page_is_rate_limited_per_ip_and_globally(app, browser, monkeypatch, citizen, make_case):
    token = ops.issue_progress_token(make_case(PROMISE_ITEM, citizen))
    db.session.commit()  # a refused request rolls back what it has not committed, as in production
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_PROGRESS_IP", "3/minute")
    statuses = [browser.get(f"/q/{token}").status_code,
                browser.get(f"/q/{secrets.token_urlsafe(16)}").status_code,  # misses count too
                browser.get(f"/q/{token}").status_code]
    refused = browser.get(f"/q/{token}")
    assert statuses == [200, 404, 200] and refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert refused.headers["Referrer-Policy"] == "no-referrer"
    assert browser.get(f"/q/{token}", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200

    limiter.reset()
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_PROGRESS_IP", "100/minute")
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_PROGRESS_GLOBAL", "2/minute")
    statuses = [browser.get(f"/q/{token}", environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code
                for n in range(3)]
    assert statuses == [200, 200, 429]


def test_stage_follows_the_case_and_the_page_never_shows_notices(browser, citizen, staff, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    url = f"/q/{ops.issue_progress_token(case)}"
    assert _stage(browser.get(url)) == "application"
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    response = browser.get(url)
    assert _stage(response) == "acceptance"
    assert clock.to_local(case.accepted_at).date().isoformat()[:4] in response.get_data(as_text=True)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    assert _stage(browser.get(url)) == "review"

    _notice(case, staff["reviewer"], note="诊断书缺少医院盖章")
    response = browser.get(url)
    page = response.get_data(as_text=True)
    assert _stage(response) == "review" and "waiting for the applicant" in page and "paused" in page
    assert "诊断书缺少医院盖章" not in page and "病历首页一并提供" not in page and "诊断书" not in page

    ops.resubmit_application(case, ops.Resubmission(materials={"diagnosis": MaterialMode.AT_WINDOW.value}),
                             by=citizen, actor=SYSTEM)
    assert _stage(browser.get(url)) == "review"
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert _stage(browser.get(url)) == "review"
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    page = browser.get(url).get_data(as_text=True)
    assert STAGE_RE.search(page).group(1) == "completion" and "Completed" in page
    assert 'data-stage="payment"' not in page  # no payment step for an item that pays nothing
    ops.deliver_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert _stage(browser.get(url)) == "delivery"


def test_money_items_show_the_payment_step_and_refusals_hide_their_reason(browser, citizen, staff, make_case):
    money = make_case(MONEY_ITEM, citizen)
    page = browser.get(f"/q/{ops.issue_progress_token(money)}").get_data(as_text=True)
    assert 'data-stage="payment"' in page

    refused = make_case(PROMISE_ITEM, citizen)
    ops.refuse_application(refused, "不属于本机构受理范围X", by=staff["acceptor"], actor=SYSTEM)
    response = browser.get(f"/q/{ops.issue_progress_token(refused)}")
    page = response.get_data(as_text=True)
    assert _stage(response) == "acceptance" and 'class="step-stopped"' in page and "Not accepted" in page
    assert "不属于本机构受理范围X" not in page


def test_overdue_cases_say_so(browser, citizen, staff, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    url = f"/q/{ops.issue_progress_token(case)}"
    assert "Overdue" not in browser.get(url).get_data(as_text=True)
    with clock.frozen(clock.now() + timedelta(days=60)):
        assert "Overdue" in browser.get(url).get_data(as_text=True)


def test_unit_cases_show_the_unit_masked(browser, agent, make_case):
    case = make_case(UNIT_ITEM, agent)
    page = browser.get(f"/q/{ops.issue_progress_token(case)}").get_data(as_text=True)
    assert mask_unit_name("长春测试科技有限公司") == "长春****公司"
    assert "长春****公司" in page and "长春测试科技有限公司" not in page and "赵经办" not in page
    assert agent.unit.credit_code not in page
    _sweep(page)


# --- lookup by receipt number ------------------------------------------------------------------------------


def test_lookup_sends_a_code_and_the_code_opens_the_details(app, browser, db_session, citizen, staff, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    _notice(case, staff["acceptor"])
    before = _sms_count(db_session)
    response = _lookup(browser, case.number.lower(), citizen.person.id_number[-4:].lower())
    assert response.status_code == 302 and response.headers["Location"] == "/q/lookup/code"
    assert _sms_count(db_session) == before + 1
    code_page = browser.get("/q/lookup/code").get_data(as_text=True)
    assert mask_phone(citizen.phone) in code_page and citizen.phone not in code_page

    # the browser's session holds the code's handle and the case id, never the number or the phone (S14)
    cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    stored = str(app.session_interface.get_signing_serializer(app).loads(cookie))
    assert case.number not in stored and citizen.phone not in stored and "progress_pending" in stored

    response = _enter_code(browser, last_code(db_session, citizen.phone))
    assert response.status_code == 302 and response.headers["Location"] == "/q/details"
    response = browser.get("/q/details")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Referrer-Policy"] == "no-referrer"
    assert case.number in page and case.item_name in page and "Waiting for your corrections" in page
    for text in ("Submitted", "One-time notice of what is missing", "Staff (Acceptance)", "Applicant"):
        assert text in page, text
    assert "诊断书" in page and "请补交诊断书原件" in page and "病历首页一并提供" in page and "Missing" in page
    notice = case.open_notice
    assert str(notice.respond_by.year) in page and "Please supply everything listed by" in page
    assert mask_name(case.applicant_name) in page and mask_phone(citizen.phone) in page
    assert "Tacceptor" not in page  # staff by role, never by name
    assert citizen.person.id_number not in page
    _sweep(page)


def test_lookup_by_the_principal_of_a_filing_on_behalf(browser, db_session, citizen, make_case, catalog):
    from tests.factories import valid_id_number

    principal_id = valid_id_number(birth="19500101")
    case = make_case(PROMISE_ITEM, citizen, submit=False)
    item = catalog.get(PROMISE_ITEM)
    ops.save_draft(case, ops.DraftInput(form=case.form_data, materials={m.id: "at_window" for m in item.materials},
                                        principal=ops.Principal("李老太", principal_id, "parent")),
                   by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    before = _sms_count(db_session)
    assert NO_MATCH in _lookup(browser, case.number, citizen.person.id_number[-4:]).get_data(as_text=True)
    assert _sms_count(db_session) == before
    _grant(browser, db_session, case, principal_id[-4:], citizen.phone)
    page = browser.get("/q/details").get_data(as_text=True)
    assert case.number in page and principal_id not in page and "李老太" not in page
    _sweep(page)


def test_unit_lookup_uses_the_credit_code_and_the_agents_phone(browser, db_session, agent, make_case):
    case = make_case(UNIT_ITEM, agent)
    _grant(browser, db_session, case, agent.unit.credit_code[-4:], agent.phone)
    page = browser.get("/q/details").get_data(as_text=True)
    assert case.number in page and "长春****公司" in page and "赵经办" not in page
    _sweep(page)


def test_wrong_digits_and_wrong_number_get_the_same_answer_and_no_sms(browser, db_session, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    right = citizen.person.id_number[-4:]
    wrong_last4 = "0000" if right != "0000" else "1111"
    other_number = case.number[:-6] + ("ABCDEF" if case.number[-6:] != "ABCDEF" else "GHJKMN")
    before = _sms_count(db_session)
    answers = []
    for number, last4 in ((case.number, wrong_last4), (other_number, right)):
        response = _lookup(browser, number, last4)
        body = re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))
        answers.append((response.status_code, body))
        assert NO_MATCH in body and "Location" not in response.headers
    assert answers[0] == answers[1] and answers[0][0] == 422
    assert _sms_count(db_session) == before
    assert browser.get("/q/lookup/code").status_code == 302  # no code is awaited


def test_malformed_input_says_what_is_wrong(browser):
    response = _lookup(browser, "JL2026", "12")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "as printed on the receipt" in page and "last 4 characters" in page
    assert _lookup(browser, "", "").status_code == 422


def test_lookup_form_needs_its_csrf_token(browser):
    assert browser.post("/q/lookup", data={"number": "JL20260101ABCDEF", "id_last4": "1234"}).status_code == 400


def test_lookups_are_limited_per_number_and_per_ip(app, browser, db_session, monkeypatch, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    right = citizen.person.id_number[-4:]
    wrong = "0000" if right != "0000" else "1111"
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_LOOKUP_NUMBER", "2/10 minutes")
    statuses = [_lookup(browser, case.number, wrong, environ_base={"REMOTE_ADDR": f"10.0.2.{n}"}).status_code
                for n in range(3)]
    assert statuses == [422, 422, 429]
    before = _sms_count(db_session)
    locked = _lookup(browser, case.number, right, environ_base={"REMOTE_ADDR": "10.0.2.9"})
    assert locked.status_code == 429 and "Too many attempts" in locked.get_data(as_text=True)
    assert _sms_count(db_session) == before

    monkeypatch.setitem(app.config, "PORTAL_LIMIT_LOOKUP_IP", "2/10 minutes")
    other = numbers.new_number("jilin", clock.today())
    statuses = [_lookup(browser, other, wrong, environ_base={"REMOTE_ADDR": "10.0.3.1"}).status_code
                for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_wrong_codes_are_limited_like_login_codes(browser, db_session, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    assert _lookup(browser, case.number, citizen.person.id_number[-4:]).status_code == 302
    code = last_code(db_session, citizen.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = _enter_code(browser, wrong)
        assert response.status_code == 401 and "The code is wrong" in response.get_data(as_text=True)
    assert _enter_code(browser, code).status_code == 401  # the right code no longer works after 5 wrong ones
    assert browser.get("/q/details").status_code == 302


def test_the_grant_expires_and_stays_with_its_browser(browser, make_client, db_session, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    with clock.frozen(clock.now()) as frozen:
        _grant(browser, db_session, case, citizen.person.id_number[-4:], citizen.phone)
        assert browser.get("/q/details").status_code == 200

        stranger = make_client()
        response = stranger.get("/q/details")
        assert response.status_code == 302 and response.headers["Location"] == "/q/lookup"

        frozen.tick(timedelta(minutes=14))
        assert browser.get("/q/details").status_code == 200
        frozen.tick(timedelta(minutes=2))
        response = browser.get("/q/details")
        assert response.status_code == 302 and response.headers["Location"] == "/q/lookup"
        assert "Access to the details has ended" in browser.get("/q/lookup").get_data(as_text=True)


def test_code_page_without_a_lookup_goes_back_to_the_form(browser):
    response = browser.get("/q/lookup/code")
    assert response.status_code == 302 and response.headers["Location"] == "/q/lookup"


def test_nothing_personal_reaches_the_logs(caplog, browser, db_session, citizen, staff, make_case):
    caplog.set_level(logging.DEBUG)
    case = make_case(PROMISE_ITEM, citizen)
    token = ops.issue_progress_token(case)
    browser.get(f"/q/{token}")
    _lookup(browser, case.number, "0000" if citizen.person.id_number[-4:] != "0000" else "1111")
    _grant(browser, db_session, case, citizen.person.id_number[-4:], citizen.phone)
    code = last_code(db_session, citizen.phone)
    browser.get("/q/details")
    for secret in (case.number, citizen.phone, citizen.person.id_number, token, code):
        assert secret not in caplog.text


# --- the rules behind the page ------------------------------------------------------------------------------

S = State
SAMPLE = PublicProgress(
    item_name="医疗保险关系转移", item_name_en=None, masked_number="JL20260101****AB", masked_applicant="王*",
    state=S.ACCEPTED, steps=steps_of(S.ACCEPTED, is_money=False, is_accepted=True), is_waiting_for_corrections=False,
    is_paused=False, is_closed=False, submitted_at=None, accepted_at=None, completed_at=None, due_date=None,
    limit_wording="10个工作日",
)


@pytest.mark.parametrize(("state", "is_accepted", "current", "status"), [
    (S.SUBMITTED, False, "application", "current"),
    (S.CORRECTION_REQUESTED, False, "acceptance", "current"),
    (S.RESUBMITTED, False, "acceptance", "current"),
    (S.ACCEPTED, True, "acceptance", "current"),
    (S.UNDER_REVIEW, True, "review", "current"),
    (S.CORRECTION_REQUESTED, True, "review", "current"),
    (S.RESUBMITTED, True, "review", "current"),
    (S.APPROVED, True, "review", "current"),
    (S.PAYING, True, "payment", "current"),
    (S.COMPLETED, True, "completion", "current"),
    (S.DELIVERED, True, "delivery", "current"),
    (S.WITHDRAWN, False, "application", "stopped"),
    (S.NOT_ACCEPTED, False, "acceptance", "stopped"),
    (S.DENIED, True, "review", "stopped"),
])
def test_each_state_has_its_step(state, is_accepted, current, status):
    steps = steps_of(state, is_money=True, is_accepted=is_accepted)
    [here] = [s for s in steps if s.is_current]
    assert (here.stage.value, here.status.value) == (current, status)
    at = steps.index(here)
    assert all(s.status is StepStatus.DONE for s in steps[:at])
    after = {s.status for s in steps[at + 1:]}
    assert after <= ({StepStatus.SKIPPED} if status == "stopped" else {StepStatus.UPCOMING})


def test_the_payment_step_is_for_money_items_only():
    assert Stage.PAYMENT in {s.stage for s in steps_of(S.SUBMITTED, is_money=True, is_accepted=False)}
    assert Stage.PAYMENT not in {s.stage for s in steps_of(S.SUBMITTED, is_money=False, is_accepted=False)}


@pytest.mark.parametrize(("is_closed", "is_paused"), [(False, False), (True, False), (False, True)])
def test_the_pages_overdue_flag_agrees_with_the_deadline_rules(is_closed, is_paused):
    with clock.frozen(datetime(2026, 6, 10, 23, 59, 59)):  # one day, whatever the date of the run
        for offset in (-30, -1, 0, 1, 30):
            due = clock.today() + timedelta(days=offset)
            progress = replace(SAMPLE, due_date=due, is_closed=is_closed, is_paused=is_paused)
            expected = deadlines.flags(due, is_closed=is_closed, is_paused=is_paused)
            assert progress.is_overdue == expected.is_overdue == progress.flags.is_overdue, offset


@pytest.mark.parametrize(("name", "masked"), [
    ("长春测试科技有限公司", "长春****公司"), ("吉林药店", "吉*"), ("某厂", "某*"), ("厂", "*"), ("", ""), (None, ""),
])
def test_unit_names_are_masked(name, masked):
    assert mask_unit_name(name) == masked
