"""The agreement items of designated institutions (issue 23): each completes with its effect on the institution
register — the agreement in force to the last day staff set, renewed, changed, suspended and ended on the dated day,
resumed, 异地就医直接结算 opened — every change in the history with its case; revoking undoes it."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.applications import operations as ops
from portal.applications.constants import Action
from portal.core import clock
from portal.core.errors import InvalidTransition, ValidationFailed
from portal.organisations.models import InstitutionEvent
from portal.services import handler_for
from portal.workbench import operations as desk
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    catalog,
    make_case,
    request_context,
    staff,
)
from tests.factories import institution_code

APPLY = "G002036009001"  # 吉林 医疗机构申请定点协议管理
RENEW = "J002036009001"  # 吉林 医疗机构服务协议续签
NAME_CHANGE = "J002036009001_01"  # 吉林 定点医药机构单位名称变更
LEGAL_REP_CHANGE = "J002036009001_03"  # 吉林 法定代表人变更
SUSPEND = "J002036009002_01"  # 吉林 服务暂停
TERMINATE = "J002036009002_02"  # 吉林 服务终止
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in China


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0) as source:
        yield source


def _through(case, staff, last_day: str | None = None):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    case.assignee, case.assignee_id = staff["reviewer"], staff["reviewer"].id
    desk.decide(case, desk.Decision(Action.APPROVE, valid_until=last_day or ""), by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def _events(db_session, institution):
    return db_session.execute(select(InstitutionEvent).where(InstitutionEvent.institution_id == institution.id)
                              .order_by(InstitutionEvent.id)).scalars().all()


def test_applying_for_the_agreement_puts_it_in_force_to_the_day_staff_set(db_session, staff, make_case,
                                                                          make_institution, make_institution_agent):
    clinic = make_institution("长春新创诊所", status="none", code=None, level=None, area=None)
    agent = make_institution_agent(clinic)
    code = institution_code()
    case = make_case(APPLY, agent, form={"institution_code": code, "institution_level": "一级",
                                         "institution_area": "朝阳区"})
    assert case.audience == "institution" and case.institution_id == clinic.id
    assert clinic.agreement_status == "applying"  # 申请中 from the submission, in the register's history
    applying = _events(db_session, clinic)[-1]
    assert applying.kind == "applying" and applying.application_id == case.id
    assert applying.changes["agreement_status"] == ["none", "applying"]
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    case.assignee, case.assignee_id = staff["reviewer"], staff["reviewer"].id
    with pytest.raises(ValidationFailed, match="Give the last day"):
        desk.decide(case, desk.Decision(Action.APPROVE), by=staff["reviewer"], actor=SYSTEM)
    desk.decide(case, desk.Decision(Action.APPROVE, valid_until="2027-03-01"), by=staff["reviewer"], actor=SYSTEM)
    assert clinic.agreement_status == "applying"  # approval alone changes nothing more: completion does
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)

    assert (clinic.agreement_status, clinic.agreement_start, clinic.agreement_end) == (
        "in_force", date(2026, 3, 2), date(2027, 3, 1))
    assert (clinic.code, clinic.level, clinic.area) == (code, "level_1", "朝阳区") and clinic.listed
    event = _events(db_session, clinic)[-1]
    assert event.kind == "agreement" and event.application_id == case.id and event.effective_on == date(2026, 3, 2)
    assert event.changes["agreement_status"] == ["applying", "in_force"]

    handler_for(ops.catalog_item(case)).revoke_effect(case, "承诺不实")
    db_session.flush()
    assert clinic.agreement_status == "none" and clinic.code is None and not clinic.listed  # not 申请中: it is over
    assert [e.kind for e in _events(db_session, clinic) if e.application_id == case.id] == ["applying"]


@pytest.mark.parametrize("ending", ["withdraw", "refuse", "deny"])
def test_an_application_that_ends_without_the_agreement_leaves_applying(db_session, staff, make_case, make_institution,
                                                                          make_institution_agent, ending):
    """Withdrawn, not accepted or denied: the institution is back to what it was — none, or ended when it had one."""
    clinic = make_institution("长春回退诊所", status="none", code=None)
    ended = make_institution("长春曾定点药房", kind="pharmacy", status="terminated", terminated_on=date(2025, 6, 30))
    for institution, back in ((clinic, "none"), (ended, "terminated")):
        case = make_case(APPLY if institution is clinic else "G002036009002", make_institution_agent(institution))
        assert institution.agreement_status == "applying"
        if ending == "withdraw":
            ops.withdraw_application(case, by=case.applicant, actor=SYSTEM)
        elif ending == "refuse":
            ops.refuse_application(case, "材料不全", by=staff["acceptor"], actor=SYSTEM)
        else:
            ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
            ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
            case.assignee, case.assignee_id = staff["reviewer"], staff["reviewer"].id
            desk.decide(case, desk.Decision(Action.DENY, reason="不符合条件"), by=staff["reviewer"], actor=SYSTEM)
        assert institution.agreement_status == back
        kinds = [e.kind for e in _events(db_session, institution) if e.application_id == case.id]
        assert kinds == ["applying", "application_ended"]


def test_a_renewal_does_not_put_an_institution_in_force_into_applying(db_session, make_case, make_institution,
                                                                      make_institution_agent):
    hospital = make_institution(agreement_end=date(2026, 12, 31))
    make_case(RENEW, make_institution_agent(hospital))
    assert hospital.agreement_status == "in_force"


def test_a_malformed_national_code_is_refused_at_its_field(db_session, make_case, make_institution,
                                                           make_institution_agent):
    agent = make_institution_agent(make_institution(status="none", code=None))
    with pytest.raises(ValidationFailed) as refused:
        make_case(APPLY, agent, form={"institution_code": "P22010200001"})  # a pharmacy's code for a clinic
    assert refused.value.reasons[0][0] == "institution_code"


def test_renewal_moves_the_last_day_on(db_session, staff, make_case, make_institution, make_institution_agent):
    hospital = make_institution(agreement_end=date(2026, 12, 31))
    case = make_case(RENEW, make_institution_agent(hospital))
    _through(case, staff, "2027-12-31")
    assert (hospital.agreement_start, hospital.agreement_end) == (date(2026, 1, 1), date(2027, 12, 31))
    assert _events(db_session, hospital)[-1].kind == "renewed"


def test_changes_write_the_new_values_and_keep_the_old_in_the_history(db_session, staff, make_case,
                                                                      make_institution, make_institution_agent):
    hospital = make_institution()
    agent = make_institution_agent(hospital)
    case = make_case(NAME_CHANGE, agent, form={"unit_name_before": hospital.name, "unit_name_after": "长春新示范医院"})
    _through(case, staff)
    assert hospital.name == "长春新示范医院"
    case = make_case(LEGAL_REP_CHANGE, agent, form={"legal_rep_name_after": "钱院长",
                                                    "legal_rep_id_number_after": "220102198503151237"})
    _through(case, staff)
    assert hospital.legal_rep_name == "钱院长" and hospital.legal_rep_id_number == "220102198503151237"
    name_event, rep_event = _events(db_session, hospital)[-2:]
    assert name_event.changes == {"name": ["长春示范医院", "长春新示范医院"]}
    assert rep_event.changes == {"legal_rep_name": ["赵院长", "钱院长"], "legal_rep_id_number": [None, "changed"]}
    assert "220102198503151237" not in rep_event.changes_json


def test_a_change_with_no_new_value_or_a_bad_grade_is_refused(db_session, make_case, make_institution,
                                                              make_institution_agent):
    agent = make_institution_agent(make_institution())
    with pytest.raises(ValidationFailed) as refused:
        make_case(NAME_CHANGE, agent, form={"grade_after": "特级"})
    assert [field for field, _m in refused.value.reasons] == ["grade_after"]
    with pytest.raises(ValidationFailed) as refused:
        make_case(NAME_CHANGE, agent, form={"reason": "更名"})
    assert [field for field, _m in refused.value.reasons] == ["unit_name_after"]


@pytest.mark.parametrize(("code", "request_", "status", "column"), [
    (SUSPEND, "暂停", "suspended", "suspended_on"),
    (TERMINATE, "终止", "terminated", "terminated_on"),
])
def test_suspension_and_ending_are_dated(db_session, staff, make_case, make_institution, make_institution_agent,
                                         code, request_, status, column):
    hospital = make_institution()
    case = make_case(code, make_institution_agent(hospital), form={"request": request_, "effective_on": "2026-04-01",
                                                                   "reason": "装修"})
    _through(case, staff)
    assert hospital.agreement_status == status and getattr(hospital, column) == date(2026, 4, 1)
    event = _events(db_session, hospital)[-1]
    assert event.kind == status and event.effective_on == date(2026, 4, 1)
    assert hospital.listed is (status == "suspended")


def test_a_suspension_cannot_start_in_the_past(db_session, make_case, make_institution, make_institution_agent):
    agent = make_institution_agent(make_institution())
    with pytest.raises(ValidationFailed) as refused:
        make_case(SUSPEND, agent, form={"request": "暂停", "effective_on": "2026-03-01"})
    assert refused.value.reasons[0][0] == "effective_on"


def test_sichuan_resumes_a_suspended_agreement_and_opens_remote_settlement(app, db_session, staff, make_institution,
                                                                           make_institution_agent, region):
    region("sichuan")
    from portal.applications.constants import MaterialMode

    def file(code, agent):
        item = app.extensions["portal_catalog"].get(code)
        case = ops.start_application(item, by=agent, actor=SYSTEM)
        data = dict(case.form_data) | {"description": "申请"}
        ops.save_draft(case, ops.DraftInput(form=data, materials={m.id: MaterialMode.AT_WINDOW.value
                                                                  for m in item.materials}), by=agent, actor=SYSTEM)
        ops.submit_application(case, by=agent, actor=SYSTEM)
        return case

    hospital = make_institution(status="suspended", region="sichuan")
    agent = make_institution_agent(hospital)
    _through(file("SC37", agent), staff)
    assert hospital.agreement_status == "in_force" and hospital.suspended_on is None
    assert [e.kind for e in _events(db_session, hospital)] == ["resumed"]
    assert _events(db_session, hospital)[0].changes["suspended_on"] == ["2026-06-01", None]
    _through(file("SC38", agent), staff)
    assert hospital.remote_settlement


def test_an_item_for_another_agreement_state_is_blocked_before_filing(db_session, make_case, make_institution,
                                                                      make_institution_agent):
    agent = make_institution_agent(make_institution(status="none"))
    with pytest.raises((ValidationFailed, InvalidTransition)):
        make_case(SUSPEND, agent, form={"request": "暂停", "effective_on": "2026-04-01"})


def test_the_pages_of_an_institution_case_render_for_its_agents_and_staff(app, db_session, make_client, make_staff,
                                                                          make_case, make_institution,
                                                                          make_institution_agent):
    """The agent's case, list and receipt pages, and the workbench's case page asking for the agreement's last day."""
    from portal.accounts.models import Role
    from tests.conftest import csrf_from
    from tests.factories import last_code, log_in_staff, mobile

    clinic = make_institution("长春新创诊所", status="none", code=None)
    phone = mobile()
    agent = make_institution_agent(clinic, phone)
    case = make_case(APPLY, agent)
    draft = make_case(RENEW, agent, submit=False)
    db_session.commit()
    browser = make_client()
    token = csrf_from(browser.get("/login/agent?org=institution").get_data(as_text=True))
    browser.post("/login/agent", data={"csrf_token": token, "org_kind": "institution",
                                       "credit_code": clinic.credit_code, "phone": phone})
    token = csrf_from(browser.get("/login/code").get_data(as_text=True))
    assert browser.post("/login/code", data={"csrf_token": token, "code": last_code(db_session, phone)}
                        ).status_code == 302
    for url in (f"/applications/{case.id}", "/applications/", f"/applications/{case.id}/receipt", f"/apply/{APPLY}"):
        response = browser.get(url)
        assert response.status_code == 200, url
    assert "长春新创诊所" in browser.get(f"/applications/{case.id}/receipt").get_data(as_text=True)
    edit = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert "institution_code" in edit and "institution_level" in edit

    account, secret = make_staff("instreviewer", roles={Role.CHIEF})
    staff_browser = log_in_staff(make_client(), account.username, secret)
    ops.accept_application(case, by=account, actor=SYSTEM)
    ops.start_review(case, by=account, actor=SYSTEM)
    case.assignee, case.assignee_id = account, account.id
    db_session.commit()
    page = staff_browser.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Last day of the agreement" in page and 'name="valid_until"' in page


def test_the_public_progress_page_names_the_institution_masked(db_session, client, make_case, make_institution,
                                                               make_institution_agent):
    case = make_case(APPLY, make_institution_agent(make_institution("长春新创口腔诊所", status="none", code=None)))
    token = ops.issue_progress_token(case)
    page = client.get(f"/q/{token}").get_data(as_text=True)
    assert "长春****诊所" in page and "钱经办" not in page and "钱*" not in page
