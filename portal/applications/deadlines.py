"""Due dates of cases, from the item's time limit and the working-day calendar.

Counting starts on the first working day after acceptance (DOMAIN.md). While the applicant corrects
materials after a notice given during review, the clock stops: every day from the notice up to the day
before the resubmission is left out, and the due date moves later by as many days as were paused
(working days for working-day limits, calendar days for limits in days or months). Only days the clock
would have counted move it: the day of acceptance itself, and days after the due date has passed, do not.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..calendar import engine
from ..catalog.schema import LimitKind
from ..core import clock

Interval = tuple[date, date]
ONE_DAY = timedelta(days=1)
DUE_SOON_WORKING_DAYS = 2
ACCEPT_WITHIN_WORKING_DAYS = 5  # 行政许可法 第三十二条: accept or notify within 5 days


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (01-31 + 1 → 02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def pause_interval(issued_on: date, resolved_on: date | None, today: date | None = None) -> Interval | None:
    """Days a notice stopped the clock: from its issue to the day before resubmission (or to today, if open)."""
    last = (resolved_on - ONE_DAY) if resolved_on is not None else (today or clock.today())
    return (issued_on, last) if last >= issued_on else None


def _stop_clock(due: date, accepted_on: date, intervals: list[Interval]) -> date:
    """``due`` (a limit in calendar days or months) moved one day later for each paused day the clock would
    have counted: after acceptance, up to the due date as it moves (as ``engine.due_date`` does for working days).
    """
    day = accepted_on + ONE_DAY
    while day <= due:
        if any(first <= day <= last for first, last in intervals):
            due += ONE_DAY
        day += ONE_DAY
    return due


def due_date(kind: str, value: int | None, accepted_on: date, paused: Iterable[Interval] = ()) -> date | None:
    """The due date of a limit of ``kind``/``value`` for a case accepted on ``accepted_on``; None if no limit."""
    intervals = list(paused)
    match LimitKind(kind):
        case LimitKind.immediate | LimitKind.same_day:
            return accepted_on
        case LimitKind.working_days:
            return engine.due_date(accepted_on, value or 0, intervals)
        case LimitKind.natural_days:
            return _stop_clock(accepted_on + timedelta(days=value or 0), accepted_on, intervals)
        case LimitKind.months:
            return _stop_clock(add_months(accepted_on, value or 0), accepted_on, intervals)
        case _:
            return None


def paused_days(kind: str, value: int | None, intervals: Iterable[Interval], accepted_on: date) -> int:
    """How many days the intervals add to the due date: working days, or calendar days for day/month limits.

    The difference between the due dates with and without the pauses, so it always says by how much the
    due date moved (a paused acceptance day or a pause after the due date adds nothing).
    """
    plain = due_date(kind, value, accepted_on)
    paused = due_date(kind, value, accepted_on, intervals)
    if plain is None or paused is None:
        return 0
    if LimitKind(kind) is LimitKind.working_days:
        return engine.working_days_between(plain, paused)
    return (paused - plain).days


def accept_by(submitted_on: date) -> date:
    """The day by which the agency accepts or sends its one-time notice."""
    return engine.due_date(submitted_on, ACCEPT_WITHIN_WORKING_DAYS)


def correction_due(issued_on: date, working_days: int) -> date:
    """The day by which the applicant should supply what a notice lists."""
    return engine.due_date(issued_on, working_days)


@dataclass(frozen=True)
class Flags:
    is_overdue: bool
    is_due_soon: bool
    working_days_left: int | None


def flags(due: date | None, *, is_closed: bool, is_paused: bool, today: date | None = None) -> Flags:
    """Overdue and due-soon flags of an open case; a closed or paused case is neither."""
    today = today or clock.today()
    if due is None or is_closed or is_paused:
        return Flags(False, False, None)
    if today > due:
        return Flags(True, False, -engine.working_days_between(due, today))
    left = engine.working_days_between(today, due)
    return Flags(False, left <= DUE_SOON_WORKING_DAYS, left)


def limit_text(case) -> str:
    """The case's time limit as filed, in the request's language (the published wording when it no longer parses)."""
    from ..catalog.labels import time_limit_text
    from ..catalog.schema import TimeLimit

    try:
        return time_limit_text(TimeLimit(kind=case.limit_kind, value=case.limit_value,
                                         wording=case.limit_wording or "-"))
    except ValueError:  # a limit filed under older catalog rules: its published wording still says it
        return case.limit_wording


@dataclass(frozen=True)
class Estimate:
    """Whether the case's working-day dates were counted across a year whose holidays are unknown."""

    is_estimated: bool
    reason: str | None  # the calendar's warning(s), naming the year
    note: str | None  # the short note shown next to the dates (按周一至周五估算，待国务院公布节假日安排后更新)

    @property
    def fields(self) -> dict[str, object]:
        """The API's fields: ``is_estimated`` and ``estimate_reason`` (the note, then the calendar's warning)."""
        return {"is_estimated": self.is_estimated,
                "estimate_reason": f"{self.note} {self.reason}" if self.is_estimated else None}


NOT_ESTIMATED = Estimate(False, None, None)


def estimate(case) -> Estimate:
    """The estimate flag of an open case's stored dates (accept-by, a working-day due date, a notice's reply date).

    A closed or completed case shows no note: its dates are history. Once the year's schedule is imported the
    dates are recounted (portal.applications.recompute) and the flag goes away.
    """
    notice = case.open_notice if case.submitted_at is not None else None
    return estimate_of(submitted_at=case.submitted_at, is_open=case.completed_at is None and case.closed_at is None,
                       accepted_at=case.accepted_at, accept_by=case.accept_by, due_date=case.due_date,
                       limit_kind=case.limit_kind, respond_by=notice.respond_by if notice is not None else None)


def estimate_of(*, submitted_at: datetime | None, is_open: bool, accepted_at: datetime | None,
                accept_by: date | None, due_date: date | None, limit_kind: str | None,
                respond_by: date | None) -> Estimate:
    """``estimate`` from the case's columns (the public progress page reads columns, not the case)."""
    if submitted_at is None or not is_open:
        return NOT_ESTIMATED
    dates = [clock.to_local(submitted_at).date()]
    if accepted_at is None and accept_by is not None:
        dates.append(accept_by)
    if due_date is not None and limit_kind == LimitKind.working_days.value:
        dates.append(due_date)
    if respond_by is not None:
        dates.append(respond_by)
    if len(dates) == 1:
        return NOT_ESTIMATED
    warnings = engine.warnings_on_page(dates)  # shown only: the calendar's answer kept for the day (≤ a minute)
    if not warnings:
        return NOT_ESTIMATED
    return Estimate(True, " ".join(warnings), engine.estimate_note())
