"""Effects of enrolment items on the system of record: completion writes them in the same transaction, a change
the records cannot take leaves the case uncompleted and the records unchanged, and revoking undoes them."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.catalog.loader import get_catalog, region_ids
from portal.core import clock
from portal.insurance.constants import (
    EnrolmentEventKind,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
    UnitStatus,
)
from portal.insurance.models import Enrolment, EnrolmentEvent, Person, Unit, person_name_index
from portal.services import handler_for
from portal.services.effects import EffectConflict, EffectRefused, effect_of
from portal.services.enrolment import EnrolmentEffect, UnitRegister
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    agent,
    catalog,
    citizen,
    make_case,
    request_context,
    staff,
)
from tests.factories import valid_credit_code, valid_id_number

ROSTER = "G002036001002_01"  # 职工参保登记 (unit): the roster with every change category
SUSPEND = "G002036001005_02_02"  # 职工停保变更
RESUME = "G002036001005_02_03"  # 职工续保登记
RETIRE = "G002036001005_02_01"  # 职工在职转退休变更
TRANSFER = "G002036001005_03"  # 职工统筹区内转移
UNIT_REGISTER = "G002036001001"  # 单位参保登记
RESIDENT = "G002036001003_01"  # 城乡居民参保登记 (即办件 completed by staff)
GENERIC = "G002036003002_01"  # 医疗保险关系转移 (at the window): its completion records nothing here
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0):
        yield


def roster(*rows: tuple[str, str, str]) -> dict:
    return {"staff": [{"name": name, "id_type": "居民身份证", "id_number": number, "change_category": category}
                      for name, number, category in rows]}


def complete(case, staff):
    """Accept, review, approve and complete the case as the agency does."""
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    if case.is_instant:
        ops.complete_application(case, by=staff["acceptor"], actor=SYSTEM)
        return
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def refused_completion(db_session, case, staff):
    """Complete inside a savepoint that the refusal rolls back, as the request's rollback would."""
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint = db_session.begin_nested()
    with pytest.raises(EffectRefused) as refusal:
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint.rollback()
    db_session.expire_all()
    return refusal.value


def enrol(db_session, person, unit, *, status=EnrolmentStatus.ACTIVE, kind=InsuranceType.EMPLOYEE_MEDICAL):
    row = Enrolment(person_id=person.id, insurance_type=kind, unit_id=unit.id if unit else None, status=status,
                    start_date=date(2020, 1, 1))
    db_session.add(row)
    person.unit_id = unit.id if unit else None
    db_session.flush()
    db_session.expire(person, ["enrolments"])
    return row


def history(db_session, enrolment) -> list[str]:
    return list(db_session.execute(select(EnrolmentEvent.kind).where(EnrolmentEvent.enrolment_id == enrolment.id)
                                   .order_by(EnrolmentEvent.id)).scalars())


# --- registry: every region's enrolment items have their effect ----------------------------------------------


EFFECT_HANDLERS = {"enrolment.unit_register", "enrolment.staff_register", "enrolment.staff_suspend",
                   "enrolment.staff_resume", "enrolment.staff_retire", "enrolment.staff_transfer",
                   "enrolment.staff_terminate", "enrolment.flexible_register", "enrolment.resident_register",
                   "enrolment.resident_suspend", "enrolment.resident_terminate"}


@pytest.mark.parametrize("region", region_ids())
def test_every_regions_registration_items_carry_an_effect(region):
    items = [i for i in get_catalog(region).items if i.handler in EFFECT_HANDLERS]
    names = {i.name.zh for i in items}
    assert {"单位参保登记", "职工参保登记"} <= names
    assert all(isinstance(handler_for(i), EnrolmentEffect | UnitRegister) for i in items)


def test_retirement_back_payment_assessment_is_not_the_retirement_itself():
    item = get_catalog("jilin").get("J002036012004")
    assert item.handler == "enrolment.retirement_top_up"
    assert not isinstance(handler_for(item), EnrolmentEffect)


# --- 职工参保登记: 增加 ---------------------------------------------------------------------------------------


def test_adding_staff_creates_the_person_and_the_enrolment(db_session, make_case, agent, staff):
    number = valid_id_number("19900215", seq="124")  # 17th digit even: female
    case = make_case(ROSTER, agent, form=roster(("刘新员", number, "增加")))
    complete(case, staff)
    assert case.state == State.COMPLETED
    person = db_session.execute(select(Person).where(Person.name_index == person_name_index("刘新员"))).scalar_one()
    assert person.id_number == number and person.birth_date == date(1990, 2, 15) and person.gender == "F"
    assert person.unit_id == agent.unit_id and person.category is PersonCategory.EMPLOYEE
    (enrolment,) = person.enrolments
    assert (enrolment.insurance_type, enrolment.status, enrolment.unit_id, enrolment.start_date) == (
        InsuranceType.EMPLOYEE_MEDICAL, EnrolmentStatus.ACTIVE, agent.unit_id, date(2026, 3, 2))
    assert history(db_session, enrolment) == [EnrolmentEventKind.ADDED]
    assert effect_of(case).handler == "enrolment.staff_register"


def test_adding_a_known_resident_makes_them_an_employee(db_session, make_case, make_person, agent, staff):
    person = make_person(name="陈居民")
    person.category = PersonCategory.RESIDENT
    case = make_case(ROSTER, agent, form=roster((person.name, person.id_number, "增加")))
    complete(case, staff)
    db_session.expire_all()
    assert person.category is PersonCategory.EMPLOYEE and person.unit_id == agent.unit_id
    assert [e.insurance_type for e in person.enrolments] == [InsuranceType.EMPLOYEE_MEDICAL]


def test_adding_someone_already_insured_leaves_case_and_records_unchanged(db_session, make_case, make_person,
                                                                          make_unit, agent, staff):
    other = make_unit(name="别家公司")
    insured = make_person(name="王在保")
    enrol(db_session, insured, other)
    newcomer = valid_id_number("19920101", seq="321")
    rows = (("新人甲", newcomer, "增加"), (insured.name, insured.id_number, "增加"))
    case = make_case(ROSTER, agent, form=roster(*rows))
    error = refused_completion(db_session, case, staff)
    assert "Row 2" in error.message and "already insured" in error.message
    assert case.state == State.APPROVED and case.completed_at is None
    named = Person.name_index == person_name_index("新人甲")
    assert db_session.execute(select(func.count()).select_from(Person).where(named)).scalar() == 0
    assert len(insured.enrolments) == 1 and effect_of(case) is None


def test_a_category_the_item_does_not_handle_is_refused(db_session, make_case, make_person, agent, staff):
    person = make_person(name="赵停保")
    enrol(db_session, person, agent.unit)
    case = make_case(SUSPEND, agent, form=roster((person.name, person.id_number, "增加")))
    error = refused_completion(db_session, case, staff)
    assert "增加" in error.message
    assert [e.status for e in person.enrolments] == [EnrolmentStatus.ACTIVE]


def test_revoking_an_addition_removes_the_enrolment_and_the_new_person(db_session, make_case, agent, staff):
    number = valid_id_number("19880808", seq="555")
    case = make_case(ROSTER, agent, form=roster(("撤销人", number, "增加")))
    complete(case, staff)
    handler_for(catalog_item(case)).revoke_effect(case, "承诺不实")
    db_session.flush()
    named = Person.name_index == person_name_index("撤销人")
    assert db_session.execute(select(func.count()).select_from(Person).where(named)).scalar() == 0
    effect = effect_of(case)
    assert effect.revoked_at is not None and effect.revoke_reason == "承诺不实"
    with pytest.raises(EffectConflict):
        handler_for(catalog_item(case)).revoke_effect(case, "again")


def catalog_item(case):
    return ops.catalog_item(case)


# --- 停保 / 续保 / 在职转退休 / 统筹区内转移 ---------------------------------------------------------------------


def test_suspension_changes_status_with_history_and_revoke_restores_it(db_session, make_case, make_person, agent,
                                                                        staff):
    person = make_person(name="孙中断")
    main = enrol(db_session, person, agent.unit)
    extra = enrol(db_session, person, agent.unit, kind=InsuranceType.LARGE_EXPENSE)
    case = make_case(SUSPEND, agent, form=roster((person.name, person.id_number, "中断")))
    complete(case, staff)
    assert (main.status, extra.status) == (EnrolmentStatus.SUSPENDED, EnrolmentStatus.SUSPENDED)
    assert history(db_session, main) == [EnrolmentEventKind.INTERRUPTED]
    handler_for(catalog_item(case)).revoke_effect(case, "核查不实")
    db_session.flush()
    db_session.expire_all()
    assert (main.status, extra.status) == (EnrolmentStatus.ACTIVE, EnrolmentStatus.ACTIVE)
    assert history(db_session, main) == []


def test_termination_sets_the_end_date(db_session, make_case, make_person, agent, staff):
    person = make_person(name="钱减员")
    main = enrol(db_session, person, agent.unit)
    case = make_case(SUSPEND, agent, form=roster((person.name, person.id_number, "终止")))
    complete(case, staff)
    assert (main.status, main.end_date) == (EnrolmentStatus.TERMINATED, date(2026, 3, 2))


def test_a_unit_cannot_suspend_staff_of_another_unit(db_session, make_case, make_person, make_unit, agent, staff):
    person = make_person(name="周他人")
    main = enrol(db_session, person, make_unit(name="他人公司"))
    case = make_case(SUSPEND, agent, form=roster((person.name, person.id_number, "中断")))
    error = refused_completion(db_session, case, staff)
    assert "no open enrolment" in error.message
    assert main.status is EnrolmentStatus.ACTIVE


def test_resuming_needs_a_suspended_enrolment(db_session, make_case, make_person, agent, staff):
    person = make_person(name="吴续保")
    main = enrol(db_session, person, agent.unit, status=EnrolmentStatus.SUSPENDED)
    case = make_case(RESUME, agent, form=roster((person.name, person.id_number, "恢复")))
    complete(case, staff)
    assert main.status is EnrolmentStatus.ACTIVE and history(db_session, main) == [EnrolmentEventKind.RESUMED]
    again = make_case(RESUME, agent, form=roster((person.name, person.id_number, "恢复")))
    error = refused_completion(db_session, again, staff)
    assert "does not apply" in error.message


def test_retirement_makes_the_employee_a_retiree(db_session, make_case, make_person, agent, staff):
    person = make_person(name="郑退休")
    main = enrol(db_session, person, agent.unit)
    case = make_case(RETIRE, agent, form=roster((person.name, person.id_number, "在职转退休")))
    complete(case, staff)
    assert person.category is PersonCategory.RETIREE and main.status is EnrolmentStatus.ACTIVE
    assert history(db_session, main) == [EnrolmentEventKind.RETIRED]
    handler_for(catalog_item(case)).revoke_effect(case, "不符合退休条件")
    db_session.flush()
    db_session.expire_all()
    assert person.category is PersonCategory.EMPLOYEE and history(db_session, main) == []


def test_transfer_moves_the_person_to_the_receiving_unit(db_session, make_case, make_person, make_unit, agent,
                                                         staff):
    old = make_unit(name="原单位")
    person = make_person(name="冯转移")
    main = enrol(db_session, person, old)
    case = make_case(TRANSFER, agent, form=roster((person.name, person.id_number, "统筹区内转移")))
    complete(case, staff)
    assert main.unit_id == agent.unit_id and person.unit_id == agent.unit_id
    event = db_session.execute(select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == main.id)).scalar_one()
    assert (event.kind, event.from_unit_id, event.to_unit_id) == (EnrolmentEventKind.TRANSFERRED, old.id,
                                                                  agent.unit_id)
    handler_for(catalog_item(case)).revoke_effect(case, "核查不实")
    db_session.flush()
    db_session.expire_all()
    assert main.unit_id == old.id and person.unit_id == old.id


def test_revoke_refuses_when_the_records_moved_on(db_session, make_case, make_person, agent, staff):
    person = make_person(name="卫后改")
    main = enrol(db_session, person, agent.unit)
    case = make_case(SUSPEND, agent, form=roster((person.name, person.id_number, "中断")))
    complete(case, staff)
    main.status = EnrolmentStatus.TERMINATED
    main.end_date = date(2026, 3, 2)
    with pytest.raises(EffectConflict):
        handler_for(catalog_item(case)).revoke_effect(case, "核查不实")


# --- 单位参保登记 ------------------------------------------------------------------------------------------


def unit_form(code: str, purpose: str = "新参保登记") -> dict:
    return {"purpose": purpose, "unit_name": "长春新设医药有限公司", "credit_code": code, "unit_type": "企业",
            "legal_rep_name": "韩法人", "legal_rep_id": valid_id_number("19700101", seq="777"),
            "address": "长春市南关区人民大街1号"}


def test_unit_registration_creates_the_unit(db_session, make_case, agent, staff):
    code = valid_credit_code("91220101MA1234567")
    case = make_case(UNIT_REGISTER, agent)
    case.form_data = case.form_data | unit_form(code)  # as filed for a new unit at the window
    complete(case, staff)
    unit = db_session.execute(select(Unit).where(Unit.credit_code == code)).scalar_one()
    assert (unit.name, unit.status, unit.legal_rep_name) == ("长春新设医药有限公司", UnitStatus.ACTIVE, "韩法人")
    assert unit.code.startswith("U2026") and unit.legal_rep_id_index is not None
    handler_for(catalog_item(case)).revoke_effect(case, "承诺不实")
    db_session.flush()
    assert db_session.execute(select(Unit).where(Unit.credit_code == code)).scalar_one_or_none() is None


def test_registering_a_unit_already_registered_is_refused(db_session, make_case, agent, staff):
    case = make_case(UNIT_REGISTER, agent)  # the agent's own unit, already in the records
    error = refused_completion(db_session, case, staff)
    assert "already registered" in error.message
    assert case.state == State.APPROVED


def test_cancelling_a_unit_with_insured_staff_is_refused(db_session, make_case, make_person, agent, staff):
    enrol(db_session, make_person(name="褚在职"), agent.unit)
    case = make_case(UNIT_REGISTER, agent, form={"purpose": "注销登记"})
    error = refused_completion(db_session, case, staff)
    assert "still insured" in error.message
    assert agent.unit.status is UnitStatus.ACTIVE


def test_suspending_a_unit_changes_its_status(db_session, make_case, agent, staff):
    case = make_case(UNIT_REGISTER, agent, form={"purpose": "暂停登记"})
    complete(case, staff)
    assert agent.unit.status is UnitStatus.SUSPENDED
    handler_for(catalog_item(case)).revoke_effect(case, "核查不实")
    db_session.flush()
    assert agent.unit.status is UnitStatus.ACTIVE


# --- residents; items without an effect -----------------------------------------------------------------


def test_resident_registration_enrols_the_citizen(db_session, make_case, citizen, staff):
    with clock.frozen(datetime(2026, 11, 2, 2, 0, tzinfo=UTC)):  # inside the yearly window
        case = make_case(RESIDENT, citizen)
        complete(case, staff)
    person = citizen.person
    assert [(e.insurance_type, e.status) for e in person.enrolments] == [
        (InsuranceType.RESIDENT_MEDICAL, EnrolmentStatus.ACTIVE)]
    assert person.category is PersonCategory.RESIDENT


def test_items_without_an_effect_simply_complete(db_session, make_case, citizen, staff):
    case = make_case(GENERIC, citizen)
    complete(case, staff)
    assert case.state == State.COMPLETED and effect_of(case) is None


# --- 退休人员医保管理 (岳阳): the handler on its own, over the region's roster shape ------------------------------


def test_retiree_death_ends_the_enrolment_at_the_date_of_death(db_session, make_case, make_person, make_unit,
                                                               agent, staff):
    from portal.services.enrolment import RetireeManage

    assert isinstance(handler_for(get_catalog("yueyang").get("002036001008")), RetireeManage)
    died, moved = make_person(name="蒋故去"), make_person(name="沈移交")
    died.category = moved.category = PersonCategory.RETIREE
    ended, old = enrol(db_session, died, agent.unit), make_unit(name="原管理单位")
    transferred = enrol(db_session, moved, old)
    case = make_case(ROSTER, agent, submit=False)
    case.form_data = {"retirees": [
        {"name": died.name, "id_number": died.id_number, "change_type": "死亡停保", "death_date": "2026-02-20"},
        {"name": moved.name, "id_number": moved.id_number, "change_type": "医保管理责任单位变更"},
        {"name": moved.name, "id_number": moved.id_number, "change_type": "退休工资变更", "new_pension": "3200.00"},
    ]}
    case.number = "TEST-RETIREE"
    RetireeManage().apply_effect(case, None)
    assert (ended.status, ended.end_date, died.death_date) == (EnrolmentStatus.TERMINATED, date(2026, 2, 20),
                                                               date(2026, 2, 20))
    assert transferred.unit_id == agent.unit_id and moved.unit_id == agent.unit_id
    RetireeManage().revoke_effect(case, "核查不实")
    db_session.flush()
    db_session.expire_all()
    assert (ended.status, ended.end_date, died.death_date) == (EnrolmentStatus.ACTIVE, None, None)
    assert transferred.unit_id == old.id


def test_an_insured_person_files_only_for_themselves(db_session, make_case, make_person, citizen, staff):
    other = make_person(name="别人")
    enrol(db_session, other, None)
    case = make_case(SUSPEND, citizen, form=roster((other.name, other.id_number, "中断")))
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint = db_session.begin_nested()
    with pytest.raises(EffectRefused) as refusal:
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint.rollback()
    assert "only for themselves" in refusal.value.message
    own = enrol(db_session, citizen.person, None)
    mine = make_case(SUSPEND, citizen, form=roster((citizen.person.name, citizen.person.id_number, "中断")))
    complete(mine, staff)
    assert own.status is EnrolmentStatus.SUSPENDED
