"""Operations on cases: who may file what, prefill and locked fields, filing on someone's behalf, drafts and
submission, materials, pre-checks, 即办件 and money items, the one-time notice and resubmission, separation of
duties (S7), idempotent and all-or-nothing submission (S19), optimistic locking (S20), receipt numbers and
progress tokens.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.accounts.models import AnonymousAccount, Role
from portal.applications import deadlines, fields, numbers
from portal.applications import operations as ops
from portal.applications.constants import FORM_ENTRY, Action, Defect, MaterialMode, State
from portal.applications.models import Application, ApplicationEvent, ProgressToken
from portal.applications.operations import base as ops_base
from portal.applications.permissions import STAFF_ROLES, cannot_act, cannot_file
from portal.catalog.schema import HandlingType, Rule
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.core.crypto import sha256_hex
from portal.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.services import base as handlers
from portal.services.base import Finding, Handler, Severity
from tests.factories import mobile, valid_id_number

from .conftest import (
    AGENCY_ITEM,
    BOTH_ITEM,
    INSTANT_ITEM,
    INSTITUTION_ITEM,
    MONEY_ITEM,
    NO_FIELDS_ITEM,
    PROMISE_ITEM,
    SELF_SERVICE_ITEM,
    SYSTEM,
    UNIT_ITEM,
    WINDOW_ITEM,
    all_materials,
    sample_value,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Mon 2026-03-02, 10:00 in China
T1 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
PROXY_MATERIAL = "agent_id"  # PROMISE_ITEM's 代办人身份证, needed only when filing on someone's behalf


@pytest.fixture(autouse=True)
def _frozen():
    """Every test here runs on Mon 2026-03-02 unless it moves the clock itself."""
    with clock.frozen(T0) as frozen:
        yield frozen


def required_form(case, extra: dict | None = None) -> dict:
    """Sample values for every required field of the case, over what it holds, plus ``extra``."""
    data = dict(case.form_data)
    for spec in ops.specs_for(case):
        if spec.required and spec.key not in data:
            data[spec.key] = sample_value(spec)
    return data | (extra or {})


def events_of(db_session, case) -> list[str]:
    return list(db_session.execute(select(ApplicationEvent.action).where(ApplicationEvent.application_id == case.id)
                                   .order_by(ApplicationEvent.id)).scalars())


def audit_count(db_session, case, action: str) -> int:
    return db_session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "application", AuditEvent.object_id == str(case.id),
        AuditEvent.action == action)).scalar_one()


def replace_item(monkeypatch, catalog, code: str, **changes):
    """Swap the catalog's item for a copy with ``changes`` for this test."""
    item = catalog.get(code).model_copy(update=changes)
    monkeypatch.setitem(catalog.by_code, code, item)
    return item


def cheap_staff(make_staff, username: str, roles) -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        return make_staff(username, roles=frozenset(roles))[0]


# --- who may file what ----------------------------------------------------------------------------------


def test_citizen_files_an_individual_item_for_themself(catalog, citizen, app):
    item = catalog.get(PROMISE_ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    assert (case.state, case.audience, case.number) == (State.DRAFT, "individual", None)
    assert (case.applicant_id, case.person_id, case.unit_id) == (citizen.id, citizen.person_id, None)
    assert (case.item_code, case.item_name, case.handler, case.region) == (
        item.code, item.name.zh, item.handler, app.config["PORTAL_REGION"])
    assert (case.limit_kind, case.limit_value, case.limit_wording) == ("working_days", 20, "20 个工作日")
    assert case.applicant_name == "王晓明" and not case.is_money and not case.is_instant


def test_starting_a_draft_is_audited(catalog, citizen, db_session):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    assert audit_count(db_session, case, "application.start") == 1
    assert events_of(db_session, case) == []  # a draft has no event yet: nothing happened to the agency


def test_item_snapshot_flags_money_and_instant(catalog, citizen):
    money = ops.start_application(catalog.get(MONEY_ITEM), by=citizen, actor=SYSTEM)
    instant = ops.start_application(catalog.get(INSTANT_ITEM), by=citizen, actor=SYSTEM)
    assert (money.is_money, money.is_instant) == (True, False)
    assert (instant.is_money, instant.is_instant) == (False, True)


def test_unit_agent_files_a_unit_item_for_the_unit(catalog, agent):
    case = ops.start_application(catalog.get(UNIT_ITEM), by=agent, actor=SYSTEM)
    assert (case.audience, case.unit_id, case.person_id) == ("unit", agent.unit_id, None)


@pytest.mark.parametrize(("who", "audience"), [("citizen", "individual"), ("agent", "unit")])
def test_item_for_both_audiences_is_filed_as_the_filer_is(who, audience, request, catalog):
    case = ops.start_application(catalog.get(BOTH_ITEM), by=request.getfixturevalue(who), actor=SYSTEM)
    assert case.audience == audience


def test_citizen_cannot_file_a_unit_item(catalog, citizen):
    with pytest.raises(PermissionDenied, match="unit's agent"):
        ops.start_application(catalog.get(UNIT_ITEM), by=citizen, actor=SYSTEM)


def test_agent_cannot_file_an_individual_item(catalog, agent):
    with pytest.raises(PermissionDenied, match="insured person"):
        ops.start_application(catalog.get(PROMISE_ITEM), by=agent, actor=SYSTEM)


def test_unbound_citizen_must_bind_their_real_name_first(catalog, make_citizen):
    unbound = make_citizen(bound=False)
    with pytest.raises(PermissionDenied, match="Bind your real name"):
        ops.start_application(catalog.get(PROMISE_ITEM), by=unbound, actor=SYSTEM)


def test_staff_do_not_file(catalog, staff):
    with pytest.raises(PermissionDenied, match="staff do not file"):
        ops.start_application(catalog.get(PROMISE_ITEM), by=staff["chief"], actor=SYSTEM)


@pytest.mark.parametrize("who", ["citizen", "agent"])
def test_agency_items_cannot_be_filed_online(who, request, catalog):
    with pytest.raises(PermissionDenied, match="cannot be filed online"):
        ops.start_application(catalog.get(AGENCY_ITEM), by=request.getfixturevalue(who), actor=SYSTEM)


@pytest.mark.parametrize("who", ["citizen", "agent"])
def test_institution_items_send_citizens_and_unit_agents_to_the_institution_login(who, request, catalog):
    with pytest.raises(PermissionDenied, match="filed by a designated medical institution or pharmacy"):
        ops.start_application(catalog.get(INSTITUTION_ITEM), by=request.getfixturevalue(who), actor=SYSTEM)


def test_nobody_logged_in_cannot_file(catalog):
    assert "Log in" in cannot_file(None, catalog.get(PROMISE_ITEM))


# --- prefill and locked fields --------------------------------------------------------------------------


def test_draft_is_prefilled_from_the_records(catalog, citizen):
    person = citizen.person
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    assert case.form_data == {"name": person.name, "id_number": person.id_number, "phone": person.phone,
                              "gender": "男"}


def test_employee_draft_takes_the_unit_the_records_enrol_them_with(catalog, citizen, make_unit, db_session):
    citizen.person.unit = make_unit(name="长春预填医药有限公司")
    db_session.flush()
    case = ops.start_application(catalog.get("G002036001005_01"), by=citizen, actor=SYSTEM)  # 职工基本信息变更
    assert case.form_data["unit_name"] == "长春预填医药有限公司"


def test_resident_without_a_unit_types_the_unit_name_themselves(catalog, citizen):
    case = ops.start_application(catalog.get("G002036001005_01"), by=citizen, actor=SYSTEM)
    assert "unit_name" not in case.form_data
    spec = next(s for s in ops.specs_for(case) if s.key == "unit_name")
    assert not fields.is_locked(spec, ops.record_values(case, ops.catalog_item(case)))


@pytest.mark.parametrize(("last", "warned"), [("T", False), ("U", True)])
def test_a_typed_credit_code_whose_check_character_fails_is_kept_and_flagged(catalog, agent, last, warned):
    case = ops.start_application(catalog.get("G002036001004_02"), by=agent, actor=SYSTEM)  # 单位合并、分立或注销
    ops.save_draft(case, ops.DraftInput(form={"old_credit_code": "91310110666007217" + last}), by=agent,
                   actor=SYSTEM)
    assert case.form_data["old_credit_code"] == "91310110666007217" + last
    flagged = [f for f in ops.prechecks(case) if f.rule == "credit_code_checksum"]
    assert [f.severity for f in flagged] == ([Severity.WARNING] if warned else [])


def test_unit_draft_is_prefilled_from_the_unit_and_its_agent(catalog, agent):
    unit = agent.unit
    case = ops.start_application(catalog.get(UNIT_ITEM), by=agent, actor=SYSTEM)
    assert case.form_data == {"unit_number": unit.code, "unit_name": unit.name, "contact": agent.phone,
                              "filled_by": "赵经办"}


def test_month_field_takes_the_birth_month_from_the_records(make_case, citizen):
    case = make_case(WINDOW_ITEM, citizen)  # 出生日期 is a locked month field filled from the birth date
    assert case.state == State.SUBMITTED
    assert case.form_data["birth_date"] == citizen.person.birth_date.isoformat()[:7]


def test_locked_fields_keep_the_records_whatever_was_sent(catalog, citizen):
    person = citizen.person
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    sent = required_form(case, {"name": "冒名顶替", "id_number": "not an id", "phone": "110", "gender": "女"})
    ops.save_draft(case, ops.DraftInput(form=sent), by=citizen, actor=SYSTEM)
    form = case.form_data
    assert (form["name"], form["id_number"], form["phone"], form["gender"]) == (
        person.name, person.id_number, person.phone, "男")


def test_locked_fields_are_set_from_the_records_again_at_submission(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=all_materials(catalog.get(PROMISE_ITEM))),
                   by=citizen, actor=SYSTEM)
    case.form_data = case.form_data | {"name": "冒名顶替"}  # written around save_draft
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert case.form_data["name"] == citizen.person.name


def test_unlocked_fields_keep_what_the_applicant_typed(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form={"scope": "高血压", "age": "41"}), by=citizen, actor=SYSTEM)
    assert (case.form_data["scope"], case.form_data["age"]) == ("高血压", "41")


# --- filing on someone's behalf (委托) ------------------------------------------------------------------


def principal(id_number: str | None = None, name: str = "王老太", relation: str = "parent") -> ops.Principal:
    id_number = valid_id_number(birth="19450101") if id_number is None else id_number
    return ops.Principal(name=name, id_number=id_number, relation=relation)


def test_filing_on_behalf_uses_the_principals_name_and_id(catalog, citizen, make_person):
    mother = make_person(name="王老太", id_number=valid_id_number(birth="19450101"))
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    sent = required_form(case, {"name": "别的名字", "id_number": citizen.person.id_number, "phone": "13800001111"})
    ops.save_draft(case, ops.DraftInput(form=sent, principal=principal(mother.id_number.lower())),
                   by=citizen, actor=SYSTEM)
    assert case.on_behalf and case.principal_relation == "parent"
    assert (case.principal_name, case.principal_id_number) == ("王老太", mother.id_number)
    assert (case.form_data["name"], case.form_data["id_number"]) == ("王老太", mother.id_number)
    assert case.form_data["phone"] == "13800001111"  # only name and ID stay locked when filing for someone
    assert case.person_id == mother.id and case.applicant_id == citizen.id
    assert case.person is mother  # pre-checks in the same request look at the principal, not the filer


def test_principal_unknown_to_the_records_leaves_the_case_about_nobody_known(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=required_form(case), principal=principal()), by=citizen, actor=SYSTEM)
    assert case.on_behalf and case.person_id is None


def test_filing_for_oneself_again_makes_the_case_about_the_applicant(catalog, citizen, make_person):
    mother = make_person(name="王老太", id_number=valid_id_number(birth="19450101"))
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=required_form(case), principal=principal(mother.id_number)),
                   by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=required_form(case)), by=citizen, actor=SYSTEM)
    assert not case.on_behalf and case.principal_name is None and case.principal_id_number is None
    assert case.person_id == citizen.person_id and case.person is citizen.person
    assert case.form_data["name"] == citizen.person.name


@pytest.mark.parametrize(("given", "field"), [
    ({"id_number": "220102198503120011"}, "principal_id_number"),  # wrong check digit
    ({"id_number": ""}, "principal_id_number"),
    ({"name": "  "}, "principal_name"),
    ({"name": "名" * 65}, "principal_name"),
    ({"relation": "boss"}, "principal_relation"),
])
def test_principal_is_validated(given, field, catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.save_draft(case, ops.DraftInput(form=required_form(case), principal=principal(**given)),
                       by=citizen, actor=SYSTEM)
    assert [f for f, _m in error.value.reasons] == [field]
    assert not case.on_behalf


def test_proxy_material_is_required_only_when_filing_on_behalf(catalog, citizen):
    item = catalog.get(PROMISE_ITEM)
    without_proxy = {k: v for k, v in all_materials(item).items() if k != PROXY_MATERIAL}
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=without_proxy, principal=principal()),
                   by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert [f for f, _m in error.value.reasons] == [f"materials.{PROXY_MATERIAL}"]
    assert case.state == State.DRAFT
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=without_proxy), by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert case.state == State.SUBMITTED


def test_item_that_allows_no_proxy_refuses_a_principal(monkeypatch, catalog, citizen):
    replace_item(monkeypatch, catalog, PROMISE_ITEM, proxy="not_allowed")
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed, match="on someone else's behalf"):
        ops.save_draft(case, ops.DraftInput(principal=principal()), by=citizen, actor=SYSTEM)


# --- drafts and submission ------------------------------------------------------------------------------


def test_draft_may_be_partial_but_submission_needs_every_required_field_and_material(catalog, citizen):
    item = catalog.get(PROMISE_ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form={"remark": "先存一下"}), by=citizen, actor=SYSTEM)
    assert case.form_data["remark"] == "先存一下"
    with pytest.raises(ValidationFailed) as error:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    keys = {f for f, _m in error.value.reasons}
    specs = ops.specs_for(case, item)
    assert keys == ({s.key for s in specs if s.required and s.key not in case.form_data}
                    | {f"materials.{m.id}" for m in ops.required_materials(item, case)})
    assert (case.state, case.number, case.submitted_at) == (State.DRAFT, None, None)


def test_required_field_message_names_its_label(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    label = next(f.label for f in catalog.get(PROMISE_ITEM).application_form.fields if f.key == "scope")
    assert error.value.fields["scope"] == [f"“{label.en}” is required."]  # named in the page's language


def test_malformed_value_is_refused_even_in_a_draft(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.save_draft(case, ops.DraftInput(form={"age": "forty", "insurance_type": "商业保险"}),
                       by=citizen, actor=SYSTEM)
    assert {f for f, _m in error.value.reasons} == {"age", "insurance_type"}


def test_submission_gives_number_dates_and_an_event(make_case, citizen, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    assert case.state == State.SUBMITTED and numbers.is_valid(case.number)
    assert case.submitted_at == T0
    assert case.accept_by == deadlines.accept_by(date(2026, 3, 2))
    assert events_of(db_session, case) == [Action.SUBMIT]
    assert audit_count(db_session, case, "application.submit") == 1


def test_submitted_case_cannot_be_edited(make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(InvalidTransition, match="Only a draft"):
        ops.save_draft(case, ops.DraftInput(form={"remark": "改一下"}), by=citizen, actor=SYSTEM)


def test_only_the_applicant_saves_or_submits(make_case, citizen, make_citizen, staff):
    case = make_case(PROMISE_ITEM, citizen, submit=False)
    for other in (make_citizen(), staff["chief"]):
        with pytest.raises(NotFound):
            ops.save_draft(case, ops.DraftInput(), by=other, actor=SYSTEM)
        with pytest.raises(NotFound):
            ops.submit_application(case, by=other, actor=SYSTEM)
    assert case.state == State.DRAFT


def test_another_agent_of_the_unit_may_submit_the_units_draft(make_case, agent):
    colleague = account_ops.add_agent(agent.unit, account_ops.NewAgent(mobile(), "钱经办"), by=agent, actor=SYSTEM)
    case = make_case(UNIT_ITEM, agent, submit=False)
    ops.submit_application(case, by=colleague, actor=SYSTEM)
    assert case.state == State.SUBMITTED and case.events[-1].actor_id == colleague.id


def test_agent_of_another_unit_cannot_touch_the_units_case(make_case, agent, make_unit, make_first_agent):
    stranger = make_first_agent(make_unit(name="另一家公司"))
    case = make_case(UNIT_ITEM, agent, submit=False)
    with pytest.raises(NotFound):
        ops.submit_application(case, by=stranger, actor=SYSTEM)


# --- materials ------------------------------------------------------------------------------------------


def test_commitment_is_refused_where_the_catalog_offers_none(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.save_draft(case, ops.DraftInput(materials={"diagnosis": MaterialMode.COMMITMENT.value}),
                       by=citizen, actor=SYSTEM)
    assert error.value.fields == {"materials.diagnosis": ["“诊断书” cannot be replaced by a commitment."]}


def test_commitment_replaces_a_proof_where_the_catalog_allows_it(catalog, citizen):
    item = catalog.get(INSTANT_ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    chosen = all_materials(item) | {"filing_proof": MaterialMode.COMMITMENT.value}
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=chosen), by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert case.materials["filing_proof"] == "commitment" and case.state == State.SUBMITTED


def test_material_the_item_does_not_list_is_ignored_and_an_unknown_mode_refused(catalog, citizen):
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(materials={"passport": "upload", "diagnosis": "upload"}),
                   by=citizen, actor=SYSTEM)
    assert case.materials == {"diagnosis": "upload"}
    with pytest.raises(ValidationFailed) as error:
        ops.save_draft(case, ops.DraftInput(materials={"diagnosis": "fax"}), by=citizen, actor=SYSTEM)
    assert list(error.value.fields) == ["materials.diagnosis"]


def test_required_material_marked_not_applicable_is_refused_at_submission(catalog, citizen):
    item = catalog.get(PROMISE_ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    chosen = all_materials(item) | {"diagnosis": MaterialMode.NOT_APPLICABLE.value}
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=chosen), by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert list(error.value.fields) == ["materials.diagnosis"]


def test_data_sharing_material_needs_nothing_from_the_applicant(monkeypatch, catalog, citizen):
    item = catalog.get(PROMISE_ITEM)
    shared = [m.model_copy(update={"data_sharing": True}) if m.id == "test_reports" else m for m in item.materials]
    item = replace_item(monkeypatch, catalog, PROMISE_ITEM, materials=tuple(shared))
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    assert case.materials == {"test_reports": "data_sharing"}
    chosen = {k: v for k, v in all_materials(item).items() if k != "test_reports"}
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=chosen), by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert case.materials["test_reports"] == "data_sharing"
    with pytest.raises(ValidationFailed, match="cannot obtain"):
        ops.save_draft(ops.start_application(item, by=citizen, actor=SYSTEM),
                       ops.DraftInput(materials={"diagnosis": "data_sharing"}), by=citizen, actor=SYSTEM)


# --- pre-checks -----------------------------------------------------------------------------------------


def test_every_catalog_rule_becomes_an_info_finding(catalog, citizen):
    item = catalog.get(PROMISE_ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    # the handler of this item adds its own check after the catalog's rules (services/remote_care: a long-term filing)
    findings = [f for f in ops.prechecks(case) if f.rule != "requires_long_term_filing"]
    assert [(f.severity, f.rule) for f in findings] == [(Severity.INFO, r.key) for r in item.rules]
    assert [f.message for f in findings] == [r.text.get("en") for r in item.rules]


@pytest.mark.parametrize(("moment", "severity"), [
    (datetime(2026, 5, 6, 2, tzinfo=UTC), Severity.WARNING),  # outside 10-01..12-31
    (datetime(2026, 9, 30, 15, 59, tzinfo=UTC), Severity.WARNING),  # 23:59 on 09-30 in China
    (datetime(2026, 9, 30, 16, 0, tzinfo=UTC), Severity.INFO),  # 00:00 on 10-01 in China
    (datetime(2026, 12, 31, 2, tzinfo=UTC), Severity.INFO),
])
def test_annual_window_outside_the_window_warns(moment, severity, catalog, citizen):
    case = ops.start_application(catalog.get(WINDOW_ITEM), by=citizen, actor=SYSTEM)
    with clock.frozen(moment):
        findings = {f.rule: f.severity for f in ops.prechecks(case)}
    assert findings["annual_window"] is severity


def test_warning_does_not_stop_the_submission(make_case, citizen):
    with clock.frozen(datetime(2026, 5, 6, 2, tzinfo=UTC)):
        case = make_case(WINDOW_ITEM, citizen)
    assert case.state == State.SUBMITTED


class _Blocking(Handler):
    def precheck(self, context):
        return [*super().precheck(context), Finding(Severity.BLOCKING, "不符合申请条件", "test")]


def test_blocking_finding_stops_the_submission(monkeypatch, catalog, citizen, db_session):
    monkeypatch.setitem(handlers._REGISTRY, "test.blocking", _Blocking())
    replace_item(monkeypatch, catalog, PROMISE_ITEM, handler="test.blocking")
    case = ops.start_application(catalog.get(PROMISE_ITEM), by=citizen, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=required_form(case), materials=all_materials(catalog.get(PROMISE_ITEM))),
                   by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert error.value.reasons == [(None, "不符合申请条件")]
    assert (case.state, case.number) == (State.DRAFT, None) and events_of(db_session, case) == []


# --- 即办件 and money items -------------------------------------------------------------------------------


def test_self_service_item_completes_at_submission_with_system_events(make_case, citizen, db_session):
    case = make_case(SELF_SERVICE_ITEM, citizen)
    assert case.state == State.COMPLETED
    moves = [(e.action, e.from_state, e.to_state, e.actor_kind, e.actor_id) for e in case.events]
    assert moves == [
        (Action.SUBMIT, State.DRAFT, State.SUBMITTED, "citizen", citizen.id),
        (Action.ACCEPT, State.SUBMITTED, State.ACCEPTED, "system", None),
        (Action.COMPLETE, State.ACCEPTED, State.COMPLETED, "system", None),
    ]
    assert case.submitted_at == case.accepted_at == case.completed_at == T0
    assert case.due_date == date(2026, 3, 2)  # 即时办理: due the day it is accepted
    assert case.result_text == "Completed on submission."
    assert [audit_count(db_session, case, f"application.{a}") for a in ("submit", "accept", "complete")] == [1, 1, 1]


def test_self_service_item_with_a_warning_goes_to_a_person(monkeypatch, catalog, make_case, citizen):
    window = Rule(key="annual_window", params={"start": "10-01", "end": "12-31"}, text={"zh": "集中办理期"})
    item = catalog.get(SELF_SERVICE_ITEM)
    replace_item(monkeypatch, catalog, SELF_SERVICE_ITEM, rules=(*item.rules, window))
    case = make_case(SELF_SERVICE_ITEM, citizen)  # 2026-03-02: outside the window
    assert case.state == State.SUBMITTED and [e.action for e in case.events] == [Action.SUBMIT]


def test_mixed_item_does_not_complete_at_submission(monkeypatch, catalog, make_case, citizen):
    item = catalog.get(SELF_SERVICE_ITEM)
    mixed = item.handling.model_copy(update={"type": HandlingType.mixed, "wording": "即办件(承诺件)"})
    replace_item(monkeypatch, catalog, SELF_SERVICE_ITEM, handling=mixed)
    case = make_case(SELF_SERVICE_ITEM, citizen)  # filed as a promise: a person accepts it
    assert case.state == State.SUBMITTED and not case.is_instant


def test_instant_item_handled_by_staff_completes_from_acceptance(case_in, staff):
    case = case_in(State.ACCEPTED, "instant")
    ops.complete_application(case, by=staff["acceptor"], actor=SYSTEM, result="  备案成功  ")
    assert case.state == State.COMPLETED and case.result_text == "备案成功"


def test_money_item_goes_through_payment(make_case, citizen, staff, db_session):
    case = make_case(MONEY_ITEM, citizen)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM, result="核准报销 1,234.50 元")
    with pytest.raises(InvalidTransition):
        ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    assert case.state == State.PAYING
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    ops.deliver_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert events_of(db_session, case) == [Action.SUBMIT, Action.ACCEPT, Action.START_REVIEW, Action.APPROVE,
                                           Action.START_PAYMENT, Action.COMPLETE, Action.DELIVER]
    # the reviewer's result stays; completion adds what was paid: the computed 540.00 (1,000 less 200 not covered,
    # less the 200 deductible, at 90 ％ — jilin employee, level 1, in area), in figures and in words
    assert case.result_text == "核准报销 1,234.50 元\n已支付 ¥540.00（人民币伍佰肆拾元整）。"
    assert case.state == State.DELIVERED and case.delivered_at == case.closed_at == T0


# --- separation of duties and roles (S7) ----------------------------------------------------------------


def test_acceptor_of_a_money_item_cannot_approve_it(make_case, citizen, staff, make_staff):
    chief, other_chief = staff["chief"], cheap_staff(make_staff, "tchief2", {Role.CHIEF})
    case = make_case(MONEY_ITEM, citizen)
    ops.accept_application(case, by=chief, actor=SYSTEM)
    ops.start_review(case, by=chief, actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="another member of staff must approve"):
        ops.approve_application(case, by=chief, actor=SYSTEM)
    assert case.state == State.UNDER_REVIEW
    ops.approve_application(case, by=other_chief, actor=SYSTEM)
    assert case.state == State.APPROVED


def test_acceptor_of_an_item_without_money_may_approve_it(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    for step in (ops.accept_application, ops.start_review, ops.approve_application):
        step(case, by=staff["chief"], actor=SYSTEM)
    assert case.state == State.APPROVED


@pytest.mark.parametrize("who", ["citizen", "agent"])
def test_an_applicant_account_cannot_act_as_staff(who, request, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(PermissionDenied, match="Only agency staff"):
        ops.accept_application(case, by=request.getfixturevalue(who), actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="Only agency staff"):
        ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry("diagnosis", Defect.MISSING),)),
                               by=citizen, actor=SYSTEM)
    assert case.state == State.SUBMITTED and case.notices == []


def test_nobody_logged_in_cannot_act_as_staff(make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(PermissionDenied):
        ops.accept_application(case, by=AnonymousAccount(), actor=SYSTEM)
    with pytest.raises(NotFound):
        ops.withdraw_application(case, by=AnonymousAccount(), actor=SYSTEM)
    assert case.state == State.SUBMITTED


def test_staff_cannot_take_the_applicants_actions(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(NotFound):
        ops.withdraw_application(case, by=staff["chief"], actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="Only the applicant"):
        ops.transition(case, Action.WITHDRAW, by=staff["chief"], actor=SYSTEM)
    assert case.state == State.SUBMITTED


def test_nobody_handles_a_case_they_filed(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    case.applicant_id = staff["acceptor"].id  # as if the acceptor had filed it
    assert "you filed yourself" in cannot_act(staff["acceptor"], case, Action.ACCEPT)


@pytest.mark.parametrize("action", list(STAFF_ROLES), ids=str)
def test_staff_roles_allow_exactly_their_steps(action, case_in, staff, make_staff):
    accounts = {Role.ACCEPTOR: staff["acceptor"], Role.REVIEWER: staff["reviewer"], Role.FINANCE: staff["finance"],
                Role.CHIEF: staff["chief"], Role.ADMIN: cheap_staff(make_staff, "tadmin", {Role.ADMIN})}
    case = case_in(State.SUBMITTED)
    allowed = {role for role, account in accounts.items() if cannot_act(account, case, action) is None}
    assert allowed == STAFF_ROLES[action]
    assert cannot_act(None, case, action) is None  # the system, for 即办件


def test_role_without_the_step_is_refused_by_the_operation(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(PermissionDenied, match="role does not allow"):
        ops.accept_application(case, by=staff["reviewer"], actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="role does not allow"):
        ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry("diagnosis", Defect.MISSING),)),
                               by=staff["finance"], actor=SYSTEM)
    assert case.state == State.SUBMITTED and case.events[-1].action == Action.SUBMIT


# --- refusal and denial carry a reason ------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", None])
@pytest.mark.parametrize(("state", "operation"), [
    (State.SUBMITTED, ops.refuse_application), (State.RESUBMITTED, ops.refuse_application),
    (State.UNDER_REVIEW, ops.deny_application)], ids=["refuse", "refuse-resubmitted", "deny"])
def test_refusal_and_denial_need_a_reason(state, operation, reason, case_in, staff, db_session):
    case = case_in(state)
    events = events_of(db_session, case)
    who = staff["acceptor"] if operation is ops.refuse_application else staff["reviewer"]
    with pytest.raises(ValidationFailed) as error:
        operation(case, reason, by=who, actor=SYSTEM)
    assert list(error.value.fields) == ["reason"]
    assert case.state == state and case.decision_reason is None and events_of(db_session, case) == events


@pytest.mark.parametrize(("state", "operation"), [
    (State.SUBMITTED, ops.refuse_application), (State.UNDER_REVIEW, ops.deny_application)], ids=["refuse", "deny"])
def test_reason_is_kept_trimmed_on_the_case_and_its_event(state, operation, case_in, staff):
    case = case_in(state)
    who = staff["acceptor"] if operation is ops.refuse_application else staff["reviewer"]
    operation(case, "  不属于本统筹区  ", by=who, actor=SYSTEM)
    assert case.decision_reason == case.events[-1].reason == "不属于本统筹区"
    assert case.decided_at == case.closed_at == T0


@pytest.mark.parametrize("state", [State.NOT_ACCEPTED, State.DENIED])
def test_database_refuses_a_refusal_without_reason(state, make_case, citizen, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    savepoint = db_session.begin_nested()
    case.state = state.value
    with pytest.raises(IntegrityError, match="refusal_has_reason"):
        db_session.flush()
    savepoint.rollback()
    savepoint = db_session.begin_nested()
    with pytest.raises(IntegrityError, match="refusal_has_reason"):
        db_session.execute(text("UPDATE application SET state = :state, decision_reason = NULL WHERE id = :id"),
                           {"state": state.value, "id": case.id})
    savepoint.rollback()
    assert db_session.get(Application, case.id).state == State.SUBMITTED


# --- the one-time notice (一次性告知) and resubmission ----------------------------------------------------


def notice_of(*materials: str, new_defect: bool = False) -> ops.NoticeInput:
    return ops.NoticeInput(tuple(ops.NoticeEntry(m, Defect.MISSING, f"请补充{m}") for m in materials),
                           note="请一次性补齐", new_defect=new_defect)


def test_notice_lists_every_entry_with_the_time_allowed(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    data = ops.NoticeInput((ops.NoticeEntry("diagnosis", Defect.MISSING, " 缺诊断书 "),
                            ops.NoticeEntry("medical_record", Defect.DEFECTIVE, "病历页不全"),
                            ops.NoticeEntry(FORM_ENTRY, Defect.DEFECTIVE, "申报类别填写有误")), note=" 一次告知 ")
    notice = ops.request_correction(case, data, by=staff["acceptor"], actor=SYSTEM)
    assert notice.entries == [{"material": "diagnosis", "defect": "missing", "note": "缺诊断书"},
                              {"material": "medical_record", "defect": "defective", "note": "病历页不全"},
                              {"material": FORM_ENTRY, "defect": "defective", "note": "申报类别填写有误"}]
    assert (notice.sequence, notice.note, notice.issued_on, notice.issued_at) == (1, "一次告知", date(2026, 3, 2), T0)
    assert notice.respond_by == deadlines.correction_due(date(2026, 3, 2), ops.CORRECTION_WORKING_DAYS)
    assert notice.issued_by_id == staff["acceptor"].id and not notice.pauses_clock and not notice.new_defect
    assert case.state == State.CORRECTION_REQUESTED and case.open_notice is notice
    assert case.events[-1].detail == {"notice": 1, "respond_by": notice.respond_by.isoformat(),
                                      "materials": ["diagnosis", "medical_record", FORM_ENTRY], "pauses_clock": False}


def test_time_allowed_for_corrections_is_configurable(app, monkeypatch, make_case, citizen, staff):
    monkeypatch.setitem(app.config, "PORTAL_CORRECTION_WORKING_DAYS", 3)
    case = make_case(PROMISE_ITEM, citizen)
    notice = ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    assert notice.respond_by == date(2026, 3, 5)


@pytest.mark.parametrize(("entries", "message"), [
    ((), "Tick at least one"),
    ((ops.NoticeEntry("diagnosis", Defect.MISSING), ops.NoticeEntry("diagnosis", Defect.DEFECTIVE)), "listed once"),
    ((ops.NoticeEntry("diagnosis", Defect.MISSING), ops.NoticeEntry("passport", Defect.MISSING)),
     "“passport” is not a material of this item"),
    ((ops.NoticeEntry("diagnosis", "lost"),), "missing or needs correcting"),
])
def test_notice_that_cannot_say_everything_is_refused(entries, message, make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(ValidationFailed, match=message):
        ops.request_correction(case, ops.NoticeInput(entries), by=staff["acceptor"], actor=SYSTEM)
    assert case.state == State.SUBMITTED and case.notices == []


def test_second_notice_is_refused(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(InvalidTransition):  # still waiting for the first one
        ops.request_correction(case, notice_of("medical_record"), by=staff["acceptor"], actor=SYSTEM)
    ops.resubmit_application(case, ops.Resubmission(materials={"diagnosis": "upload"}), by=citizen, actor=SYSTEM)
    with pytest.raises(InvalidTransition, match="already been given"):
        ops.request_correction(case, notice_of("medical_record"), by=staff["acceptor"], actor=SYSTEM)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(InvalidTransition, match="already been given"):
        ops.request_correction(case, notice_of("medical_record"), by=staff["acceptor"], actor=SYSTEM)
    assert len(case.notices) == 1 and case.state == State.ACCEPTED


def test_second_notice_is_allowed_for_a_new_defect_of_the_resubmission(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    ops.resubmit_application(case, ops.Resubmission(materials={"diagnosis": "upload"}), by=citizen, actor=SYSTEM)
    second = ops.request_correction(case, notice_of("diagnosis", new_defect=True), by=staff["acceptor"],
                                    actor=SYSTEM)
    assert (second.sequence, second.new_defect) == (2, True)
    assert case.state == State.CORRECTION_REQUESTED and case.open_notice is second


def test_applicant_supplies_the_listed_materials_into_the_same_case(make_case, citizen, staff, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    case_id, number = case.id, case.number
    notice = ops.request_correction(case, notice_of("diagnosis", "medical_record"), by=staff["acceptor"],
                                    actor=SYSTEM)
    with clock.frozen(T1):
        supplied = {"diagnosis": "upload", "medical_record": "at_window"}
        ops.resubmit_application(case, ops.Resubmission(materials=supplied, note=" 已补齐 "), by=citizen, actor=SYSTEM)
    assert (case.id, case.number, case.state) == (case_id, number, State.RESUBMITTED)
    assert (case.materials["diagnosis"], case.materials["medical_record"]) == ("upload", "at_window")
    assert (notice.resolved_at, notice.resolved_on, notice.response_note) == (T1, date(2026, 3, 3), "已补齐")
    assert case.open_notice is None
    assert db_session.execute(select(func.count()).select_from(Application)
                              .where(Application.applicant_id == citizen.id)).scalar_one() == 1
    assert case.events[-1].detail == {"accept_by": "2026-03-10"}  # 5 working days from the corrected filing


def test_applicant_can_supply_only_listed_materials(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.resubmit_application(case, ops.Resubmission(materials={"diagnosis": "upload", "test_reports": "upload"}),
                                 by=citizen, actor=SYSTEM)
    assert list(error.value.fields) == ["materials.test_reports"]
    assert case.state == State.CORRECTION_REQUESTED and case.open_notice is not None


@pytest.mark.parametrize("supplied", [
    {}, {"diagnosis": "upload"}, {"diagnosis": "upload", "medical_record": "not_applicable"}])
def test_applicant_must_supply_everything_listed(supplied, make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, notice_of("diagnosis", "medical_record"), by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        ops.resubmit_application(case, ops.Resubmission(materials=supplied), by=citizen, actor=SYSTEM)
    assert "materials.medical_record" in error.value.fields
    assert case.state == State.CORRECTION_REQUESTED


def test_form_listed_in_the_notice_can_be_corrected(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, notice_of(FORM_ENTRY), by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        ops.resubmit_application(case, ops.Resubmission(form={"category": "不存在的类别"}), by=citizen, actor=SYSTEM)
    ops.resubmit_application(case, ops.Resubmission(form={"category": "门诊特病", "name": "冒名顶替"}),
                             by=citizen, actor=SYSTEM)
    assert case.form_data["category"] == "门诊特病" and case.form_data["name"] == citizen.person.name


def test_form_not_listed_in_the_notice_stays_as_filed(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    before = case.form_data
    ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    ops.resubmit_application(case, ops.Resubmission(form={"category": "门诊特病"}, materials={"diagnosis": "upload"}),
                             by=citizen, actor=SYSTEM)
    assert case.form_data == before


def test_resubmission_needs_an_open_notice_and_the_applicant(make_case, citizen, make_citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(InvalidTransition):
        ops.resubmit_application(case, ops.Resubmission(), by=citizen, actor=SYSTEM)
    ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(NotFound):
        ops.resubmit_application(case, ops.Resubmission(materials={"diagnosis": "upload"}), by=make_citizen(),
                                 actor=SYSTEM)
    assert case.state == State.CORRECTION_REQUESTED


def test_notice_after_acceptance_stops_the_clock(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    notice = ops.request_correction(case, notice_of("diagnosis"), by=staff["acceptor"], actor=SYSTEM)
    assert notice.pauses_clock and case.events[-1].detail["pauses_clock"] is True


# --- withdrawal -----------------------------------------------------------------------------------------


def test_applicant_withdraws_before_acceptance_with_a_reason(make_case, citizen, make_citizen):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(NotFound):
        ops.withdraw_application(case, by=make_citizen(), actor=SYSTEM)
    ops.withdraw_application(case, by=citizen, actor=SYSTEM, reason=" 已在窗口办理 ")
    assert case.state == State.WITHDRAWN and case.closed_at == T0
    assert case.events[-1].reason == "已在窗口办理" and case.decision_reason is None


# --- idempotent, all-or-nothing submission (S19) --------------------------------------------------------


@pytest.mark.parametrize("code", [PROMISE_ITEM, SELF_SERVICE_ITEM])
def test_same_idempotency_key_returns_the_same_case_once(code, make_case, citizen, db_session):
    case = make_case(code, citizen, key="double-click-0001")
    number, events, state = case.number, events_of(db_session, case), case.state
    again = ops.submit_application(case, by=citizen, actor=SYSTEM, idempotency_key="double-click-0001")
    assert again is case and (case.number, case.state) == (number, state)
    assert events_of(db_session, case) == events
    assert audit_count(db_session, case, "application.submit") == 1
    assert db_session.execute(select(func.count()).select_from(Application)
                              .where(Application.number.is_not(None))).scalar_one() == 1


def test_resubmitting_without_or_with_another_key_is_refused(make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen, key="first-key-0001")
    for key in (None, "other-key-0002"):
        with pytest.raises(InvalidTransition, match="already been submitted"):
            ops.submit_application(case, by=citizen, actor=SYSTEM, idempotency_key=key)


def test_key_of_another_case_is_a_conflict_not_a_database_error(make_case, citizen):
    make_case(PROMISE_ITEM, citizen, key="reused-key-0001")
    other = make_case(NO_FIELDS_ITEM, citizen, submit=False)
    with pytest.raises(Conflict):
        ops.submit_application(other, by=citizen, actor=SYSTEM, idempotency_key="reused-key-0001")
    assert (other.state, other.number) == (State.DRAFT, None)


def _fail_on_call(monkeypatch, name: str, n: int) -> list:
    """Make the ``n``-th call of ``<name>`` from the case operations raise, as a crash between two steps would
    (counted across the operations' modules: submission moves the case in ``drafts`` and completes it in
    ``decisions``, and ``transition`` audits in ``base``)."""
    real, calls = getattr(ops_base, name), []

    def flaky(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == n:
            raise RuntimeError(f"crash in {name} call {n}")
        return real(*args, **kwargs)

    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"{ops.__name__}.{info.name}")
        if getattr(module, name, None) is real:
            monkeypatch.setattr(module, name, flaky)
    return calls


@pytest.mark.parametrize(("name", "n"), [("transition", 2), ("transition", 3), ("record", 2), ("record", 3)])
def test_crash_in_the_middle_of_submission_leaves_the_draft_as_it_was(name, n, monkeypatch, make_case, citizen,
                                                                        db_session):
    case = make_case(SELF_SERVICE_ITEM, citizen, submit=False)  # submission runs three transitions
    form, materials = case.form_json, case.materials_json
    calls = _fail_on_call(monkeypatch, name, n)
    savepoint = db_session.begin_nested()  # what the request's transaction is in a test
    with pytest.raises(RuntimeError):
        ops.submit_application(case, by=citizen, actor=SYSTEM, idempotency_key="crash-test-0001")
    savepoint.rollback()
    assert len(calls) == n
    row = db_session.execute(select(Application.state, Application.number, Application.submitted_at,
                                    Application.idempotency_key).where(Application.id == case.id)).one()
    assert tuple(row) == ("draft", None, None, None)
    assert events_of(db_session, case) == [] and audit_count(db_session, case, "application.submit") == 0
    assert (case.state, case.number, case.events, case.form_json, case.materials_json) == (
        State.DRAFT, None, [], form, materials)
    monkeypatch.undo()
    ops.submit_application(case, by=citizen, actor=SYSTEM, idempotency_key="crash-test-0001")  # the retry works
    assert case.state == State.COMPLETED and len(case.events) == 3


# --- two staff at once (S20) ----------------------------------------------------------------------------


def test_stale_case_is_a_conflict(make_case, citizen, staff, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    db_session.commit()  # the applicant's request ends; both staff load version N
    db_session.execute(text("UPDATE application SET state = 'accepted', version = version + 1 WHERE id = :id"),
                       {"id": case.id})  # the other member of staff accepts first
    db_session.commit()
    with pytest.raises(Conflict, match="Someone else changed this case"):
        ops.refuse_application(case, "材料不全", by=staff["acceptor"], actor=SYSTEM)
    assert case.state == State.ACCEPTED and case.decision_reason is None  # reloaded: the other change won
    assert events_of(db_session, case) == [Action.SUBMIT]


def test_stale_draft_save_is_a_conflict(make_case, citizen, db_session):
    case = make_case(PROMISE_ITEM, citizen, submit=False)
    db_session.commit()
    db_session.execute(text("UPDATE application SET version = version + 1 WHERE id = :id"), {"id": case.id})
    db_session.commit()
    with pytest.raises(Conflict):
        ops.save_draft(case, ops.DraftInput(form={"remark": "另一个标签页"}), by=citizen, actor=SYSTEM)
    assert "remark" not in case.form_data


# --- receipt numbers ------------------------------------------------------------------------------------


def test_number_format_and_alphabet():
    number = numbers.new_number("jilin", date(2026, 11, 22))
    assert re.fullmatch(r"JL20261122[2-9A-HJKMNP-Z]{6}", number) and numbers.is_valid(number)
    assert not set("01ILO") & set(numbers.ALPHABET)
    assert numbers.new_number("guangzhou", date(2026, 1, 5)).startswith("GU20260105")
    assert not numbers.is_valid("JL20261122K7M3Q0") and not numbers.is_valid("JL2026112K7M3QX")


def test_numbers_are_random():
    assert len({numbers.new_number("jilin", date(2026, 11, 22)) for _ in range(200)}) == 200


def test_number_carries_the_local_date_of_submission(make_case, citizen):
    with clock.frozen(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)):  # 01:00 on 03-02 in China
        case = make_case(PROMISE_ITEM, citizen)
    assert case.number.startswith("JL20260302")


def test_number_already_taken_is_drawn_again(monkeypatch, make_case, citizen):
    taken = make_case(PROMISE_ITEM, citizen).number
    candidates = iter([taken, taken, "JL20260302ABCDEF"])
    monkeypatch.setattr(numbers, "new_number", lambda region, day: next(candidates))
    case = make_case(NO_FIELDS_ITEM, citizen)
    assert case.number == "JL20260302ABCDEF"


def test_no_free_number_is_a_conflict_and_the_draft_stays(monkeypatch, make_case, citizen):
    taken = make_case(PROMISE_ITEM, citizen).number
    draws = itertools.count()
    monkeypatch.setattr(numbers, "new_number", lambda region, day: next(draws) is not None and taken)
    case = make_case(NO_FIELDS_ITEM, citizen, submit=False)
    with pytest.raises(Conflict, match="Could not give the application a number"):
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert next(draws) == 10 and (case.state, case.number) == (State.DRAFT, None)


@pytest.mark.parametrize(("number", "masked"), [
    ("JL20261122K7M3QX", "JL20261122****QX"), (None, ""), ("", "")])
def test_number_mask(number, masked):
    assert numbers.mask(number) == masked


@pytest.mark.parametrize("typed", [" jl2026 1122-k7m3qx ", "ＪＬ２０２６１１２２Ｋ７Ｍ３ＱＸ", "JL20261122K7M3QX"])
def test_number_as_typed_is_normalised(typed):
    assert numbers.normalise(typed) == "JL20261122K7M3QX"


# --- progress tokens (receipt QR) -----------------------------------------------------------------------


def test_progress_token_finds_its_case_until_revoked(make_case, citizen, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    token = ops.issue_progress_token(case)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)  # 128 random bits
    assert ops.find_by_token(token) is case
    assert ops.revoke_progress_tokens(case, actor=SYSTEM) == 1
    assert ops.find_by_token(token) is None
    assert audit_count(db_session, case, "application.revoke_tokens") == 1
    assert ops.revoke_progress_tokens(case, actor=SYSTEM) == 0


def test_progress_token_is_stored_only_as_its_sha256(make_case, citizen, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    token = ops.issue_progress_token(case)
    row = db_session.execute(select(ProgressToken).where(ProgressToken.application_id == case.id)).scalar_one()
    assert row.token_hash == sha256_hex(token)
    stored = db_session.execute(text("SELECT * FROM progress_token")).all()
    assert not any(token in str(value) for stored_row in stored for value in stored_row)


def test_reprint_issues_another_token_and_both_work(make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    first, second = ops.issue_progress_token(case), ops.issue_progress_token(case)
    assert first != second and ops.find_by_token(first) is ops.find_by_token(second) is case
    assert ops.revoke_progress_tokens(case, actor=SYSTEM) == 2


def test_progress_token_expires(app, monkeypatch, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    token = ops.issue_progress_token(case)
    lifetime = timedelta(days=ops.PROGRESS_TOKEN_DAYS)
    with clock.frozen(T0 + lifetime - timedelta(seconds=1)):
        assert ops.find_by_token(token) is case
    with clock.frozen(T0 + lifetime):
        assert ops.find_by_token(token) is None
    monkeypatch.setitem(app.config, "PORTAL_PROGRESS_TOKEN_DAYS", 1)
    short = ops.issue_progress_token(case)
    with clock.frozen(T0 + timedelta(days=1)):
        assert ops.find_by_token(short) is None and ops.find_by_token(token) is case


@pytest.mark.parametrize("token", ["", "x" * 65, "no-such-token-at-all-0"])
def test_unknown_token_finds_nothing(token, make_case, citizen):
    ops.issue_progress_token(make_case(PROMISE_ITEM, citizen))
    assert ops.find_by_token(token) is None


def test_draft_has_no_receipt_token(make_case, citizen):
    with pytest.raises(InvalidTransition):
        ops.issue_progress_token(make_case(PROMISE_ITEM, citizen, submit=False))


# --- loading a case -------------------------------------------------------------------------------------


def test_case_is_found_for_its_applicant_and_staff_only(make_case, citizen, make_citizen, staff, agent):
    case = make_case(PROMISE_ITEM, citizen)
    assert ops.get_case(case.id, for_account=citizen) is case
    assert ops.get_case(case.id, for_account=staff["finance"]) is case
    for other in (make_citizen(), agent, None):
        with pytest.raises(NotFound):
            ops.get_case(case.id, for_account=other)
    with pytest.raises(NotFound):
        ops.get_case(case.id + 1000, for_account=staff["chief"])
