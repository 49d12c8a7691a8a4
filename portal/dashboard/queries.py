"""The supervisor's figures, each from one aggregate query (GROUP BY in the database), never a loop over cases.

Dates are China's local dates (UTC+8 all year, no daylight saving), computed in SQL on both engines. Working
days need the holiday calendar, which lives in Python: the database counts cases per (item, day), and the
working days of a span are the difference of two working-day ordinals, so the Python work grows with the
number of items and days, not with the number of cases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..accounts.models import Account
from ..applications.constants import CLOSED_STATES, State
from ..applications.models import Application
from ..calendar import is_workday
from ..core import clock
from ..core.db import db

OPEN_STATES = tuple(s.value for s in State if s not in CLOSED_STATES and s is not State.DRAFT)
# a case waiting for the applicant's corrections has its clock stopped: it is not the agency's delay
RUNNING_STATES = tuple(s for s in OPEN_STATES if s != State.CORRECTION_REQUESTED.value)
DONE_STATES = (State.COMPLETED.value, State.DELIVERED.value)


def local_day(column) -> ColumnElement:
    """The China-local date of a UTC timestamp column, as SQL on the current engine."""
    if db.is_postgres:
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, literal_column("'+8 hours'"))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return _utc(self.first), _utc(self.last + timedelta(days=1))


def state_counts(region: str) -> dict[str, int]:
    """Submitted cases per state (drafts are the applicants' own and not counted)."""
    rows = db.session.execute(select(Application.state, func.count()).where(
        Application.region == region, Application.state != State.DRAFT.value).group_by(Application.state)).all()
    return dict(rows)


@dataclass(frozen=True)
class ItemFigures:
    item_code: str
    item_name: str
    completed: int
    on_time: int
    working_days: int  # summed over the completed cases, paused days left out

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.completed if self.completed else None

    @property
    def average_working_days(self) -> float | None:
        return self.working_days / self.completed if self.completed else None


def _workday_ordinals(days: set[date]) -> dict[date, int]:
    """For each day, how many working days lie after the earliest of ``days`` up to it (the holiday calendar).

    Working days between acceptance and completion are then ``ordinal(completed) - ordinal(accepted)``, so the
    sums per item need only the number of cases per (item, day), never the cases themselves.
    """
    if not days:
        return {}
    first, last = min(days), max(days)
    out, count, day = {first: 0}, 0, first
    while day < last:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
        out[day] = count
    return out


def item_figures(region: str, period: Period) -> list[ItemFigures]:
    """Per item, over the cases completed in the period: how many, how many on time, average working days.

    On time: completed on or before the due date (which already carries the paused days); a case without a
    due date (no time limit) counts as on time. Two GROUP BY queries, by (item, completion day) and by (item,
    acceptance day): their rows grow with items × days, not with cases.
    """
    start, end = period.bounds
    done_on = local_day(Application.completed_at)
    accepted_on = local_day(Application.accepted_at)
    on_time = case((or_(Application.due_date.is_(None), done_on <= Application.due_date), 1), else_=0)
    where = and_(Application.region == region, Application.completed_at >= start, Application.completed_at < end,
                 Application.accepted_at.is_not(None))
    by_done = db.session.execute(
        select(Application.item_code, done_on, func.min(Application.item_name), func.count(), func.sum(on_time),
               func.sum(Application.paused_working_days))
        .where(where).group_by(Application.item_code, done_on)).all()
    by_accepted = db.session.execute(
        select(Application.item_code, accepted_on, func.count()).where(where)
        .group_by(Application.item_code, accepted_on)).all()
    ordinal = _workday_ordinals({_as_date(r[1]) for r in by_done} | {_as_date(r[1]) for r in by_accepted})
    names: dict[str, str] = {}
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # completed, on time, working days
    for code, day, name, n, ok, paused in by_done:
        names[code] = min(names.get(code, name), name)
        totals = sums[code]
        totals[0] += n
        totals[1] += int(ok or 0)
        totals[2] += ordinal[_as_date(day)] * n - int(paused or 0)
    for code, day, n in by_accepted:
        sums[code][2] -= ordinal[_as_date(day)] * n
    out = [ItemFigures(code, names[code], done, ok, max(days, 0)) for code, (done, ok, days) in sums.items()]
    return sorted(out, key=lambda f: (-f.completed, f.item_code))


@dataclass(frozen=True)
class OverdueCase:
    id: int
    number: str
    item_name: str
    state: str
    due_date: date
    days_late: int
    assignee: str | None

    @property
    def state_label(self) -> str:
        return State(self.state).label


def overdue(region: str, *, limit: int = 100) -> tuple[list[OverdueCase], int]:
    """Open cases past their due date (not those waiting for the applicant), most overdue first, and the count."""
    today = clock.today()
    where = and_(Application.region == region, Application.state.in_(RUNNING_STATES),
                 Application.due_date < today)
    total = db.session.execute(select(func.count()).select_from(Application).where(where)).scalar_one()
    rows = db.session.execute(
        select(Application.id, Application.number, Application.item_name, Application.state, Application.due_date,
               Account.username)
        .outerjoin(Account, Account.id == Application.assignee_id)
        .where(where).order_by(Application.due_date, Application.id).limit(limit)).all()
    return [OverdueCase(i, n, name, s, d, (today - d).days, who) for i, n, name, s, d, who in rows], total


@dataclass(frozen=True)
class StaffLoad:
    username: str
    display_name: str
    open_cases: int
    overdue: int


def staff_load(region: str) -> list[StaffLoad]:
    """Open cases per staff member working them (``assignee_id``), with how many of them are overdue."""
    today = clock.today()
    late = case((and_(Application.due_date < today, Application.state.in_(RUNNING_STATES)), 1), else_=0)
    rows = db.session.execute(
        select(Account.username, Account.display_name, func.count(), func.sum(late))
        .join(Account, Account.id == Application.assignee_id)
        .where(Application.region == region, Application.state.in_(OPEN_STATES))
        .group_by(Account.id, Account.username, Account.display_name)
        .order_by(func.count().desc(), Account.username)).all()
    return [StaffLoad(u, d or u, n, int(o or 0)) for u, d, n, o in rows]


@dataclass(frozen=True)
class Week:
    monday: date
    submitted: int
    completed: int


def weekly_trend(region: str, *, weeks: int = 12) -> list[Week]:
    """Cases submitted and completed per week (Monday to Sunday, local), the last ``weeks`` weeks."""
    today = clock.today()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = _utc(first)
    counts: dict[date, list[int]] = {first + timedelta(weeks=i): [0, 0] for i in range(weeks)}
    for index, column in enumerate((Application.submitted_at, Application.completed_at)):
        day = local_day(column)
        rows = db.session.execute(select(day, func.count()).where(
            Application.region == region, column >= start).group_by(day)).all()
        for value, n in rows:
            d = _as_date(value)
            bucket = counts.get(d - timedelta(days=d.weekday()))
            if bucket is not None:  # a stamp past today (a clock moved back) falls outside the chart
                bucket[index] += n
    return [Week(monday, s, c) for monday, (s, c) in sorted(counts.items())]
