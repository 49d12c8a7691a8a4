"""A unit's first agent: online with the 电子营业执照 (a real local licence server), with a letter staff check, at
the window (staff screen and ``portal units agent add``); a unit not yet enrolled files its 单位参保登记 and
completing it makes the unit a registered one with the filer as its administrator."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from portal.accounts.models import Account, Role
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.applications.permissions import cannot_file
from portal.core.audit import Actor, AuditEvent
from portal.insurance.constants import UnitStatus
from portal.insurance.models import Unit
from portal.integrations.business_license.http import HttpLicenseService
from portal.integrations.business_license.local_server import LicenseServer
from portal.materials.models import MaterialFile
from portal.materials.operations import sweep_unclaimed
from portal.notifications.worker import deliver_due
from portal.organisations.models import OrgRegistration, ProofMethod
from tests.applications.conftest import sample_value
from tests.factories import mobile, valid_credit_code
from tests.materials.fixtures import pdf

SYSTEM = Actor.system()
REGISTRATION_ITEM = "G002036001001"  # 吉林 单位参保登记
OTHER_UNIT_ITEM = "J002036011001"  # 单位缴费基数申报(年度)
AGENT_ID = "220102198503151237"


@pytest.fixture
def license_server(app, monkeypatch):
    server = LicenseServer("portal-test", "s3cret-for-tests").start()
    monkeypatch.setitem(app.extensions, "portal_business_license",
                        HttpLicenseService(server.base_url, server.app_id, server.secret))
    yield server
    server.stop()


def _form(get_csrf, credit_code, **overrides):
    data = {"csrf_token": get_csrf("/units/register"), "credit_code": credit_code, "org_name": "长春新创科技有限公司",
            "legal_rep_name": "王法人", "agent_name": "李经办", "agent_id_number": AGENT_ID,
            "agent_phone": overrides.pop("agent_phone", None) or mobile(), "method": "business_license"}
    data.update(overrides)
    return data


def _holder_confirms(location: str, name: str, legal_rep: str, decision: str = "authorise") -> str:
    """The licence holder's answer on the licence service's page; returns where it sends the browser back."""
    page = requests.get(location, timeout=5)
    assert page.status_code == 200 and "电子营业执照" in page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)[1]
    back = requests.post(location.split("/authorize")[0] + "/authorize", allow_redirects=False, timeout=5,
                         data={"ticket": ticket, "name": name, "legal_rep_name": legal_rep, "decision": decision})
    assert back.status_code == 303
    return back.headers["Location"]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _license_link(response) -> str:
    """The page that sends the person on to the licence service: a link (the site's forms post to itself only)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return re.search(r'id="license-go" href="([^"]+)"', response.get_data(as_text=True))[1].replace("&amp;", "&")


def test_a_new_unit_registers_its_first_agent_with_the_business_license(client, get_csrf, db_session,
                                                                        license_server):
    code = valid_credit_code()
    link = _license_link(client.post("/units/register", data=_form(get_csrf, code)))
    assert link.startswith(license_server.base_url)
    registration = db_session.execute(select(OrgRegistration)).scalar_one()
    assert registration.status == "awaiting_license" and registration.agent_id_number == AGENT_ID

    back = _holder_confirms(link, "长春新创科技有限公司", "王法人")
    response = client.get(_path(back))
    assert response.status_code == 302 and response.headers["Location"].endswith("/units/register/done")
    page = client.get("/units/register/done").get_data(as_text=True)
    assert code in page and "/login/agent" in page

    unit = db_session.execute(select(Unit).where(Unit.credit_code == code)).scalar_one()
    assert unit.status is UnitStatus.PENDING and unit.name == "长春新创科技有限公司" and unit.legal_rep_name == "王法人"
    agent = db_session.get(Account, registration.account_id)
    assert agent.unit_id == unit.id and agent.is_unit_admin and agent.is_active
    assert agent.mandate.proof == ProofMethod.BUSINESS_LICENSE and agent.mandate.id_number == AGENT_ID
    actions = set(db_session.execute(select(AuditEvent.action)).scalars())
    assert {"registration.started", "registration.approved", "agent.added", "unit.registering"} <= actions
    assert license_server.seen == ["/authorizations", "/authorizations/result"]


def test_a_license_of_other_data_or_a_refusal_makes_no_agent(client, get_csrf, db_session, license_server):
    link = _license_link(client.post("/units/register", data=_form(get_csrf, valid_credit_code())))
    back = _holder_confirms(link, "长春新创科技有限公司", "别人")
    response = client.get(_path(back))
    assert response.status_code == 422
    assert "legal representative differs" in response.get_data(as_text=True)
    registration = db_session.execute(select(OrgRegistration)).scalar_one()
    assert registration.status == "refused" and registration.account_id is None
    assert db_session.execute(select(Unit)).first() is None

    link = _license_link(client.post("/units/register", data=_form(get_csrf, valid_credit_code())))
    back = _holder_confirms(link, "x", "y", decision="refuse")
    response = client.get(_path(back))
    assert response.status_code == 422 and "refused the authorisation" in response.get_data(as_text=True)
    assert db_session.execute(select(Account).where(Account.kind == "agent")).first() is None


def test_another_browser_cannot_finish_a_registration(client, get_csrf, make_client, license_server):
    link = _license_link(client.post("/units/register", data=_form(get_csrf, valid_credit_code())))
    back = _holder_confirms(link, "长春新创科技有限公司", "王法人")
    assert make_client().get(_path(back)).status_code == 404


def test_bad_input_is_shown_at_its_field_and_nothing_is_saved(client, get_csrf, db_session, license_server):
    code = valid_credit_code()
    bad_code = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.post("/units/register", data=_form(get_csrf, bad_code, agent_id_number="220102198503151230",
                                                          agent_phone="12345"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "does not match the others" in page and "wrong check digit" in page and "11 digits" in page
    assert 'value="长春新创科技有限公司"' in page  # what was typed is kept
    assert db_session.execute(select(OrgRegistration)).first() is None
    assert license_server.seen == []


def test_a_unit_with_an_administrator_is_told_to_ask_them(client, get_csrf, make_unit, make_first_agent,
                                                          license_server):
    unit = make_unit()
    make_first_agent(unit)
    response = client.post("/units/register", data=_form(get_csrf, unit.credit_code))
    assert response.status_code == 422
    assert "already has its administrator" in response.get_data(as_text=True)
    assert license_server.seen == []


def _staff_client(make_client, make_staff, db_session, role):
    from portal.accounts import passwords
    from portal.core import clock
    from tests.conftest import csrf_from
    from tests.factories import STAFF_PASSWORD

    account, secret = make_staff(f"reg{role.value}", roles={role})
    browser = make_client()
    token = csrf_from(browser.get("/login/staff").get_data(as_text=True))
    response = browser.post("/login/staff", data={"csrf_token": token, "username": account.username,
                                                  "password": STAFF_PASSWORD,
                                                  "totp": passwords.current_totp(secret, clock.now())})
    assert response.status_code == 302
    return browser, account


def test_a_letter_of_authorisation_is_checked_and_approved_by_staff(client, get_csrf, db_session, make_client,
                                                                     make_staff):
    from tests.conftest import csrf_from

    code = valid_credit_code()
    data = _form(get_csrf, code, method="letter")
    data["letter"] = (__import__("io").BytesIO(pdf()), "授权委托书.pdf")
    response = client.post("/units/register", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Staff check it" in client.get("/units/register/done").get_data(as_text=True)
    registration = db_session.execute(select(OrgRegistration)).scalar_one()
    assert registration.status == "awaiting_review" and registration.letter_file_id is not None
    # the letter is kept by its registration, not swept as a file of no case
    from datetime import timedelta

    from portal.core import clock
    sweep_unclaimed(now=clock.now() + timedelta(days=3))
    assert db_session.get(MaterialFile, registration.letter_file_id) is not None

    staff, _acceptor = _staff_client(make_client, make_staff, db_session, Role.ACCEPTOR)
    index = staff.get("/staff/registrations/").get_data(as_text=True)
    assert "长春新创科技有限公司" in index
    page = staff.get(f"/staff/registrations/{registration.id}").get_data(as_text=True)
    assert AGENT_ID in page  # staff compare the full number with the letter
    assert f"/staff/registrations/{registration.id}/letter?inline=1" in page  # opened in the browser, asked for
    letter = staff.get(f"/staff/registrations/{registration.id}/letter?inline=1")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")
    # an uploaded file, served as every case material (S10): shown only when asked and a safe type, in a sandbox
    assert letter.headers["Content-Disposition"].startswith("inline;")
    assert "sandbox" in letter.headers.getlist("Content-Security-Policy")
    assert letter.headers["X-Content-Type-Options"] == "nosniff" and letter.headers["Cache-Control"] == "no-store"
    saved = staff.get(f"/staff/registrations/{registration.id}/letter")
    assert saved.status_code == 200 and saved.headers["Content-Disposition"].startswith("attachment;")
    response = staff.post(f"/staff/registrations/{registration.id}/approve", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    agent = db_session.get(Account, registration.account_id)
    assert agent.is_unit_admin and agent.mandate.proof == ProofMethod.LETTER
    assert agent.unit.status is UnitStatus.PENDING
    views = db_session.execute(select(AuditEvent).where(AuditEvent.action.in_(
        ["registration.opened", "material.view", "registration.approved"]))).scalars().all()
    assert {v.action for v in views} == {"registration.opened", "material.view", "registration.approved"}
    # the registrant hears of it: an inbox message and an SMS, which the notifications worker sends
    assert _texts(db_session, data["agent_phone"]) == []
    deliver_due()
    texts = _texts(db_session, data["agent_phone"])
    assert len(texts) == 1 and "长春新创科技有限公司" in texts[0] and "授权委托书已审核通过" in texts[0]


def test_a_refused_letter_needs_a_reason_and_makes_no_agent(client, get_csrf, db_session, make_client, make_staff):
    from tests.conftest import csrf_from

    data = _form(get_csrf, valid_credit_code(), method="letter")
    data["letter"] = (__import__("io").BytesIO(pdf()), "letter.pdf")
    client.post("/units/register", data=data, content_type="multipart/form-data")
    registration = db_session.execute(select(OrgRegistration)).scalar_one()
    staff, _ = _staff_client(make_client, make_staff, db_session, Role.CHIEF)
    page = staff.get(f"/staff/registrations/{registration.id}").get_data(as_text=True)
    staff.post(f"/staff/registrations/{registration.id}/refuse", data={"csrf_token": csrf_from(page), "reason": ""})
    assert registration.status == "awaiting_review"
    assert _texts(db_session, data["agent_phone"]) == []  # nothing decided, nothing sent
    staff.post(f"/staff/registrations/{registration.id}/refuse",
               data={"csrf_token": csrf_from(page), "reason": "委托书未加盖单位公章"})
    db_session.refresh(registration)
    assert registration.status == "refused" and registration.decision_reason == "委托书未加盖单位公章"
    assert db_session.execute(select(Account).where(Account.kind == "agent")).first() is None
    # no account to hold an inbox message: an SMS in Chinese with the reason, in the decision's transaction
    assert _texts(db_session, data["agent_phone"]) == [
        "【单位经办人注册未通过】您作为长春新创科技有限公司经办人的注册未通过。原因：委托书未加盖单位公章。"
        "您可以提交更正后的授权委托书重新注册，或到服务窗口办理。"]


def _texts(db_session, phone: str) -> list[str]:
    from portal.accounts.models import SmsMessage
    from portal.insurance.models import phone_index

    return [m.body for m in db_session.execute(select(SmsMessage).where(SmsMessage.phone_index == phone_index(phone))
                                               .order_by(SmsMessage.id)).scalars()]


def test_a_letter_that_is_not_a_document_is_refused_at_its_field(client, get_csrf, db_session):
    data = _form(get_csrf, valid_credit_code(), method="letter")
    data["letter"] = (__import__("io").BytesIO(b"MZ\x90\x00 not a pdf"), "letter.pdf")
    response = client.post("/units/register", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert db_session.execute(select(OrgRegistration)).first() is None
    missing = _form(get_csrf, valid_credit_code(), method="letter")
    response = client.post("/units/register", data=missing, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the signed letter" in response.get_data(as_text=True)


def test_the_window_command_makes_the_first_agent(app, db_session):
    code, phone = valid_credit_code(), mobile()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "units", "agent", "add", "--credit-code", code, "--unit-name", "窗口单位",
                                 "--legal-rep", "赵法人", "--name", "钱经办", "--id-number", AGENT_ID,
                                 "--phone", phone])
    assert result.exit_code == 0, result.output
    assert "pending" in result.output and phone not in result.output
    agent = db_session.execute(select(Account).where(Account.kind == "agent")).scalar_one()
    assert agent.is_unit_admin and agent.mandate.proof == ProofMethod.WINDOW
    again = runner.invoke(args=["portal", "units", "agent", "add", "--credit-code", code, "--unit-name", "窗口单位",
                                "--legal-rep", "赵法人", "--name", "孙经办", "--id-number", AGENT_ID,
                                "--phone", mobile()])
    assert again.exit_code == 1 and "already has its administrator" in again.output


def test_a_registering_unit_files_its_enrolment_first_and_completing_it_makes_the_unit(app, db_session, make_staff):
    from portal.organisations import registration as reg_ops

    code = valid_credit_code()
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        agent = reg_ops.register_at_window(
            reg_ops.FirstAgentRequest(code, "新设单位有限公司", "周法人", "吴经办", AGENT_ID, mobile()),
            by=None, actor=SYSTEM)
        catalog = app.extensions["portal_catalog"]
        assert cannot_file(agent, catalog.get(OTHER_UNIT_ITEM)) and "not enrolled yet" in \
            cannot_file(agent, catalog.get(OTHER_UNIT_ITEM))
        item = catalog.get(REGISTRATION_ITEM)
        assert cannot_file(agent, item) is None
        case = ops.start_application(item, by=agent, actor=SYSTEM)
        data = dict(case.form_data)
        assert data.get("credit_code") == code  # prefilled and locked from the registering unit
        for spec in ops.specs_for(case, item):
            if spec.required and spec.key not in data:
                data[spec.key] = sample_value(spec)
        materials = {m.id: MaterialMode.AT_WINDOW.value for m in item.materials}
        ops.save_draft(case, ops.DraftInput(form=data, materials=materials), by=agent, actor=SYSTEM)
        ops.submit_application(case, by=agent, actor=SYSTEM)
        chief, _secret = make_staff("unitreg", roles={Role.CHIEF})
        assert agent.unit.status is UnitStatus.PENDING
        ops.accept_application(case, by=chief, actor=SYSTEM)
        ops.start_review(case, by=chief, actor=SYSTEM)
        ops.approve_application(case, by=chief, actor=SYSTEM)
        ops.complete_application(case, by=chief, actor=SYSTEM)
        unit = agent.unit
        assert case.state == "completed" and unit.status is UnitStatus.ACTIVE
        assert agent.is_unit_admin
        assert cannot_file(agent, catalog.get(OTHER_UNIT_ITEM)) is None


def test_an_unreachable_licence_service_is_said_plainly_and_saves_nothing(app, client, get_csrf, db_session,
                                                                          monkeypatch):
    from tests.servers import free_port

    down = HttpLicenseService(f"http://127.0.0.1:{free_port()}", "portal-test", "secret", timeout=(1, 1))
    monkeypatch.setitem(app.extensions, "portal_business_license", down)
    response = client.post("/units/register", data=_form(get_csrf, valid_credit_code()))
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "cannot be reached right now" in page and 'value="长春新创科技有限公司"' in page
    assert db_session.execute(select(OrgRegistration)).first() is None
    assert not down.health().ok


def test_the_licence_adapter_speaks_the_protocol_and_checks_signatures(license_server):
    from portal.integrations.business_license import AuthorisationRequest, LicenseServiceError

    service = HttpLicenseService(license_server.base_url, license_server.app_id, license_server.secret)
    assert service.health().ok
    started = service.start(AuthorisationRequest("91220100MA17DEM55F", "李经办", AGENT_ID, "http://x/back"))
    assert service.result(started.ticket).status == "pending"
    _holder_confirms(started.authorize_url, "长春华宇信息技术有限公司", "王法人")
    outcome = service.result(started.ticket)
    assert outcome.status == "authorised" and outcome.license.name == "长春华宇信息技术有限公司"
    assert outcome.grantee_id_number == AGENT_ID
    with pytest.raises(LicenseServiceError) as used:
        service.result(started.ticket)  # a final answer is given once
    assert used.value.kind == "invalid_token"
    forged = HttpLicenseService(license_server.base_url, license_server.app_id, "wrong-secret")
    with pytest.raises(LicenseServiceError) as refused:
        forged.start(AuthorisationRequest("91220100MA17DEM55F", "李经办", AGENT_ID, "http://x/back"))
    assert refused.value.kind == "unavailable"
