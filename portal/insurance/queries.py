"""Read functions over the system of record: the "my account" overviews and what certificates need.

Each function issues a fixed, small number of queries (aggregated in SQL), never one per row.
Money sums are re-quantised to cents, because SQLite adds NUMERIC values as floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from ..core.db import db
from .constants import (
    ContributionStatus,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
)
from .models import Contribution, Enrolment, Person, PersonalAccount, Unit

CENT = Decimal("0.01")


def _cents(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class EnrolmentLine:
    insurance_type: InsuranceType
    status: EnrolmentStatus
    start_date: date
    end_date: date | None
    unit_name: str | None


@dataclass(frozen=True)
class ContributionTotals:
    """A person's contributions to one insurance type.

    ``months_paid`` is 实际缴费月数: paid monthly rows, or 12 per paid year for annual types (城乡居民, 大额).
    """

    insurance_type: InsuranceType
    paid_periods: int
    months_paid: int
    arrears_periods: int
    first_paid_month: date | None
    last_paid_month: date | None
    paid_amount: Decimal  # unit + personal, paid rows only


@dataclass(frozen=True)
class PersonOverview:
    person: Person
    enrolments: tuple[EnrolmentLine, ...]
    contributions: tuple[ContributionTotals, ...]
    account_balance: Decimal | None  # None: no personal account (城乡居民, 离休)

    @property
    def months_paid(self) -> dict[InsuranceType, int]:
        return {c.insurance_type: c.months_paid for c in self.contributions}

    @property
    def latest_paid_month(self) -> date | None:
        """The latest month with a paid contribution, of any type."""
        return max((c.last_paid_month for c in self.contributions if c.last_paid_month), default=None)

    @property
    def arrears_periods(self) -> int:
        return sum(c.arrears_periods for c in self.contributions)


def person_overview(person: Person) -> PersonOverview:
    """Enrolments, contribution totals per type and the account balance of ``person`` (three queries)."""
    session = db.session
    enrolment_rows = session.execute(
        select(Enrolment.insurance_type, Enrolment.status, Enrolment.start_date, Enrolment.end_date, Unit.name)
        .outerjoin(Unit, Unit.id == Enrolment.unit_id)
        .where(Enrolment.person_id == person.id)
        .order_by(Enrolment.start_date, Enrolment.id)
    ).all()
    enrolments = tuple(EnrolmentLine(InsuranceType(t), EnrolmentStatus(s), start, end, unit_name)
                       for t, s, start, end, unit_name in enrolment_rows)

    contribution_rows = session.execute(
        select(
            Contribution.insurance_type, Contribution.status, func.count(),
            func.min(Contribution.period_month), func.max(Contribution.period_month),
            func.sum(Contribution.unit_amount + Contribution.personal_amount),
        )
        .where(Contribution.person_id == person.id)
        .group_by(Contribution.insurance_type, Contribution.status)
    ).all()
    by_type: dict[InsuranceType, dict] = {}
    for kind, status, count, first, last, amount in contribution_rows:
        entry = by_type.setdefault(InsuranceType(kind), {"paid": 0, "arrears": 0, "first": None, "last": None,
                                                         "amount": Decimal("0.00")})
        if status == ContributionStatus.PAID:
            entry.update(paid=count, first=first, last=last, amount=_cents(amount))
        else:
            entry["arrears"] = count
    contributions = tuple(
        ContributionTotals(
            insurance_type=kind, paid_periods=e["paid"], months_paid=e["paid"] * (12 if kind.is_annual else 1),
            arrears_periods=e["arrears"], first_paid_month=e["first"], last_paid_month=e["last"],
            paid_amount=e["amount"],
        )
        for kind, e in sorted(by_type.items(), key=lambda item: list(InsuranceType).index(item[0]))
    )

    balance = session.execute(select(PersonalAccount.balance).where(PersonalAccount.person_id == person.id)).scalar()
    return PersonOverview(person, enrolments, contributions, None if balance is None else _cents(balance))


@dataclass(frozen=True)
class EnrolmentCount:
    insurance_type: InsuranceType
    status: EnrolmentStatus
    count: int


@dataclass(frozen=True)
class ContributionPeriod:
    insurance_type: InsuranceType
    first_month: date
    last_month: date


@dataclass(frozen=True)
class ArrearsMonth:
    month: date
    persons: int
    amount: Decimal


@dataclass(frozen=True)
class UnitOverview:
    unit: Unit
    headcounts: tuple[tuple[PersonCategory, int], ...]  # living persons attached to the unit, by category
    enrolment_counts: tuple[EnrolmentCount, ...]
    contribution_periods: tuple[ContributionPeriod, ...]
    arrears: tuple[ArrearsMonth, ...]

    @property
    def headcount(self) -> int:
        return sum(n for _c, n in self.headcounts)

    @property
    def insured_by_type(self) -> dict[InsuranceType, int]:
        """Enrolments that are not terminated, per insurance type."""
        out: dict[InsuranceType, int] = {}
        for row in self.enrolment_counts:
            if row.status is not EnrolmentStatus.TERMINATED:
                out[row.insurance_type] = out.get(row.insurance_type, 0) + row.count
        return out

    @property
    def arrears_months(self) -> int:
        return len(self.arrears)

    @property
    def arrears_amount(self) -> Decimal:
        return sum((a.amount for a in self.arrears), Decimal("0.00"))


def unit_overview(unit: Unit) -> UnitOverview:
    """Headcounts by category, enrolments by type and status, contribution periods and arrears (four queries)."""
    session = db.session
    order = {c: i for i, c in enumerate(PersonCategory)}
    headcounts = sorted(
        ((PersonCategory(c), n) for c, n in session.execute(
            select(Person.category, func.count())
            .where(Person.unit_id == unit.id, Person.death_date.is_(None))
            .group_by(Person.category)
        ).all()),
        key=lambda item: order[item[0]],
    )
    type_order = {t: i for i, t in enumerate(InsuranceType)}
    status_order = {s: i for i, s in enumerate(EnrolmentStatus)}
    enrolment_counts = sorted(
        (EnrolmentCount(InsuranceType(t), EnrolmentStatus(s), n) for t, s, n in session.execute(
            select(Enrolment.insurance_type, Enrolment.status, func.count())
            .where(Enrolment.unit_id == unit.id)
            .group_by(Enrolment.insurance_type, Enrolment.status)
        ).all()),
        key=lambda e: (type_order[e.insurance_type], status_order[e.status]),
    )
    periods = sorted(
        (ContributionPeriod(InsuranceType(t), first, last) for t, first, last in session.execute(
            select(Contribution.insurance_type, func.min(Contribution.period_month),
                   func.max(Contribution.period_month))
            .where(Contribution.unit_id == unit.id)
            .group_by(Contribution.insurance_type)
        ).all()),
        key=lambda p: type_order[p.insurance_type],
    )
    arrears = tuple(
        ArrearsMonth(month, persons, _cents(amount)) for month, persons, amount in session.execute(
            select(Contribution.period_month, func.count(func.distinct(Contribution.person_id)),
                   func.sum(Contribution.unit_amount + Contribution.personal_amount))
            .where(Contribution.unit_id == unit.id, Contribution.status == ContributionStatus.ARREARS)
            .group_by(Contribution.period_month)
            .order_by(Contribution.period_month)
        ).all()
    )
    return UnitOverview(unit, tuple(headcounts), tuple(enrolment_counts), tuple(periods), arrears)
