"""Read functions over the system of record: the "my account" overviews and what certificates need.

Each function issues a fixed, small number of queries (aggregated in SQL), never one per row.
Money sums are re-quantised to cents, because SQLite adds NUMERIC values as floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, func, select

from ..core.db import db
from .constants import (
    ContributionStatus,
    EnrolmentEventKind,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
)
from .models import (
    AccountTransaction,
    Benefit,
    Contribution,
    Enrolment,
    EnrolmentEvent,
    Person,
    PersonalAccount,
    Unit,
)

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


# The statements of a person's records page, built once (SQLAlchemy finds their compiled SQL by the same key).
_CONTRIBUTION_TOTALS = (
    select(Contribution.insurance_type, Contribution.status, func.count(), func.min(Contribution.period_month),
           func.max(Contribution.period_month), func.sum(Contribution.unit_amount + Contribution.personal_amount))
    .where(Contribution.person_id == bindparam("person_id"))
    .group_by(Contribution.insurance_type, Contribution.status))
_BALANCE = select(PersonalAccount.balance).where(PersonalAccount.person_id == bindparam("person_id"))


def person_overview(person: Person, *, history: tuple[EnrolmentHistory, ...] | None = None) -> PersonOverview:
    """Enrolments, contribution totals per type and the account balance of ``person`` (three queries; two when
    the page has already read the enrolments with their ``history``)."""
    session = db.session
    if history is not None:
        enrolments = tuple(h.line for h in history)
    else:
        enrolment_rows = session.execute(
            select(Enrolment.insurance_type, Enrolment.status, Enrolment.start_date, Enrolment.end_date, Unit.name)
            .outerjoin(Unit, Unit.id == Enrolment.unit_id)
            .where(Enrolment.person_id == person.id)
            .order_by(Enrolment.start_date, Enrolment.id)
        ).all()
        enrolments = tuple(EnrolmentLine(InsuranceType(t), EnrolmentStatus(s), start, end, unit_name)
                           for t, s, start, end, unit_name in enrolment_rows)

    contribution_rows = session.execute(_CONTRIBUTION_TOTALS, {"person_id": person.id}).all()
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

    balance = session.execute(_BALANCE, {"person_id": person.id}).scalar()
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


# --- pages of records: the person's and the unit's query pages (web and API) ---------------------------

PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    """One page of rows and where it sits: ``page`` counts from 1; ``pages`` is at least 1."""

    rows: tuple
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def _page(statement, count_statement, page: int, per_page: int) -> Page:
    """Run ``statement`` for one page (clamped to what exists) and ``count_statement`` for the total."""
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    total = db.session.execute(count_statement).scalar_one()
    last = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), last)
    rows = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(tuple(rows), page, per_page, total)


@dataclass(frozen=True)
class EnrolmentHistory:
    """An enrolment with its changes (参保状态变更), oldest first."""

    line: EnrolmentLine
    events: tuple[tuple[EnrolmentEventKind, date, str | None], ...]  # kind, effective date, note


_HISTORY = (
    select(Enrolment.id, Enrolment.insurance_type, Enrolment.status, Enrolment.start_date, Enrolment.end_date,
           Unit.name, EnrolmentEvent.kind, EnrolmentEvent.effective_date, EnrolmentEvent.note)
    .outerjoin(Unit, Unit.id == Enrolment.unit_id)
    .outerjoin(EnrolmentEvent, EnrolmentEvent.enrolment_id == Enrolment.id)
    .where(Enrolment.person_id == bindparam("person_id"))
    .order_by(Enrolment.start_date, Enrolment.id, EnrolmentEvent.effective_date, EnrolmentEvent.id))


def enrolment_history(person: Person) -> tuple[EnrolmentHistory, ...]:
    """Every enrolment of ``person`` with its events (one query: the enrolments, each joined with its events)."""
    rows = db.session.execute(_HISTORY, {"person_id": person.id}).all()
    lines: dict[int, EnrolmentLine] = {}
    events: dict[int, list] = {}
    for enrolment_id, t, s, start, end, unit_name, kind, effective, note in rows:
        if enrolment_id not in lines:
            lines[enrolment_id] = EnrolmentLine(InsuranceType(t), EnrolmentStatus(s), start, end, unit_name)
            events[enrolment_id] = []
        if kind is not None:
            events[enrolment_id].append((EnrolmentEventKind(kind), effective, note))
    return tuple(EnrolmentHistory(line, tuple(events[i])) for i, line in lines.items())


@dataclass(frozen=True)
class YearTotals:
    """One year of one insurance type: months paid (实际缴费月数), months in arrears and the amounts."""

    year: int
    insurance_type: InsuranceType
    months_paid: int
    months_in_arrears: int
    unit_amount: Decimal
    personal_amount: Decimal
    arrears_amount: Decimal

    @property
    def paid_amount(self) -> Decimal:
        return self.unit_amount + self.personal_amount


def contribution_years(person: Person) -> tuple[YearTotals, ...]:
    """Totals per year and type, newest year first (one aggregated query). Annual types count 12 months."""
    year = func.extract("year", Contribution.period_month)
    rows = db.session.execute(
        select(year, Contribution.insurance_type, Contribution.status, func.count(),
               func.sum(Contribution.unit_amount), func.sum(Contribution.personal_amount))
        .where(Contribution.person_id == person.id)
        .group_by(year, Contribution.insurance_type, Contribution.status)
    ).all()
    acc: dict[tuple[int, InsuranceType], dict] = {}
    for y, kind, status, count, unit_sum, personal_sum in rows:
        kind = InsuranceType(kind)
        entry = acc.setdefault((int(y), kind), {"paid": 0, "arrears": 0, "unit": Decimal("0.00"),
                                                "personal": Decimal("0.00"), "owed": Decimal("0.00")})
        months = count * (12 if kind.is_annual else 1)
        if status == ContributionStatus.PAID:
            entry.update(paid=months, unit=_cents(unit_sum), personal=_cents(personal_sum))
        else:
            entry.update(arrears=months, owed=_cents(unit_sum) + _cents(personal_sum))
    order = {t: i for i, t in enumerate(InsuranceType)}
    return tuple(
        YearTotals(y, kind, e["paid"], e["arrears"], e["unit"], e["personal"], e["owed"])
        for (y, kind), e in sorted(acc.items(), key=lambda item: (-item[0][0], order[item[0][1]]))
    )


def contribution_months(person: Person, year: int) -> tuple[Contribution, ...]:
    """The contribution rows of ``person`` in ``year`` (bases, amounts, status), by month then type."""
    return tuple(db.session.execute(
        select(Contribution)
        .where(Contribution.person_id == person.id,
               Contribution.period_month >= date(year, 1, 1), Contribution.period_month <= date(year, 12, 1))
        .order_by(Contribution.period_month, Contribution.insurance_type)
    ).scalars())


def account_transactions(person: Person, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the person's personal-account movements, newest first; rows are ``AccountTransaction``."""
    base = (select(AccountTransaction).join(PersonalAccount, PersonalAccount.id == AccountTransaction.account_id)
            .where(PersonalAccount.person_id == person.id))
    count = (select(func.count()).select_from(AccountTransaction)
             .join(PersonalAccount, PersonalAccount.id == AccountTransaction.account_id)
             .where(PersonalAccount.person_id == person.id))
    result = _page(base.order_by(AccountTransaction.occurred_on.desc(), AccountTransaction.id.desc()), count,
                   page, per_page)
    return Page(tuple(row[0] for row in result.rows), result.page, result.per_page, result.total)


_BENEFITS = (select(Benefit).where(Benefit.person_id == bindparam("person_id"))
             .order_by(Benefit.valid_from.desc(), Benefit.id.desc()))


def benefits(person: Person) -> tuple[Benefit, ...]:
    """The person's benefit standings (filings, recognitions), current ones first, newest first."""
    return tuple(db.session.execute(_BENEFITS, {"person_id": person.id}).scalars())


@dataclass(frozen=True)
class StaffLine:
    """One insured person of a unit, already masked (S12): what a unit's agent may see and download."""

    insured_no: str
    name: str  # masked: 张*
    id_number: str  # masked: first 1 and last 2
    gender: str
    category: PersonCategory
    insurance_type: InsuranceType
    status: EnrolmentStatus
    start_date: date
    end_date: date | None


def unit_staff(unit: Unit, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the unit's enrolments with the person, masked on the server; rows are ``StaffLine``.

    Names and 身份证 numbers are decrypted only to be masked here, so no caller ever holds them in full.
    """
    where = (Enrolment.unit_id == unit.id,)
    statement = (
        select(Person.insured_no, Person.name, Person.id_number, Person.gender, Person.category,
               Enrolment.insurance_type, Enrolment.status, Enrolment.start_date, Enrolment.end_date)
        .join(Person, Person.id == Enrolment.person_id).where(*where)
        .order_by(Person.insured_no, Enrolment.insurance_type, Enrolment.id)
    )
    count = select(func.count()).select_from(Enrolment).where(*where)
    result = _page(statement, count, page, per_page)
    return Page(tuple(_staff_line(row) for row in result.rows), result.page, result.per_page, result.total)


def all_unit_staff(unit: Unit) -> list[StaffLine]:
    """Every line of ``unit_staff``, for the download (read in pages, so memory stays bounded per page)."""
    first = unit_staff(unit, page=1, per_page=MAX_PER_PAGE)
    lines = list(first.rows)
    for page in range(2, first.pages + 1):
        lines += unit_staff(unit, page=page, per_page=MAX_PER_PAGE).rows
    return lines


def _staff_line(row) -> StaffLine:
    from ..core.masking import mask_id_number, mask_name

    insured_no, name, id_number, gender, category, kind, status, start, end = row
    return StaffLine(insured_no, mask_name(name), mask_id_number(id_number), gender, PersonCategory(category),
                     InsuranceType(kind), EnrolmentStatus(status), start, end)


@dataclass(frozen=True)
class StaffInsurance:
    insurance_type: InsuranceType
    status: EnrolmentStatus
    start_date: date
    end_date: date | None


@dataclass(frozen=True)
class StaffPerson:
    """One insured person of a unit with all their insurances there, masked as ``StaffLine``: the staff list on
    the page reads one row per person (the download keeps one line per insurance, for spreadsheets)."""

    insured_no: str
    name: str
    id_number: str
    category: PersonCategory
    insurances: tuple[StaffInsurance, ...]


def unit_staff_people(unit: Unit, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the unit's insured persons (rows are ``StaffPerson``), in two queries and a count."""
    from ..core.masking import mask_id_number, mask_name

    people = (select(Person.id, Person.insured_no, Person.name, Person.id_number, Person.category)
              .where(Person.id.in_(select(Enrolment.person_id).where(Enrolment.unit_id == unit.id)))
              .order_by(Person.insured_no, Person.id))
    count = (select(func.count(func.distinct(Enrolment.person_id))).select_from(Enrolment)
             .where(Enrolment.unit_id == unit.id))
    result = _page(people, count, page, per_page)
    insurances: dict[int, list[StaffInsurance]] = {row[0]: [] for row in result.rows}
    if insurances:
        for person_id, kind, status, start, end in db.session.execute(
                select(Enrolment.person_id, Enrolment.insurance_type, Enrolment.status, Enrolment.start_date,
                       Enrolment.end_date)
                .where(Enrolment.unit_id == unit.id, Enrolment.person_id.in_(insurances))
                .order_by(Enrolment.insurance_type, Enrolment.id)):
            insurances[person_id].append(StaffInsurance(InsuranceType(kind), EnrolmentStatus(status), start, end))
    rows = tuple(StaffPerson(insured_no, mask_name(name), mask_id_number(id_number), PersonCategory(category),
                             tuple(insurances[person_id]))
                 for person_id, insured_no, name, id_number, category in result.rows)
    return Page(rows, result.page, result.per_page, result.total)


@dataclass(frozen=True)
class UnitMonth:
    """One month of a unit's contributions: persons and amounts paid, and in arrears."""

    month: date
    persons: int
    paid_amount: Decimal
    arrears_persons: int
    arrears_amount: Decimal


def unit_contribution_months(unit: Unit, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the unit's contribution months, newest first; rows are ``UnitMonth`` (one query + count)."""
    paid = Contribution.status == ContributionStatus.PAID
    amount = Contribution.unit_amount + Contribution.personal_amount
    statement = (
        select(Contribution.period_month,
               func.count(func.distinct(case_when(paid, Contribution.person_id))),
               func.sum(case_when(paid, amount)),
               func.count(func.distinct(case_when(~paid, Contribution.person_id))),
               func.sum(case_when(~paid, amount)))
        .where(Contribution.unit_id == unit.id)
        .group_by(Contribution.period_month)
        .order_by(Contribution.period_month.desc())
    )
    count = select(func.count(func.distinct(Contribution.period_month))).where(Contribution.unit_id == unit.id)
    result = _page(statement, count, page, per_page)
    rows = tuple(UnitMonth(month, persons or 0, _cents(paid_sum), owing or 0, _cents(owed))
                 for month, persons, paid_sum, owing, owed in result.rows)
    return Page(rows, result.page, result.per_page, result.total)


def all_unit_contribution_months(unit: Unit) -> list[UnitMonth]:
    first = unit_contribution_months(unit, page=1, per_page=MAX_PER_PAGE)
    months = list(first.rows)
    for page in range(2, first.pages + 1):
        months += unit_contribution_months(unit, page=page, per_page=MAX_PER_PAGE).rows
    return months


def case_when(condition, value):
    """``CASE WHEN condition THEN value END`` (NULL otherwise), for conditional aggregates."""
    from sqlalchemy import case

    return case((condition, value))
