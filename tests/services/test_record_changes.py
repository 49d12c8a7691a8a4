"""Effects of information changes (单位 / 职工 / 城乡居民信息变更, 单位注销) on the system of record: completion
writes the form's new values, a change the records cannot take leaves the case uncompleted and the records
unchanged (with every problem named), and revoking puts the old values back unless the record moved on since."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.applications.fields import field_specs
from portal.catalog.loader import get_catalog, region_ids
from portal.core import clock
from portal.insurance.constants import (
    EnrolmentStatus,
    HealthCareLevel,
    InsuranceType,
    PersonCategory,
    UnitNature,
    UnitStatus,
)
from portal.insurance.models import Enrolment, id_number_index, phone_index
from portal.services import handler_for
from portal.services.effects import EffectConflict, EffectRefused, effect_of
from portal.services.record_changes import ResidentChange, SpecialFlag, StaffChange, UnitChange, UnitClose
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    agent,
    catalog,
    citizen,
    make_case,
    request_context,
    staff,
)
from tests.factories import mobile, valid_id_number

UNIT_CHANGE = "G002036001004_01"  # 单位基本信息变更 (即办件)
UNIT_CLOSE = "G002036001004_02"  # 单位合并、分立或注销
STAFF_CHANGE = "G002036001005_01"  # 职工基本信息变更 (即办件)
RESIDENT_CHANGE = "G002036001006_01"  # 城乡居民基本信息变更 (即办件)
SPECIAL_FLAG = "G002036001002_01-2"  # 特殊人员身份标记 (即办件, filed by the unit)
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0):
        yield


def complete(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    if not case.is_instant:
        ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def refused_completion(db_session, case, staff) -> EffectRefused:
    """Complete inside a savepoint that the refusal rolls back, as the request's rollback would."""
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    if not case.is_instant:
        ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    state = case.state
    savepoint = db_session.begin_nested()
    with pytest.raises(EffectRefused) as refusal:
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint.rollback()
    db_session.expire_all()
    assert case.state == state and case.completed_at is None and effect_of(case) is None
    return refusal.value


def revoke(db_session, case, reason="承诺不实"):
    handler_for(ops.catalog_item(case)).revoke_effect(case, reason)
    db_session.flush()
    db_session.expire_all()


def changes(*rows: tuple[str, str, str, str, str]) -> dict:
    """The 变更明细 table of the 吉林 forms: (身份证件号码, 姓名, 变更项目, 变更前, 变更后) per row."""
    return {"info_kind": "非关键信息", "rows": [
        {"id_number": number, "name": name, "change_item": item, "before": before, "after": after}
        for number, name, item, before, after in rows]}


def employ(db_session, person, unit):
    db_session.add(Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=unit.id,
                             status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1)))
    person.unit_id = unit.id
    db_session.flush()
    db_session.expire(person, ["enrolments"])


# --- registry ------------------------------------------------------------------------------------------------


HANDLERS = {"enrolment.unit_change": UnitChange, "enrolment.staff_change": StaffChange,
            "enrolment.resident_change": ResidentChange, "enrolment.unit_close": UnitClose,
            "enrolment.special_flag": SpecialFlag}


@pytest.mark.parametrize("region", region_ids())
def test_every_regions_change_items_carry_their_effect(region):
    items = [i for i in get_catalog(region).items if i.handler in HANDLERS]
    assert {i.handler for i in items} >= {"enrolment.unit_change", "enrolment.staff_change",
                                          "enrolment.resident_change"}
    assert all(type(handler_for(i)) is HANDLERS[i.handler] for i in items)


# --- 单位信息变更 ---------------------------------------------------------------------------------------------


def new_unit_values(rep_id: str, rep_phone: str) -> dict:
    return {"new_name": "长春改名科技有限公司", "new_address": "长春市朝阳区新民大街1号", "new_unit_type": "事业单位",
            "new_legal_rep_name": "钱新法", "new_legal_rep_id": rep_id, "new_legal_rep_phone": rep_phone,
            "new_bank_name": "中国银行长春分行", "new_bank_account": "6216 6100 0001 2345"}


def test_unit_change_writes_the_new_values_sealed_and_revoke_restores_them(db_session, make_case, agent, staff):
    unit = agent.unit
    unit.address, unit.legal_rep_name, unit.bank_account = "长春市南关区旧街2号", "李旧法", "6222000011112222"
    unit.set_legal_rep_id_number(valid_id_number("19700101", seq="011"))
    old_rep_index = unit.legal_rep_id_index
    rep_id, rep_phone = valid_id_number("19750505", seq="137"), mobile()
    case = make_case(UNIT_CHANGE, agent, form=new_unit_values(rep_id, rep_phone))
    complete(case, staff)
    assert case.state == State.COMPLETED
    assert (unit.name, unit.address, unit.nature, unit.legal_rep_name, unit.legal_rep_id_number,
            unit.legal_rep_phone, unit.bank_name, unit.bank_account) == (
        "长春改名科技有限公司", "长春市朝阳区新民大街1号", UnitNature.PUBLIC_INSTITUTION, "钱新法", rep_id, rep_phone,
        "中国银行长春分行", "6216610000012345")
    assert unit.legal_rep_id_index == id_number_index(rep_id)
    steps = effect_of(case).steps_json  # the ledger keeps no personal data in the clear
    assert all(value not in steps for value in (rep_id, rep_phone, "钱新法", "李旧法", "6222000011112222"))

    revoke(db_session, case)
    assert (unit.name, unit.address, unit.nature, unit.legal_rep_name, unit.bank_account, unit.bank_name) == (
        "长春测试科技有限公司", "长春市南关区旧街2号", UnitNature.ENTERPRISE, "李旧法", "6222000011112222", None)
    assert unit.legal_rep_id_index == old_rep_index and unit.legal_rep_phone is None


def test_unit_change_refused_names_every_problem_and_changes_nothing(db_session, make_case, agent, staff):
    unit = agent.unit
    form = new_unit_values(valid_id_number("19750505", seq="139"), mobile()) | {
        "new_name": "长" * 201, "new_unit_type": "外星机构"}
    case = make_case(UNIT_CHANGE, agent, form=form)
    error = refused_completion(db_session, case, staff)
    assert "单位名称" in error.message and "外星机构" in error.message
    assert (unit.name, unit.address, unit.nature, unit.legal_rep_name) == (
        "长春测试科技有限公司", None, UnitNature.ENTERPRISE, None)


def test_unit_change_revoke_refuses_when_the_unit_changed_since(db_session, make_case, agent, staff):
    case = make_case(UNIT_CHANGE, agent, form={"new_address": "长春市绿园区新址3号"})
    complete(case, staff)
    agent.unit.address = "长春市宽城区后来又搬4号"  # a later, legitimate change
    db_session.flush()
    with pytest.raises(EffectConflict):
        revoke(db_session, case)
    assert agent.unit.address == "长春市宽城区后来又搬4号"


def test_unit_change_without_new_values_completes_without_an_effect(db_session, make_case, agent, staff):
    case = make_case(UNIT_CHANGE, agent, form={"remark": "只更换经办人"})
    complete(case, staff)
    assert case.state == State.COMPLETED and effect_of(case) is None


# --- 职工基本信息变更 -----------------------------------------------------------------------------------------


def test_staff_change_writes_name_phone_and_address_and_revoke_restores(db_session, make_case, make_person, agent,
                                                                        staff):
    old_phone, new_phone = mobile(), mobile()
    person = make_person(name="周旧名", phone=old_phone)
    employ(db_session, person, agent.unit)
    number = person.id_number
    case = make_case(STAFF_CHANGE, agent, form=changes(
        (number, "周旧名", "姓名", "周旧名", "周新名"),
        (number, "周旧名", "联系电话", old_phone, new_phone),
        (number, "周旧名", "居住地址", "", "长春市二道区东盛大街8号"),
        (number, "周旧名", "学历", "大专", "本科")))  # not kept by the records: passes
    complete(case, staff)
    assert case.state == State.COMPLETED
    assert (person.name, person.phone, person.phone_index, person.address) == (
        "周新名", new_phone, phone_index(new_phone), "长春市二道区东盛大街8号")
    assert all(v not in effect_of(case).steps_json for v in ("周新名", "周旧名", new_phone, old_phone))

    revoke(db_session, case)
    assert (person.name, person.phone, person.phone_index, person.address) == (
        "周旧名", old_phone, phone_index(old_phone), None)


def test_staff_change_of_identity_number_updates_birth_date_and_gender(db_session, make_case, make_person, agent,
                                                                       staff):
    person = make_person(name="吴证号", id_number=valid_id_number("19800101", seq="011"))
    employ(db_session, person, agent.unit)
    old, new = person.id_number, valid_id_number("19810202", seq="022")  # 17th digit even: female
    case = make_case(STAFF_CHANGE, agent, form=changes((old, "吴证号", "公民身份号码", old, new)))
    complete(case, staff)
    assert (person.id_number, person.id_number_index, person.birth_date, person.gender) == (
        new, id_number_index(new), date(1981, 2, 2), "F")
    revoke(db_session, case)
    assert (person.id_number, person.id_number_index, person.birth_date, person.gender) == (
        old, id_number_index(old), date(1980, 1, 1), "M")


def test_revoking_an_identity_change_refuses_when_the_old_number_was_taken_since(db_session, make_case, make_person,
                                                                                agent, staff):
    person = make_person(name="卫换号")
    employ(db_session, person, agent.unit)
    old, new = person.id_number, valid_id_number("19830303", seq="051")
    case = make_case(STAFF_CHANGE, agent, form=changes((old, "卫换号", "身份证件号码", old, new)))
    complete(case, staff)
    make_person(name="后来者", id_number=old)  # the freed number is registered for someone else afterwards
    with pytest.raises(EffectConflict):
        revoke(db_session, case)
    assert person.id_number == new and effect_of(case).revoked_at is None


def test_staff_change_refused_lists_every_problem_and_changes_nothing(db_session, make_case, make_person,
                                                                      make_unit, agent, staff):
    mine = make_person(name="郑本单位")
    taken = make_person(name="冯已占用")
    stranger = make_person(name="陈别家")
    employ(db_session, mine, agent.unit)
    employ(db_session, stranger, make_unit(name="别家公司"))
    case = make_case(STAFF_CHANGE, agent, form=changes(
        (mine.id_number, "郑本单位", "身份证件号码", mine.id_number, taken.id_number),  # belongs to another
        (mine.id_number, "郑本单位", "联系电话", "", "12345"),  # not a mobile number
        (mine.id_number, "郑本单位", "鞋码", "40", "41"),  # nothing the portal can place
        (stranger.id_number, "陈别家", "姓名", "陈别家", "陈改名"),  # not this unit's staff
        (mine.id_number, "错名字", "民族", "汉族", "满族")))  # the name does not match the number
    number = mine.id_number
    error = refused_completion(db_session, case, staff)
    for row in ("Row 1", "Row 2", "Row 3", "Row 4", "Row 5"):
        assert row in error.message
    assert "another insured person" in error.message and "鞋码" in error.message
    assert (mine.id_number, mine.name, mine.phone, mine.ethnicity, stranger.name) == (
        number, "郑本单位", None, None, "陈别家")


def test_staff_change_refuses_an_invalid_new_identity_number(db_session, make_case, make_person, agent, staff):
    person = make_person(name="褚校验")
    employ(db_session, person, agent.unit)
    good = valid_id_number("19900101", seq="033")
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")  # a wrong check digit
    case = make_case(STAFF_CHANGE, agent, form=changes((person.id_number, "褚校验", "身份证号码", "", bad)))
    before = person.id_number
    error = refused_completion(db_session, case, staff)
    assert "Row 1" in error.message and person.id_number == before


def test_staff_change_refuses_a_stale_value_before(db_session, make_case, make_person, agent, staff):
    person = make_person(name="蒋现名")
    employ(db_session, person, agent.unit)
    case = make_case(STAFF_CHANGE, agent, form=changes((person.id_number, "蒋现名", "姓名", "蒋旧名", "蒋新名")))
    error = refused_completion(db_session, case, staff)
    assert "before the change" in error.message and person.name == "蒋现名"


def test_a_citizen_changes_only_their_own_record(db_session, make_case, make_person, citizen, staff):
    me, other = citizen.person, make_person(name="沈他人")
    case = make_case(STAFF_CHANGE, citizen, form=changes(
        (me.id_number, me.name, "民族", "", "回族"), (other.id_number, other.name, "民族", "", "回族")))
    error = refused_completion(db_session, case, staff)
    assert "Row 2" in error.message and "Row 1" not in error.message
    assert me.ethnicity is None and other.ethnicity is None


# --- 城乡居民基本信息变更 -------------------------------------------------------------------------------------


def test_resident_changes_their_own_address_and_revoke_restores(db_session, make_case, citizen, staff):
    me = citizen.person
    case = make_case(RESIDENT_CHANGE, citizen, form=changes(
        (me.id_number, me.name, "居住地址", "", "长春市南关区幸福街9号"),
        (me.id_number, me.name, "户籍地", "", "吉林省长春市南关区")))
    complete(case, staff)
    assert (me.address, me.hukou_place) == ("长春市南关区幸福街9号", "吉林省长春市南关区")
    revoke(db_session, case)
    assert (me.address, me.hukou_place) == (None, None)


def test_a_resident_cannot_change_a_family_members_record(db_session, make_case, make_person, citizen, staff):
    relative = make_person(name="韩家属")
    case = make_case(RESIDENT_CHANGE, citizen, form=changes(
        (relative.id_number, relative.name, "居住地址", "", "长春市南关区幸福街9号")))
    error = refused_completion(db_session, case, staff)
    assert "own record" in error.message and relative.address is None


# --- 单位合并、分立或注销 ----------------------------------------------------------------------------------------


def test_unit_close_cancels_the_unit_and_revoke_reinstates_it(db_session, make_case, agent, staff):
    case = make_case(UNIT_CLOSE, agent, form={"purpose": "注销登记"})
    complete(case, staff)
    assert case.state == State.COMPLETED and agent.unit.status is UnitStatus.CANCELLED
    revoke(db_session, case)
    assert agent.unit.status is UnitStatus.ACTIVE


def test_unit_close_refuses_with_insured_staff_and_a_new_registration(db_session, make_case, make_person, agent,
                                                                      staff):
    employ(db_session, make_person(name="杨在职"), agent.unit)
    error = refused_completion(db_session, make_case(UNIT_CLOSE, agent, form={"purpose": "注销登记"}), staff)
    assert "still insured" in error.message and agent.unit.status is UnitStatus.ACTIVE
    error = refused_completion(db_session, make_case(UNIT_CLOSE, agent, form={"purpose": "新参保登记"}), staff)
    assert "单位参保登记" in error.message


# --- 特殊人员身份标记 -------------------------------------------------------------------------------------------


def marks(*rows: tuple[str, str, str]) -> dict:
    return {"rows": [{"id_number": number, "name": name, "status_flag": flag} for number, name, flag in rows]}


def test_the_unit_form_carries_the_published_detail_columns_with_the_mark_as_a_choice(catalog):
    (table,) = [s for s in field_specs(catalog.get(SPECIAL_FLAG), "unit") if s.columns]
    assert [c.key for c in table.columns] == ["id_number", "name", "status_flag"]
    assert table.columns[2].option_values() == ["二级保健", "劳模", "六级及以上残疾军人", "离休"]


def test_special_flags_mark_the_staff_and_revoke_unmarks_them(db_session, make_case, make_person, agent, staff):
    worker, retiree = make_person(name="鲁劳模"), make_person(name="韦离休")
    employ(db_session, worker, agent.unit)
    employ(db_session, retiree, agent.unit)
    retiree.category = PersonCategory.RETIREE
    db_session.flush()
    case = make_case(SPECIAL_FLAG, agent, form=marks(
        (worker.id_number, "鲁劳模", "劳模"), (worker.id_number, "鲁劳模", "二级保健"),
        (retiree.id_number, "韦离休", "离休")))
    complete(case, staff)
    assert case.state == State.COMPLETED
    assert (worker.is_model_worker, worker.health_care_level) == (True, HealthCareLevel.LEVEL_2)
    assert (retiree.category, retiree.is_retired_cadre) == (PersonCategory.RETIRED_CADRE, True)
    revoke(db_session, case)
    assert (worker.is_model_worker, worker.health_care_level) == (False, None)
    assert (retiree.category, retiree.is_retired_cadre) == (PersonCategory.RETIREE, False)


def test_special_flags_refused_mark_nobody(db_session, make_case, make_person, make_unit, agent, staff):
    worker, active = make_person(name="昌在职"), make_person(name="马别家")
    employ(db_session, worker, agent.unit)
    employ(db_session, active, make_unit(name="别家公司"))
    case = make_case(SPECIAL_FLAG, agent, form=marks(
        (worker.id_number, "昌在职", "劳模"), (worker.id_number, "昌在职", "离休"),  # not a retiree
        (active.id_number, "马别家", "劳模")))  # not this unit's staff
    error = refused_completion(db_session, case, staff)
    assert "Row 2" in error.message and "Row 3" in error.message and "Row 1" not in error.message
    assert (worker.is_model_worker, worker.category, active.is_model_worker) == (
        False, PersonCategory.EMPLOYEE, False)


# --- the other regions' form shapes: the handler on its own ------------------------------------------------------


@pytest.mark.parametrize(("region", "code", "form"), [
    ("yueyang", "002036001004", {"changed_unit_name": "岳阳新名有限公司", "changed_legal_rep_id_number": "{rep}",
                                 "changed_bank_name": "岳阳银行"}),
    ("shangluo", "002036001004", {"new_unit_name": "岳阳新名有限公司", "new_legal_rep_id_number": "{rep}",
                                  "new_bank_name": "岳阳银行"}),
])
def test_unit_change_reads_each_regions_new_value_keys(db_session, make_case, agent, staff, region, code, form):
    assert isinstance(handler_for(get_catalog(region).get(code)), UnitChange)
    rep = valid_id_number("19720707", seq="071")
    case = make_case(UNIT_CHANGE, agent, submit=False)
    case.form_data = {k: v.format(rep=rep) for k, v in form.items()}
    unit = agent.unit
    UnitChange().apply_effect(case, None)
    assert (unit.name, unit.legal_rep_id_number, unit.bank_name) == ("岳阳新名有限公司", rep, "岳阳银行")
    UnitChange().revoke_effect(case, "核查不实")
    db_session.flush()
    assert (unit.name, unit.legal_rep_id_number, unit.bank_name) == ("长春测试科技有限公司", None, None)


@pytest.mark.parametrize(("region", "item_key"), [("yueyang", "change_item"), ("shangluo", "item")])
def test_staff_change_reads_each_regions_change_table(db_session, make_case, make_person, agent, region, item_key):
    item = next(i for i in get_catalog(region).items if i.handler == "enrolment.staff_change")
    assert isinstance(handler_for(item), StaffChange)
    person = make_person(name="秦旧名")
    employ(db_session, person, agent.unit)
    case = make_case(STAFF_CHANGE, agent, submit=False)
    case.form_data = {"info_type": "关键信息", "changes": [
        {"seq": "1", "id_number": person.id_number, "name": "秦旧名", item_key: "姓名", "before": "秦旧名",
         "after": "秦新名"}]}
    StaffChange().apply_effect(case, None)
    assert person.name == "秦新名"


def test_a_step_written_before_sealing_still_reverts(db_session, make_case, agent):
    """Effects recorded before text values were sealed hold them in the clear; revoking them still works."""
    from portal.services.effects import revert
    from portal.services.models import CaseEffect

    case = make_case(UNIT_CHANGE, agent, submit=False)
    agent.unit.address = "长春市新址"
    effect = CaseEffect(application_id=case.id, handler="enrolment.unit_change", applied_at=T0)
    effect.steps = [{"op": "changed", "table": "unit", "id": agent.unit.id, "before": {"address": "长春市旧址"},
                     "after": {"address": "长春市新址"}}]
    db_session.add(effect)
    db_session.flush()
    revert(case, "核查不实")
    assert agent.unit.address == "长春市旧址"
