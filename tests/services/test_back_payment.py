"""补缴 (岳阳 法定断档补缴, 002036001007): the months owed and the amounts, worked out from the form's rows and the
contribution records, shown to the filer and staff, and paid into the records at completion (all or none,
revocable); the unit's arrears are then resolved. Worked examples with the region's (demo) rates 7 % + 2 %."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.applications import operations as ops
from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.insurance import queries
from portal.insurance.constants import ContributionStatus, EnrolmentStatus, InsuranceType
from portal.insurance.models import Contribution, Enrolment
from portal.services.contributions import back_payment
from portal.services.effects import EffectRefused
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    agent,
    all_materials,
    catalog,
    request_context,
    sample_value,
    staff,
)
from tests.services.conftest import region  # noqa: F401 (fixture)

ITEM = "002036001007"  # 岳阳 法定断档补缴
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
EMPLOYEE = InsuranceType.EMPLOYEE_MEDICAL


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0):
        yield


@pytest.fixture
def yueyang(region, app):
    region("yueyang")
    return app.extensions["portal_catalog"]


@pytest.fixture
def two_staff(db_session, agent, make_person):
    """Two persons insured through the agent's unit; the first has 2025-01 paid and 2025-02 in arrears."""
    people = []
    for name in ("赵一", "钱二"):
        person = make_person(name=name)
        db_session.add(Enrolment(person_id=person.id, insurance_type=EMPLOYEE, unit_id=agent.unit_id,
                                 status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1)))
        people.append(person)
    db_session.add_all([
        Contribution(person_id=people[0].id, unit_id=agent.unit_id, insurance_type=EMPLOYEE,
                     period_month=date(2025, 1, 1), base=Decimal("5000"), unit_amount=Decimal("350"),
                     personal_amount=Decimal("100"), status=ContributionStatus.PAID, paid_at=T0),
        Contribution(person_id=people[0].id, unit_id=agent.unit_id, insurance_type=EMPLOYEE,
                     period_month=date(2025, 2, 1), base=Decimal("5000"), unit_amount=Decimal("350"),
                     personal_amount=Decimal("100"), status=ContributionStatus.ARREARS)])
    db_session.flush()
    return people


def _row(person, wage: str, start: str, end: str, kind: str = "职工基本医疗（生育）保险") -> dict:
    return {"name": person.name, "id_number": person.id_number, "person_category": "在职", "back_pay_wage": wage,
            "insurance_type": kind, "start_month": start, "end_month": end, "signature": "已签"}


def _draft(catalog, agent, rows: list[dict]):
    item = catalog.get(ITEM)
    case = ops.start_application(item, by=agent, actor=SYSTEM)
    data = dict(case.form_data)
    for spec in ops.specs_for(case, item):
        if spec.required and spec.key not in data and spec.key != "persons":
            data[spec.key] = sample_value(spec)
    data["persons"] = rows
    ops.save_draft(case, ops.DraftInput(form=data, materials=all_materials(item)), by=agent, actor=SYSTEM)
    return case


def _complete(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def _months(db_session, person) -> dict[date, tuple[str, Decimal, Decimal]]:
    return {c.period_month: (c.status.value, c.unit_amount, c.personal_amount) for c in db_session.execute(
        select(Contribution).where(Contribution.person_id == person.id)).scalars()}


def test_the_months_owed_and_the_amounts_are_worked_out_paid_at_completion_and_revocable(
        yueyang, agent, staff, two_staff, db_session):
    first, second = two_staff
    case = _draft(yueyang, agent, [_row(first, "5000", "2025-01", "2025-04"),
                                   _row(second, "4321.57", "2024-11", "2025-01")])
    found = back_payment.working(case)
    assert found.problems == [] and found.rates.demo
    one, two = found.lines
    # 2025-01 is paid already; 2025-02 (in arrears), 03 and 04 (no record) are owed: 3 months
    assert one.owed == (date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1))
    assert (one.already_paid, one.in_arrears) == (1, 1)
    assert (one.unit_monthly, one.personal_monthly, one.total) == (Decimal("350.00"), Decimal("100.00"),
                                                                  Decimal("1350.00"))  # (5000 × 7 % + 5000 × 2 %) × 3
    # 4321.57 × 7 % = 302.5099 → 302.51; × 2 % = 86.4314 → 86.43; 2024-11..2025-01 across the year: 3 months
    assert (two.months, two.unit_monthly, two.personal_monthly) == (3, Decimal("302.51"), Decimal("86.43"))
    assert two.total == Decimal("1166.82")
    assert (found.months, found.total) == (6, Decimal("2516.82"))
    assert queries.unit_overview(agent.unit).arrears_months == 1

    ops.submit_application(case, by=agent, actor=SYSTEM)
    _complete(case, staff)
    assert _months(db_session, first) == {
        date(2025, 1, 1): ("paid", Decimal("350.00"), Decimal("100.00")),
        **{date(2025, m, 1): ("paid", Decimal("350.00"), Decimal("100.00")) for m in (2, 3, 4)}}
    assert set(_months(db_session, second)) == {date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1)}
    assert queries.unit_overview(agent.unit).arrears_months == 0  # the unit's statement: arrears resolved
    kept = back_payment.panel(case)
    assert kept["stored"] and kept["total"] == Decimal("2516.82") and kept["months"] == 6
    assert [line["owed"] for line in kept["lines"]] == ["2025-02—2025-04", "2024-11—2025-01"]

    ops.catalog_item(case)
    back_payment.BackPayment().revoke_effect(case, "事后核查：承诺不实")
    assert _months(db_session, first) == {date(2025, 1, 1): ("paid", Decimal("350.00"), Decimal("100.00")),
                                          date(2025, 2, 1): ("arrears", Decimal("350.00"), Decimal("100.00"))}
    assert _months(db_session, second) == {}


def test_bad_rows_are_refused_each_with_its_reason_and_the_draft_is_not_submitted(
        yueyang, agent, two_staff, make_person, db_session):
    first, second = two_staff
    stranger = make_person(name="周外")
    case = _draft(yueyang, agent, [_row(first, "5000", "2025-01", "2026-03"),  # this month: not yet owed
                                   _row(second, "5000", "2025-01", "2025-02", kind="补充医疗保险"),
                                   _row(stranger, "5000", "2025-01", "2025-02"),
                                   _row(first, "0", "2025-05", "2025-04")])
    problems = [message for _key, message in back_payment.working(case).problems]
    assert problems == [
        "Row 1: only months before this one can be back-paid.",
        "Row 2: this service computes back-payments of 职工基本医疗保险 only (the only insurance whose rates are in "
        "the region's data), not “补充医疗保险”.",
        "Row 3: this person is not insured through this unit.",
        "Row 4: the monthly wage for the back-payment must be an amount above zero."]
    with pytest.raises(ValidationFailed):
        ops.submit_application(case, by=agent, actor=SYSTEM)
    assert case.state == "draft"


def test_completion_refuses_all_when_the_records_changed_since_filing(yueyang, agent, staff, two_staff, db_session):
    first, second = two_staff
    case = _draft(yueyang, agent, [_row(first, "5000", "2025-02", "2025-02"), _row(second, "5000", "2025-02",
                                                                                   "2025-02")])
    ops.submit_application(case, by=agent, actor=SYSTEM)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    for enrolment in second.enrolments:  # moved to another unit meanwhile
        enrolment.unit_id = None
    db_session.flush()
    savepoint = db_session.begin_nested()
    with pytest.raises(EffectRefused, match="Row 2: this person is not insured through this unit"):
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint.rollback()
    assert _months(db_session, first)[date(2025, 2, 1)][0] == "arrears"  # nothing half-applied


def test_the_filer_and_staff_see_the_working(yueyang, agent, staff, two_staff, make_client, make_staff, db_session):
    from tests.factories import log_in_by_code, log_in_staff

    first, _second = two_staff
    case = _draft(yueyang, agent, [_row(first, "5000", "2025-01", "2025-04")])
    db_session.commit()
    filer = log_in_by_code(make_client(), db_session, agent.phone, unit=agent.unit)
    page = filer.get(f"/applications/{case.id}/edit").get_data(as_text=True)
    assert 'data-testid="back-payment-total" data-amount="1350.00"' in page
    assert "2025-02—2025-04" in page and "demo values" in page and "Late fees (滞纳金) are not computed" in page
    ops.submit_application(case, by=agent, actor=SYSTEM)
    _account, secret = make_staff("tbpchief", roles={"chief"})
    db_session.commit()
    desk = log_in_staff(make_client(), "tbpchief", secret)
    page = desk.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="back-payment-total" data-amount="1350.00"' in page
    assert first.name not in page  # masked
