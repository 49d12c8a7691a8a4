"""Read functions for "my account": person and unit overviews, their query budget and their partials."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from portal.core.db import db
from portal.insurance.constants import (
    ContributionStatus,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
)
from portal.insurance.demo import DEMO_CITIZENS, generate_demo_data
from portal.insurance.models import Contribution, Enrolment, Person, PersonalAccount, Unit, id_number_index
from portal.insurance.queries import person_overview, unit_overview

from .test_models import make_person, make_unit

PAID_AT = datetime(2024, 1, 20, 2, tzinfo=UTC)


def contribution(person, month, kind=InsuranceType.EMPLOYEE_MEDICAL, *, paid=True, unit=None, amount="100.00"):
    return Contribution(person_id=person.id, unit_id=unit.id if unit else None, insurance_type=kind, period_month=month,
                        base=Decimal("5000.00") if kind is InsuranceType.EMPLOYEE_MEDICAL else None,
                        unit_amount=Decimal("350.00") if unit else Decimal("0.00"), personal_amount=Decimal(amount),
                        status=ContributionStatus.PAID if paid else ContributionStatus.ARREARS,
                        paid_at=PAID_AT if paid else None)


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        statements.append(statement)

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", before)


@pytest.fixture
def insured(db_session):
    """An employee with 3 paid months, 1 in arrears, a 大额 annual row, a resident past, and an account."""
    unit = make_unit(db_session)
    person = make_person(db_session, unit_id=unit.id)
    db_session.add_all([
        Enrolment(person_id=person.id, insurance_type=InsuranceType.RESIDENT_MEDICAL, status=EnrolmentStatus.TERMINATED,
                  start_date=date(2018, 1, 1), end_date=date(2023, 12, 31)),
        Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=unit.id,
                  start_date=date(2024, 1, 1)),
        Enrolment(person_id=person.id, insurance_type=InsuranceType.LARGE_EXPENSE, unit_id=unit.id,
                  start_date=date(2024, 1, 1)),
        *(contribution(person, date(2024, m, 1), unit=unit) for m in (1, 2, 3)),
        contribution(person, date(2024, 4, 1), unit=unit, paid=False),
        contribution(person, date(2024, 1, 1), InsuranceType.LARGE_EXPENSE, unit=unit, amount="120.00"),
        contribution(person, date(2022, 1, 1), InsuranceType.RESIDENT_MEDICAL, amount="350.00"),
        contribution(person, date(2023, 1, 1), InsuranceType.RESIDENT_MEDICAL, amount="380.00"),
        PersonalAccount(person_id=person.id, balance=Decimal("321.45"), opened_on=date(2024, 1, 1)),
    ])
    db_session.flush()
    return person, unit


def test_person_overview_totals_months_paid_per_type(insured):
    person, _unit = insured
    overview = person_overview(person)
    assert overview.months_paid == {
        InsuranceType.EMPLOYEE_MEDICAL: 3, InsuranceType.RESIDENT_MEDICAL: 24, InsuranceType.LARGE_EXPENSE: 12,
    }
    employee = next(c for c in overview.contributions if c.insurance_type is InsuranceType.EMPLOYEE_MEDICAL)
    assert (employee.first_paid_month, employee.last_paid_month) == (date(2024, 1, 1), date(2024, 3, 1))
    assert employee.arrears_periods == 1 and overview.arrears_periods == 1
    assert employee.paid_amount == Decimal("1350.00")
    assert overview.latest_paid_month == date(2024, 3, 1)
    assert overview.account_balance == Decimal("321.45")
    assert [(e.insurance_type, e.status) for e in overview.enrolments] == [
        (InsuranceType.RESIDENT_MEDICAL, EnrolmentStatus.TERMINATED),
        (InsuranceType.EMPLOYEE_MEDICAL, EnrolmentStatus.ACTIVE),
        (InsuranceType.LARGE_EXPENSE, EnrolmentStatus.ACTIVE),
    ]
    assert overview.enrolments[1].unit_name == "测试单位有限公司" and overview.enrolments[0].unit_name is None


def test_person_without_account_or_contributions_has_an_empty_overview(db_session):
    overview = person_overview(make_person(db_session))
    assert overview.account_balance is None and overview.contributions == () and overview.latest_paid_month is None


def test_overviews_use_a_fixed_number_of_queries(insured):
    person, unit = insured
    with count_queries() as statements:
        person_overview(person)
    assert len(statements) <= 3
    with count_queries() as statements:
        unit_overview(unit)
    assert len(statements) <= 4


def test_unit_overview_counts_headcounts_enrolments_and_arrears(db_session, insured):
    _person, unit = insured
    retiree = make_person(db_session, id_number="220104195806202467", phone=None, insured_no="P2", unit_id=unit.id,
                          category=PersonCategory.RETIREE)
    make_person(db_session, id_number="220102198503151237", phone=None, insured_no="P3", unit_id=unit.id,
                death_date=date(2025, 1, 1), birth_date=date(1985, 3, 15))
    db_session.add(contribution(retiree, date(2024, 4, 1), unit=unit, paid=False, amount="80.00"))
    db_session.flush()
    overview = unit_overview(unit)
    assert overview.headcounts == ((PersonCategory.EMPLOYEE, 1), (PersonCategory.RETIREE, 1))  # the dead not counted
    assert overview.headcount == 2
    assert overview.insured_by_type == {InsuranceType.EMPLOYEE_MEDICAL: 1, InsuranceType.LARGE_EXPENSE: 1}
    assert [(a.month, a.persons, a.amount) for a in overview.arrears] == [(date(2024, 4, 1), 2, Decimal("880.00"))]
    assert overview.arrears_months == 1 and overview.arrears_amount == Decimal("880.00")
    periods = {p.insurance_type: (p.first_month, p.last_month) for p in overview.contribution_periods}
    assert periods[InsuranceType.EMPLOYEE_MEDICAL] == (date(2024, 1, 1), date(2024, 4, 1))


def test_overview_of_demo_persons_matches_their_rows(db_session):
    generate_demo_data(seed=11, persons=150, units=8)
    persons = db_session.scalars(select(Person).order_by(Person.id).limit(40)).all()
    for person in persons:
        overview = person_overview(person)
        paid = dict(db_session.execute(
            select(Contribution.insurance_type, func.count())
            .where(Contribution.person_id == person.id, Contribution.status == ContributionStatus.PAID)
            .group_by(Contribution.insurance_type)
        ).all())
        assert {t: c.paid_periods for t, c in ((c.insurance_type, c) for c in overview.contributions)
                if c.paid_periods} == paid
        account = db_session.scalar(select(PersonalAccount).where(PersonalAccount.person_id == person.id))
        assert overview.account_balance == (account.balance if account else None)


def test_demo_employee_has_years_of_paid_months(db_session):
    generate_demo_data(seed=1, persons=60, units=3)
    employee_index = id_number_index(DEMO_CITIZENS[0].id_number)
    employee = db_session.scalar(select(Person).where(Person.id_number_index == employee_index))
    overview = person_overview(employee)
    assert overview.months_paid[InsuranceType.EMPLOYEE_MEDICAL] == 58  # 2022-01 … 2026-10
    assert overview.account_balance > 0
    assert unit_overview(db_session.get(Unit, employee.unit_id)).headcount >= 2  # the employee and the retiree


# ---- partials


def _masking_filters() -> dict:
    """The shared masking functions as filters, for this render only (create_app may not register them yet)."""
    from portal.core import masking

    return {name: getattr(masking, name) for name in ("mask_id_number", "mask_phone", "mask_name")}


def render(app, template: str, **context) -> str:
    env = app.jinja_env.overlay(cache_size=0)
    env.filters = {**_masking_filters(), **app.jinja_env.filters}
    with app.test_request_context("/"):
        return env.get_template(template).render(**context)


def test_person_partial_shows_masked_identity_and_the_totals(app, insured):
    person, _unit = insured
    html = render(app, "insurance/_person_overview.html", person_overview=person_overview(person))
    assert person.id_number not in html and person.phone not in html
    assert not re.search(r"\d{17}[\dX]", html) and not re.search(r"1[3-9]\d{9}", html)
    assert person.name not in html
    assert "321.45" in html
    assert re.search(r"<td data-label=\"[^\"]+\">24</td>", html)  # 2 resident years = 24 months
    assert 'class="table-scroll"' in html and 'class="facts"' in html


def test_unit_partial_lists_arrears(app, insured):
    _person, unit = insured
    html = render(app, "insurance/_unit_overview.html", unit_overview=unit_overview(unit),
                  unit_sections={"staff", "contributions"})  # what an unlimited agent sees
    assert unit.credit_code in html and "450.00" in html
    assert "2024-04" in html
