"""定点医药机构 as the third kind of organisation (issue 23): the register, a first agent registered online
(电子营业执照 or 授权委托书), at the window and by ``portal institutions agent add``; the agent logs in by the
credit code or the 医保机构编码 and files the institution's items only; a unit's agent and a citizen cannot file
them (web and API)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts import operations
from portal.accounts.models import Account
from portal.applications import operations as ops
from portal.applications.permissions import cannot_file, filing_audience
from portal.core.audit import Actor
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.organisations.institutions import check_institution_code, institution_by_code
from portal.organisations.models import Institution, InstitutionEvent, OrgRegistration, ProofMethod
from portal.organisations.registration import FirstAgentRequest, register_at_window
from tests.factories import institution_code, mobile, valid_credit_code
from tests.organisations.test_registration import _holder_confirms, _license_link, _path

SYSTEM = Actor.system()
AGREEMENT_ITEM = "G002036009001"  # 吉林 医疗机构申请定点协议管理
UNIT_ITEM = "J002036011001"  # 吉林 单位缴费基数申报(年度)
AGENT_ID = "220102198503151237"


def _form(get_csrf, credit_code, **overrides):
    data = {"csrf_token": get_csrf("/units/register?org=institution"), "org_kind": "institution",
            "credit_code": credit_code, "org_name": "长春新创诊所", "institution_kind": "medical",
            "institution_code": "", "legal_rep_name": "王法人", "agent_name": "李经办", "agent_id_number": AGENT_ID,
            "agent_phone": mobile(), "method": "business_license"}
    data.update(overrides)
    return data


def test_the_national_code_is_checked_for_shape_and_kind():
    assert check_institution_code(" h22010200001 ") == "H22010200001"
    assert check_institution_code("P22010200001", "pharmacy") == "P22010200001"
    for bad in ("H2201020000", "X22010200001", "H2201020000A", ""):
        with pytest.raises(ValidationFailed):
            check_institution_code(bad)
    with pytest.raises(ValidationFailed, match="Retail pharmacy"):
        check_institution_code("P22010200001", "medical")


def test_a_new_clinic_registers_its_first_agent_online_and_is_entered_not_designated(
        client, get_csrf, db_session, license_server):
    code = valid_credit_code()
    page = client.get("/units/register?org=institution").get_data(as_text=True)
    assert "Register your institution's agent" in page and 'name="institution_code"' in page
    link = _license_link(client.post("/units/register", data=_form(get_csrf, code)))
    back = _holder_confirms(link, "长春新创诊所", "王法人")
    assert client.get(_path(back)).status_code == 302
    done = client.get("/units/register/done").get_data(as_text=True)
    assert "/login/agent?org=institution" in done

    institution = db_session.execute(select(Institution).where(Institution.credit_code == code)).scalar_one()
    assert (institution.name, institution.kind, institution.agreement_status, institution.code) == (
        "长春新创诊所", "medical", "none", None)
    assert institution.region == "jilin" and not institution.listed
    registration = db_session.execute(select(OrgRegistration)).scalar_one()
    assert registration.org_kind == "institution" and registration.institution_id == institution.id
    assert registration.unit_id is None
    agent = db_session.get(Account, registration.account_id)
    assert agent.institution_id == institution.id and agent.unit_id is None and agent.is_unit_admin
    assert agent.mandate.org_kind == "institution" and agent.mandate.proof == ProofMethod.BUSINESS_LICENSE
    assert [e.kind for e in institution.events] == ["registered"]


def test_a_wrong_national_code_or_a_missing_kind_is_shown_at_its_field(client, get_csrf, db_session,
                                                                        license_server):
    response = client.post("/units/register", data=_form(get_csrf, valid_credit_code(), institution_kind="",
                                                          institution_code="H123"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "medical institution or a retail pharmacy" in page and "12 characters" in page
    response = client.post("/units/register", data=_form(get_csrf, valid_credit_code(),
                                                          institution_code="P22010200001"))
    assert response.status_code == 422 and "This code is of a Retail pharmacy" in response.get_data(as_text=True)
    assert db_session.execute(select(OrgRegistration)).first() is None
    assert db_session.execute(select(Institution)).first() is None
    assert license_server.seen == []


def test_staff_register_an_institution_agent_at_the_window_for_a_known_institution(db_session, make_institution):
    institution = make_institution()
    agent = register_at_window(FirstAgentRequest(
        institution.credit_code, institution.name, "赵院长", "钱经办", AGENT_ID, mobile(), org_kind="institution",
        institution_kind="medical", institution_code=institution.code), by=None, actor=SYSTEM)
    assert agent.institution_id == institution.id and agent.mandate.proof == ProofMethod.WINDOW
    assert db_session.execute(select(Institution)).scalars().all() == [institution]  # not a second one
    with pytest.raises(ValidationFailed, match="already has its administrator"):
        register_at_window(FirstAgentRequest(
            institution.credit_code, institution.name, "赵院长", "孙经办", AGENT_ID, mobile(),
            org_kind="institution", institution_kind="medical"), by=None, actor=SYSTEM)


def test_the_window_command_registers_an_institution_agent(app, db_session):
    code, national = valid_credit_code(), institution_code("pharmacy")
    result = app.test_cli_runner().invoke(args=["portal",
        "institutions", "agent", "add", "--credit-code", code, "--name", "长春示范大药房", "--kind", "pharmacy",
        "--code", national, "--legal-rep", "周店长", "--agent-name", "吴经办", "--phone", mobile()],
        input=AGENT_ID + "\n")
    assert result.exit_code == 0, result.output
    assert "长春示范大药房" in result.output and national in result.output
    institution = institution_by_code(national)
    assert institution is not None and institution.credit_code == code and institution.kind == "pharmacy"
    bad = app.test_cli_runner().invoke(args=["portal",
        "institutions", "agent", "add", "--credit-code", valid_credit_code(), "--name", "x", "--kind", "medical",
        "--code", "P22010299999", "--legal-rep", "y", "--agent-name", "z", "--phone", mobile()],
        input=AGENT_ID + "\n")
    assert bad.exit_code == 1 and "This code is of a" in bad.output


def _login(client, get_csrf, db_session, identifier, phone):
    from tests.factories import last_code

    token = get_csrf("/login/agent?org=institution")
    response = client.post("/login/agent", data={"csrf_token": token, "org_kind": "institution",
                                                 "credit_code": identifier, "phone": phone})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.post("/login/code", data={"csrf_token": get_csrf("/login/code"),
                                            "code": last_code(db_session, phone)})


@pytest.mark.parametrize("by", ["credit_code", "code"])
def test_an_institution_agent_logs_in_by_credit_code_or_national_code(client, get_csrf, db_session,
                                                                      make_institution, make_institution_agent, by):
    institution = make_institution()
    phone = mobile()
    make_institution_agent(institution, phone)
    page = client.get("/login/agent?org=institution").get_data(as_text=True)
    assert re.search(r"<h1>Log in as a designated institution.s agent</h1>", page) and 'value="institution"' in page
    response = _login(client, get_csrf, db_session, getattr(institution, by).lower(), phone)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    home = client.get("/me").get_data(as_text=True)
    assert institution.name in home and institution.code in home and "Agreement in force" in home
    assert f'data-item="{AGREEMENT_ITEM}"' in home and f'data-item="{UNIT_ITEM}"' not in home


def test_a_unit_login_does_not_reach_an_institution_of_the_same_code(client, get_csrf, db_session, make_unit,
                                                                     make_institution, make_institution_agent,
                                                                     outbox_code):
    """A hospital is often a 参保单位 too, with the same credit code: the two logins are kept apart."""
    institution = make_institution()
    make_unit(credit_code=institution.credit_code)
    phone = mobile()
    make_institution_agent(institution, phone)
    response = client.post("/login/agent", data={"csrf_token": get_csrf("/login/agent"),
                                                 "credit_code": institution.credit_code, "phone": phone})
    assert response.status_code == 302  # the same answer either way ...
    from portal.accounts.models import SmsMessage
    from portal.insurance.models import phone_index
    assert db_session.execute(select(SmsMessage).where(SmsMessage.phone_index == phone_index(phone))).first() \
        is None  # ... but no code: the phone is no agent of the unit


def test_a_national_code_is_refused_at_a_unit_login(client, get_csrf):
    response = client.post("/login/agent", data={"csrf_token": get_csrf("/login/agent"),
                                                 "credit_code": "H22010200001", "phone": mobile()})
    assert response.status_code == 422 and "18 characters" in response.get_data(as_text=True)


def test_each_kind_of_account_files_only_its_own_items(app, db_session, make_institution, make_institution_agent,
                                                       make_unit, make_first_agent):
    catalog = app.extensions["portal_catalog"]
    agreement, unit_item = catalog.get(AGREEMENT_ITEM), catalog.get(UNIT_ITEM)
    institution_agent = make_institution_agent(make_institution())
    unit_agent = make_first_agent(make_unit())
    unit_agent.unit.status = "active"

    assert filing_audience(institution_agent, agreement) == "institution" and cannot_file(institution_agent,
                                                                                           agreement) is None
    assert filing_audience(institution_agent, unit_item) is None
    assert "filed by a unit's agent" in cannot_file(institution_agent, unit_item)
    assert filing_audience(unit_agent, agreement) is None
    assert "designated medical institution or pharmacy" in cannot_file(unit_agent, agreement)
    with pytest.raises(PermissionDenied):
        ops.start_application(agreement, by=unit_agent, actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        ops.start_application(unit_item, by=institution_agent, actor=SYSTEM)

    case = ops.start_application(agreement, by=institution_agent, actor=SYSTEM)
    assert case.audience == "institution" and case.institution_id == institution_agent.institution_id
    assert case.unit_id is None and case.organisation is institution_agent.institution


def test_another_agent_of_the_institution_sees_its_cases_but_not_a_unit_agent(
        db_session, make_institution, make_institution_agent, make_first_agent, make_unit):
    from portal.applications.permissions import is_applicant

    institution = make_institution()
    admin = make_institution_agent(institution)
    case = ops.start_application(__import__("flask").current_app.extensions["portal_catalog"].get(AGREEMENT_ITEM),
                                 by=admin, actor=SYSTEM)
    second = operations.add_agent(institution, operations.NewAgent(mobile(), "孙经办"), by=admin, actor=SYSTEM)
    assert second.institution_id == institution.id and second.mandate.org_kind == "institution"
    other_institution_agent = make_institution_agent(make_institution(name="另一医院"))
    assert is_applicant(second, case)
    assert not is_applicant(other_institution_agent, case)
    assert not is_applicant(make_first_agent(make_unit()), case)
    with pytest.raises(ValidationFailed, match="not items your organisation files"):
        operations.add_agent(institution, operations.NewAgent(mobile(), "周经办", scope={"items": [UNIT_ITEM]}),
                             by=admin, actor=SYSTEM)


def test_the_api_logs_an_institution_agent_in_and_refuses_a_unit_item(make_client, db_session, make_institution,
                                                                      make_institution_agent, outbox_code):
    institution = make_institution()
    phone = mobile()
    make_institution_agent(institution, phone)
    db_session.commit()
    client = make_client()
    body = {"phone": phone, "kind": "agent", "org_kind": "institution", "credit_code": institution.code}
    assert client.post("/api/v1/auth/sms/request", json=body).status_code == 202
    response = client.post("/api/v1/auth/sms/login", json=body | {"code": outbox_code(phone)})
    assert response.status_code == 200, response.get_json()
    session = response.get_json()
    assert session["account"]["institution"] == {"name": "长春示范医院", "credit_code": institution.credit_code,
                                                 "code": institution.code, "agreement_status": "in_force"}
    headers = {"Authorization": f"Bearer {session['token']}"}
    items = client.get("/api/v1/applications/items", headers=headers).get_json()
    codes = {i["code"] for i in (items["items"] if isinstance(items, dict) else items)}
    assert AGREEMENT_ITEM in codes and UNIT_ITEM not in codes
    refused = client.post("/api/v1/applications", json={"item_code": UNIT_ITEM}, headers=headers)
    assert refused.status_code == 403
    started = client.post("/api/v1/applications", json={"item_code": AGREEMENT_ITEM}, headers=headers)
    assert started.status_code == 201 and started.get_json()["audience"] == "institution"


def test_history_events_keep_no_sealed_value(db_session, make_institution):
    from portal.organisations.institutions import history_event

    institution = make_institution()
    history_event(institution, "changed", {"legal_rep_name": ("赵院长", "钱院长"),
                                           "legal_rep_id_number": (None, AGENT_ID)})
    db_session.flush()
    event = db_session.execute(select(InstitutionEvent)).scalar_one()
    assert event.changes == {"legal_rep_name": ["赵院长", "钱院长"], "legal_rep_id_number": [None, "changed"]}
    assert AGENT_ID not in event.changes_json


def test_an_institution_letter_is_checked_and_approved_by_staff(client, get_csrf, db_session, make_client,
                                                                make_staff):
    import io

    from portal.accounts.models import Role
    from tests.conftest import csrf_from
    from tests.materials.fixtures import pdf
    from tests.organisations.test_registration import _staff_client

    code, national = valid_credit_code(), institution_code("pharmacy")
    data = _form(get_csrf, code, method="letter", org_name="长春示范大药房", institution_kind="pharmacy",
                 institution_code=national)
    data["letter"] = (io.BytesIO(pdf()), "授权委托书.pdf")
    assert client.post("/units/register", data=data, content_type="multipart/form-data").status_code == 302
    registration = db_session.execute(select(OrgRegistration)).scalar_one()
    assert (registration.org_kind, registration.institution_kind, registration.institution_code) == (
        "institution", "pharmacy", national)
    assert db_session.execute(select(Institution)).first() is None  # nothing until staff approve

    staff, _acceptor = _staff_client(make_client, make_staff, db_session, Role.ACCEPTOR)
    index = staff.get("/staff/registrations/").get_data(as_text=True)
    assert "长春示范大药房" in index and "Designated institution" in index
    page = staff.get(f"/staff/registrations/{registration.id}").get_data(as_text=True)
    assert staff.post(f"/staff/registrations/{registration.id}/approve",
                      data={"csrf_token": csrf_from(page)}).status_code == 302
    institution = institution_by_code(national)
    assert institution.kind == "pharmacy" and institution.level is None and institution.agreement_status == "none"
    agent = db_session.get(Account, registration.account_id)
    assert agent.institution_id == institution.id and agent.mandate.proof == ProofMethod.LETTER
