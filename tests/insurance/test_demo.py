"""The demo-data generator: deterministic, valid identity numbers, a realistic mix, fast bulk inserts."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql

from portal.core.validators import credit_code_check_char, id_check_digit
from portal.insurance.constants import (
    AccountTransactionKind,
    ContributionStatus,
    EnrolmentEventKind,
    InsuranceType,
    PersonCategory,
    UnitNature,
)
from portal.insurance.demo import (
    DEMO_CITIZENS,
    DEMO_FIRST_MONTH,
    DEMO_LAST_MONTH,
    DEMO_UNIT,
    DEMO_UNIT_AGENT_PHONE,
    REGIONS,
    build_demo_plan,
    ensure_demo_data,
    generate_demo_data,
)
from portal.insurance.models import (
    AccountTransaction,
    Contribution,
    Enrolment,
    EnrolmentEvent,
    Person,
    PersonalAccount,
    Unit,
    id_number_index,
    phone_index,
)


def valid_id_number(number: str) -> bool:
    return len(number) == 18 and number[:17].isdigit() and id_check_digit(number[:17]) == number[17]


def valid_credit_code(code: str) -> bool:
    return len(code) == 18 and credit_code_check_char(code[:17]) == code[17]


@pytest.fixture(scope="module")
def plan():
    return build_demo_plan(seed=20261122, persons=2000, units=100, region="jilin")


def test_same_seed_gives_the_same_people_and_units():
    first = build_demo_plan(seed=7, persons=300, units=20)
    again = build_demo_plan(seed=7, persons=300, units=20)
    other = build_demo_plan(seed=8, persons=300, units=20)
    assert [p["id_number"] for p in first.persons] == [p["id_number"] for p in again.persons]
    assert [u["credit_code"] for u in first.units] == [u["credit_code"] for u in again.units]
    assert first.contributions == again.contributions and first.transactions == again.transactions
    assert [p["id_number"] for p in first.persons] != [p["id_number"] for p in other.persons]


def test_demo_logins_are_the_same_for_every_seed():
    for seed in (1, 2):
        plan = build_demo_plan(seed=seed, persons=100, units=5)
        by_id = {p["id_number"]: p for p in plan.persons}
        for citizen in DEMO_CITIZENS:
            row = by_id[citizen.id_number]
            assert (row["name"], row["phone"], row["category"]) == (citizen.name, citizen.phone, citizen.category)
        assert (plan.units[0]["credit_code"], plan.units[0]["name"]) == (DEMO_UNIT.credit_code, DEMO_UNIT.name)
    histories = [
        [c for c in build_demo_plan(seed=seed, persons=100, units=5).contributions
         if c["person_id"] < len(DEMO_CITIZENS)]
        for seed in (1, 2)
    ]
    assert histories[0] == histories[1]


def test_demo_constants_are_valid_and_distinct():
    assert len(DEMO_CITIZENS) >= 3
    assert all(valid_id_number(c.id_number) for c in DEMO_CITIZENS)
    assert all(c.id_number[6:14] == f"{c.birth_date:%Y%m%d}" for c in DEMO_CITIZENS)
    assert valid_credit_code(DEMO_UNIT.credit_code)
    phones = [c.phone for c in DEMO_CITIZENS] + [DEMO_UNIT_AGENT_PHONE]
    assert len(set(phones)) == len(phones)
    categories = {c.category for c in DEMO_CITIZENS}
    assert {PersonCategory.EMPLOYEE, PersonCategory.RETIREE, PersonCategory.RESIDENT} <= categories


def test_every_id_number_is_valid_and_matches_birth_date_and_gender(plan):
    numbers = [p["id_number"] for p in plan.persons]
    assert len(set(numbers)) == len(numbers) == 2000
    region_areas = {code for code, _name in REGIONS["jilin"].districts}
    for person in plan.persons:
        number = person["id_number"]
        assert valid_id_number(number), number
        assert number[6:14] == f"{person['birth_date']:%Y%m%d}"
        assert int(number[16]) % 2 == (1 if person["gender"] == "M" else 0)
        assert number[:6] in region_areas
        assert person["birth_date"] <= date(2026, 10, 31)


def test_every_credit_code_is_valid_and_unique(plan):
    codes = [u["credit_code"] for u in plan.units]
    assert len(set(codes)) == len(codes) == 100
    assert all(valid_credit_code(code) for code in codes)
    assert len({u["name"] for u in plan.units}) == 100
    assert {u["nature"] for u in plan.units} == set(UnitNature)


def test_the_plan_has_every_category_and_the_special_statuses(plan):
    categories = Counter(p["category"] for p in plan.persons)
    assert set(categories) == set(PersonCategory)
    assert categories[PersonCategory.EMPLOYEE] > 800 and categories[PersonCategory.NEWBORN] >= 5
    assert any(p["is_model_worker"] for p in plan.persons)
    assert any(p["health_care_level"] for p in plan.persons)
    assert all(p["is_retired_cadre"] == (p["category"] is PersonCategory.RETIRED_CADRE) for p in plan.persons)
    assert all(p["unit_id"] is None for p in plan.persons if p["category"] is PersonCategory.FLEXIBLE)


def test_contributions_cover_the_window_with_realistic_rates(plan):
    employee = [c for c in plan.contributions
                if c["insurance_type"] is InsuranceType.EMPLOYEE_MEDICAL and c["unit_id"] is not None]
    months = {c["period_month"] for c in employee}
    assert min(months) == DEMO_FIRST_MONTH and max(months) == DEMO_LAST_MONTH
    assert any(c["status"] is ContributionStatus.ARREARS for c in employee)
    for c in employee[:5000]:
        assert Decimal("3000") <= c["base"] <= Decimal("25000")
        assert Decimal("0.06") <= c["unit_amount"] / c["base"] <= Decimal("0.081")
        assert abs(c["personal_amount"] / c["base"] - Decimal("0.02")) < Decimal("0.0001")
    keys = [(c["person_id"], c["insurance_type"], c["period_month"]) for c in plan.contributions]
    assert len(keys) == len(set(keys))


def test_retirees_stop_paying_when_they_retire(plan):
    retired_on = {}
    enrolment_person = {i: e["person_id"] for i, e in enumerate(plan.enrolments)}
    for event in plan.events:
        if event["kind"] is EnrolmentEventKind.RETIRED:
            retired_on[enrolment_person[event["enrolment_id"]]] = event["effective_date"]
    assert len(retired_on) > 300
    within = {p for p, d in retired_on.items() if d >= DEMO_FIRST_MONTH}
    assert within, "some retire during the window"
    for c in plan.contributions:
        if c["person_id"] in retired_on and c["insurance_type"] is InsuranceType.EMPLOYEE_MEDICAL:
            assert c["period_month"] < retired_on[c["person_id"]].replace(day=1)


def test_newborns_are_enrolled_from_birth_within_90_days(plan):
    newborns = {i: p for i, p in enumerate(plan.persons) if p["category"] is PersonCategory.NEWBORN}
    assert newborns
    enrolments = {i: e for i, e in enumerate(plan.enrolments) if e["person_id"] in newborns}
    for index, enrolment in enrolments.items():
        person = newborns[enrolment["person_id"]]
        assert person["birth_date"].year == 2026
        assert enrolment["insurance_type"] is InsuranceType.RESIDENT_MEDICAL
        assert enrolment["start_date"] == person["birth_date"]
        added = next(e for e in plan.events if e["enrolment_id"] == index and e["kind"] is EnrolmentEventKind.ADDED)
        assert 0 < (added["recorded_at"].date() - person["birth_date"]).days < 90


def test_account_movements_keep_a_consistent_non_negative_balance(plan):
    running: dict[int, Decimal] = {}
    for row in plan.transactions:
        running[row["account_id"]] = running.get(row["account_id"], Decimal("0")) + row["amount"]
        assert row["balance_after"] == running[row["account_id"]] >= 0
    for index, account in enumerate(plan.accounts):
        assert account["balance"] == running.get(index, Decimal("0"))
    kinds = {row["kind"] for row in plan.transactions}
    assert {AccountTransactionKind.CREDIT, AccountTransactionKind.PHARMACY, AccountTransactionKind.OUTPATIENT} <= kinds


def test_ensure_demo_data_loads_an_empty_database_once(db_session):
    summary = ensure_demo_data()
    assert summary and "2000 persons" in summary
    assert ensure_demo_data() is None
    assert db_session.scalar(select(func.count()).select_from(Person)) >= 2000
    assert db_session.scalar(select(func.count()).select_from(Unit)) >= 100
    categories = set(db_session.scalars(select(Person.category).distinct()))
    assert categories == set(PersonCategory)
    unit = db_session.scalar(select(Unit).where(Unit.credit_code == DEMO_UNIT.credit_code))
    assert unit.name == DEMO_UNIT.name
    for citizen in DEMO_CITIZENS:
        person = db_session.scalar(select(Person).where(Person.id_number_index == id_number_index(citizen.id_number)))
        assert (person.name, person.id_number, person.phone) == (citizen.name, citizen.id_number, citizen.phone)
        assert db_session.scalar(select(Person.id).where(Person.phone_index == phone_index(citizen.phone))) == person.id
    employee_index = id_number_index(DEMO_CITIZENS[0].id_number)
    employee = db_session.scalar(select(Person).where(Person.id_number_index == employee_index))
    assert employee.unit_id == unit.id
    months = db_session.execute(select(func.min(Contribution.period_month), func.max(Contribution.period_month))).one()
    assert months[0] <= DEMO_FIRST_MONTH and months[1] >= DEMO_LAST_MONTH


def test_generated_rows_satisfy_the_database_rules(db_session):
    generate_demo_data(seed=3, persons=200, units=12)
    accounts = db_session.scalar(select(func.count()).select_from(PersonalAccount))
    assert accounts > 100
    mismatched = db_session.execute(
        select(PersonalAccount.id, PersonalAccount.balance, func.sum(AccountTransaction.amount))
        .join(AccountTransaction, AccountTransaction.account_id == PersonalAccount.id)
        .group_by(PersonalAccount.id, PersonalAccount.balance)
    ).all()
    assert all(abs(balance - Decimal(str(total))) < Decimal("0.005") for _id, balance, total in mismatched)
    assert db_session.scalar(select(func.count()).select_from(EnrolmentEvent)) >= db_session.scalar(
        select(func.count()).select_from(Enrolment))


def test_demo_command_loads_and_resets(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "demo", "--persons", "60", "--units", "4"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count()).select_from(Person)) == 60
    again = runner.invoke(args=["portal", "demo", "--persons", "60", "--units", "4"])
    assert again.exit_code == 1 and "--reset" in again.output
    reset = runner.invoke(args=["portal", "demo", "--reset", "--seed", "5", "--persons", "40", "--units", "3"])
    assert reset.exit_code == 0, reset.output
    assert db_session.scalar(select(func.count()).select_from(Person)) == 40
    assert db_session.scalar(select(func.count()).select_from(Unit)) == 3


def _planner_rows(db_session, table: str) -> float | None:
    """The row count the query planner believes ``table`` has (its statistics), None when it has none."""
    if db_session.get_bind().dialect.name == "postgresql":
        count = db_session.execute(sql("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar()
        return count if count is not None and count > 0 else None  # -1 (or 0): never analysed
    if db_session.execute(sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None:
        return None
    stat = db_session.execute(sql("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table}).scalar()
    return float(stat.split()[0]) if stat else None


def test_demo_command_leaves_the_planner_statistics_of_what_it_wrote(app, db_session):
    """Without them (autovacuum off or not yet round) the planner takes the new tables for empty and reads a
    person's history by scanning every row; the command analyses what it wrote."""
    assert _planner_rows(db_session, "person") != 47  # (an earlier test's command may have left other figures)
    result = app.test_cli_runner().invoke(args=["portal", "demo", "--persons", "47", "--units", "3", "--cases",
                                                "20"])
    assert result.exit_code == 0, result.output
    assert _planner_rows(db_session, "person") == 47
    assert _planner_rows(db_session, "application") == 20
    assert _planner_rows(db_session, "enrolment_event") == db_session.scalar(
        select(func.count()).select_from(EnrolmentEvent))
    assert _planner_rows(db_session, "contribution") == db_session.scalar(
        select(func.count()).select_from(Contribution))


def test_demo_reset_is_refused_in_production(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    generate_demo_data(seed=4, persons=30, units=3)
    result = app.test_cli_runner().invoke(args=["portal", "demo", "--reset"])
    assert result.exit_code == 2 and "production" in result.output
    assert db_session.scalar(select(func.count()).select_from(Person)) == 30


@pytest.mark.no_db
def test_the_readme_lists_each_regions_demo_accounts():
    from pathlib import Path

    from portal.insurance.demo import LOGINS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    zh, en = readme.split("## Demo logins", 1)
    for region, logins in LOGINS.items():
        for text in (zh, en):
            row = next(line for line in text.splitlines() if f"`{region}`" in line and line.startswith("|"))
            assert all(c.id_number in row and c.name in row for c in logins.citizens), (region, row)
            assert logins.unit.credit_code in row and logins.unit.name in row
