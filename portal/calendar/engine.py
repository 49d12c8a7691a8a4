"""Working days: statutory holidays and adjusted working days (调休) of mainland China.

Where the answer for a day comes from, in order:

1. an override row (``calendar_override``) for that day: a day of an imported schedule (the State
   Council's notice, see ``schedules``), or a single day entered by staff;
2. the ``chinesecalendar`` package, for the years it has data for (it raises NotImplementedError
   beyond its last year);
3. otherwise Monday to Friday. Deadlines counted this way are estimates, and every page that shows one
   must say so: ``calendar_warnings()`` gives the sentence, ``DayInfo.is_estimated`` and
   ``Deadline.is_estimated`` the flag.

A year is covered only when its whole schedule is known: the package has it, or a schedule of it was
imported. Single overrides never cover a year (one 元旦 entered by hand says nothing about 春节).
Overrides are read with one query per year and kept for the current app context (one request, one
CLI command), so counting a deadline does not query per day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

import chinese_calendar
from flask import current_app, g, has_app_context
from sqlalchemy import select

from ..core import audit, clock, fragments
from ..core.db import db
from ..core.errors import ValidationFailed
from ..core.translation import gettext as _
from .models import CalendarOverride, CalendarSchedule

log = logging.getLogger("portal.calendar")

Interval = tuple[date, date]
T = TypeVar("T")
ONE_DAY = timedelta(days=1)
_G_KEY = "_calendar_overrides"
_G_SCHEDULES = "_calendar_schedules"
_warned_years: set[int] = set()  # years whose fallback was already logged by this process


class Source(StrEnum):
    LIBRARY = "library"  # the chinesecalendar package
    IMPORT = "import"  # a schedule imported by an administrator (the State Council's notice)
    OVERRIDE = "override"  # a single day entered by hand (DayInfo only: it never covers a year)
    FALLBACK = "fallback"  # Monday to Friday: an estimate


@dataclass(frozen=True)
class DayInfo:
    """Whether one day is a working day, and where that answer comes from."""

    day: date
    is_workday: bool
    source: Source
    name: str | None  # the holiday or 调休 name, when known
    is_estimated: bool  # True when the year has no holiday data: Monday–Friday was assumed


@dataclass(frozen=True)
class Coverage:
    """How a year's working days are known; ``warning`` is the sentence to show when they are estimated."""

    year: int
    source: Source
    override_count: int

    @property
    def is_covered(self) -> bool:
        return self.source is not Source.FALLBACK

    @property
    def warning(self) -> str | None:
        # translated when read, in the language of the request that shows it
        return None if self.is_covered else _fallback_warning(self.year)


@dataclass(frozen=True)
class Deadline:
    """A due date with what the page must say about it."""

    due: date
    is_estimated: bool
    warnings: tuple[str, ...]


# --- sources ------------------------------------------------------------------------------------


@cache
def library_covers(year: int) -> bool:
    """True when the installed ``chinesecalendar`` has the holiday schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def library_last_year() -> int:
    """The last year the installed ``chinesecalendar`` covers."""
    year = clock.today().year + 1
    while not library_covers(year) and year > 2004:
        year -= 1
    while library_covers(year + 1):
        year += 1
    return year


def _overrides(year: int) -> dict[date, tuple[bool, str]]:
    """The overrides of ``year`` as {day: (is_workday, name)}: one query per year and app context.

    Outside an app context there is no database, and only the package and the fallback answer.
    """
    if not has_app_context():
        return {}
    cache: dict[int, dict[date, tuple[bool, str]]] = g.setdefault(_G_KEY, {})
    if year not in cache:
        rows = db.session.execute(
            select(CalendarOverride.day, CalendarOverride.is_workday, CalendarOverride.name)
            .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        ).all()
        cache[year] = {row.day: (row.is_workday, row.name) for row in rows}
    return cache[year]


def _forget_overrides(year: int) -> None:
    forget_gaps()
    if has_app_context():
        g.get(_G_KEY, {}).pop(year, None)
        g.pop(_G_SCHEDULES, None)


def imported_years() -> set[int]:
    """The years an administrator imported a whole schedule for (one query per app context)."""
    if not has_app_context():
        return set()
    if _G_SCHEDULES not in g:
        g.setdefault(_G_SCHEDULES, set(db.session.execute(select(CalendarSchedule.year)).scalars()))
    return g.get(_G_SCHEDULES)


def _year_source(year: int) -> Source:
    if year in imported_years():
        return Source.IMPORT  # the schedule the agency applied wins over the package where they differ
    if library_covers(year):
        return Source.LIBRARY
    _log_fallback(year)
    return Source.FALLBACK


def _log_fallback(year: int) -> None:
    """Tell operators once per process that a year's deadlines are estimates."""
    if year in _warned_years or not (has_app_context() and current_app.config.get("PORTAL_CALENDAR_FALLBACK_WARN")):
        return
    _warned_years.add(year)
    log.warning("no holiday schedule for %s: working days estimated as Monday to Friday; "
                "import the State Council's notice with `portal calendar import --year %s FILE`", year, year)


def _check_date(day: date) -> None:
    # a datetime would be compared in an unknown time zone; deadlines count in China's local dates
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a local date, got {type(day).__name__}")


# --- single days --------------------------------------------------------------------------------


def day_info(day: date) -> DayInfo:
    """Whether ``day`` is a working day: an override wins, then the package, then Monday–Friday."""
    _check_date(day)
    source = _year_source(day.year)
    override = _overrides(day.year).get(day)
    if override is not None:
        kind = Source.IMPORT if source is Source.IMPORT else Source.OVERRIDE
        return DayInfo(day, override[0], kind, override[1], is_estimated=False)
    if source is Source.IMPORT:
        return DayInfo(day, day.weekday() < 5, source, None, is_estimated=False)
    if source is Source.LIBRARY:
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
        return DayInfo(day, chinese_calendar.is_workday(day), source, name, is_estimated=False)
    return DayInfo(day, day.weekday() < 5, source, None, is_estimated=source is Source.FALLBACK)


def is_workday(day: date) -> bool:
    """True when ``day`` is a working day (see ``day_info`` for the rule)."""
    _check_date(day)
    override = _overrides(day.year).get(day)
    if override is not None:
        return override[0]
    if library_covers(day.year) and day.year not in imported_years():
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    return add_working_days(day, 1)


# --- counting -----------------------------------------------------------------------------------


def _check_intervals(paused: Iterable[Interval]) -> list[Interval]:
    intervals = list(paused)
    for first, last in intervals:
        if first > last:
            raise ValueError(f"paused interval ends before it starts: {first} .. {last}")
    return intervals


def _is_paused(day: date, intervals: list[Interval]) -> bool:
    return any(first <= day <= last for first, last in intervals)


def due_date(start: date, n: int, paused: Iterable[Interval] = ()) -> date:
    """The day on which ``n`` working days have passed since ``start``.

    The day of acceptance does not count: counting starts on the first working day after ``start``.
    Working days inside a paused interval (both ends included; e.g. while the applicant corrects
    materials) do not count, so the due date moves later by as many working days as were paused.
    """
    _check_date(start)
    if n < 0:
        raise ValueError("the number of working days cannot be negative")
    intervals = _check_intervals(paused)
    day, counted = start, 0
    while counted < n:
        day += ONE_DAY
        if is_workday(day) and not _is_paused(day, intervals):
            counted += 1
    return day


def add_working_days(start: date, n: int) -> date:
    """``start`` plus ``n`` working days, ``start`` itself not counted (accepted Wed 2026-09-30 + 5 → 2026-10-13)."""
    return due_date(start, n)


def working_days_between(start: date, end: date, paused: Iterable[Interval] = ()) -> int:
    """Working days after ``start`` up to and including ``end``, leaving out paused days (ends included)."""
    _check_date(start)
    _check_date(end)
    intervals = _check_intervals(paused)
    count, day = 0, start + ONE_DAY
    while day <= end:
        if is_workday(day) and not _is_paused(day, intervals):
            count += 1
        day += ONE_DAY
    return count


def deadline(start: date, n: int, paused: Iterable[Interval] = ()) -> Deadline:
    """The due date of an ``n``-working-day promise, flagged when any year on the way is estimated."""
    due = due_date(start, n, paused)
    warnings = tuple(calendar_warnings([start, due]))
    return Deadline(due, bool(warnings), warnings)


# --- coverage -----------------------------------------------------------------------------------


def estimate_note() -> str:
    """The note shown next to an estimated date (zh: 按周一至周五估算，待国务院公布节假日安排后更新)."""
    return _("Estimated as Monday to Friday; it will be updated once the State Council publishes the holiday "
             "schedule.")


def _fallback_warning(year: int) -> str:
    return _("Working days in %(year)s are estimated as Monday to Friday, because the official holiday "
             "schedule for that year has not been entered yet. Dates shown may still change.", year=year)


def coverage(year: int) -> Coverage:
    """Where the working days of ``year`` come from, with the warning to show when they are estimated."""
    return Coverage(year, _year_source(year), len(_overrides(year)))


def calendar_warnings(dates: Iterable[date | None]) -> list[str]:
    """The warnings to show next to dates counted in working days: one per estimated year between
    the earliest and the latest of ``dates`` (a deadline counted across a year boundary passes through both).
    """
    return _warnings(dates, coverage)


def warnings_on_page(dates: Iterable[date | None]) -> list[str]:
    """``calendar_warnings`` for what a page or an answer only shows (a case's "estimated" note): each year's
    coverage kept for the day (``kept_for_display``), so a progress page does not read the calendar tables."""
    today = clock.today()
    return _warnings(dates, lambda year: coverage_on_page(today, year))


def _warnings(dates: Iterable[date | None], coverage_of: Callable[[int], Coverage]) -> list[str]:
    known = [d for d in dates if d is not None]
    if not known:
        return []
    years = range(min(known).year, max(known).year + 1)
    return [c.warning for c in map(coverage_of, years) if c.warning]  # translated as read, in the request's language


def library_disagreements(year: int) -> list[tuple[date, bool, bool]]:
    """Days of ``year`` where the imported schedule and the installed package differ, as (day, imported says
    working day, package says working day); the imported schedule is what counts. Empty when either lacks it."""
    if year not in imported_years() or not library_covers(year):
        return []
    out, day, overrides = [], date(year, 1, 1), _overrides(year)
    while day.year == year:
        imported = overrides[day][0] if day in overrides else day.weekday() < 5
        library = chinese_calendar.is_workday(day)
        if imported != library:
            out.append((day, imported, library))
        day += ONE_DAY
    return out


def must_be_shown(year: int, today: date) -> bool:
    """Whether a missing schedule of ``year`` is reported (health check, staff banner): this year always, next
    year from 1 November (the State Council usually publishes it in November; deadlines soon reach it)."""
    return year <= today.year or (year == today.year + 1 and today.month >= 11)


SHOWN_KEPT_SECONDS = 60.0
GAPS_KEPT_SECONDS = SHOWN_KEPT_SECONDS
_shown: dict[tuple[Any, ...], tuple[float, Any]] = {}
_shown_day: list[date | None] = [None]


def kept_for_display(today: date, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` kept per process for the day ``today`` (at most a minute): for what pages only show — the
    "due soon" cut-off of the queues, whether a date is estimated, the missing-schedule banner — so a page view
    does not read the calendar tables. A change made here (an override, an imported schedule) clears it at once;
    other processes see it within the minute. Deadlines that are stored never use it: they read the calendar
    afresh (``due_date``)."""
    if _shown_day[0] != today:
        _shown.clear()
        _shown_day[0] = today
    now = time.monotonic()
    kept = _shown.get(key)
    if kept is not None and now - kept[0] < SHOWN_KEPT_SECONDS:
        return kept[1]
    value = compute()
    _shown[key] = (now, value)
    return value


def coverage_gaps(today: date) -> list[Coverage]:
    """This year and next, where uncovered and ``must_be_shown``: what the health check and the staff banner on
    every staff page report (``kept_for_display``)."""
    return list(kept_for_display(today, ("gaps",), lambda: [
        c for c in (coverage(today.year), coverage(today.year + 1))
        if not c.is_covered and must_be_shown(c.year, today)]))


def coverage_on_page(today: date, year: int) -> Coverage:
    """``coverage(year)`` for what pages only show, kept for the day (``kept_for_display``)."""
    return kept_for_display(today, ("coverage", year), lambda: coverage(year))


def is_estimated_on_page(today: date, day: date) -> bool:
    """Whether a date shown on a page passes through a year whose holidays are unknown (``kept_for_display``)."""
    first, last = sorted((today.year, day.year))
    return any(not coverage_on_page(today, year).is_covered for year in range(first, last + 1))


def forget_gaps() -> None:
    """Forget what ``kept_for_display`` kept (the calendar changed, or a test starts from its own data), and the page
    fragments that showed it (``core.fragments``: a queue row's "Estimated")."""
    _shown.clear()
    fragments.clear()


def must_be_covered(year: int, today: date) -> bool:
    """A year's holidays must be known once deadlines can reach it: this year and earlier always, next
    year from 1 December (promises of up to a month then end in it; the State Council has published it).
    """
    return year <= today.year or (year == today.year + 1 and today.month == 12)


# --- operations ---------------------------------------------------------------------------------


def set_override(day: date, *, is_workday: bool, name: str, note: str | None = None,
                 actor: audit.Actor) -> CalendarOverride:
    """Record the official status of ``day`` (holiday or 调休 working day); it wins over the package.

    An earlier override of the same day is replaced. Flushes and writes an audit entry; the caller commits.
    """
    _check_date(day)
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed([("name", _("Give the day a name of 1 to 64 characters, e.g. 春节 or 国庆节调休."))])
    row = db.session.execute(select(CalendarOverride).where(CalendarOverride.day == day)).scalar_one_or_none()
    previous = None if row is None else {"is_workday": row.is_workday, "name": row.name}
    if row is None:
        row = CalendarOverride(day=day)
        db.session.add(row)
    row.is_workday = is_workday
    row.name = name
    row.note = note
    row.created_at = clock.now()
    row.created_by = actor.id or actor.kind
    db.session.flush()
    _forget_overrides(day.year)
    audit.record("calendar.set_override", actor=actor, object_type="calendar_override", object_id=day.isoformat(),
                 detail={"is_workday": is_workday, "name": name, "previous": previous})
    return row
