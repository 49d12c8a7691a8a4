"""Imported yearly schedules: preview, apply, list and delete (operations: flush, never commit).

Applying a schedule replaces the year's imported days in one transaction, records the text, who and when,
and sends ``schedule_changed`` with the days whose status changed, so features that store deadlines counted
in working days (cases, rectifications) recompute them in the same transaction. Importing the same days
again changes nothing and sends nothing.
"""

from __future__ import annotations

import calendar as _calendar
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from blinker import Namespace
from sqlalchemy import delete, select

from ..core import audit, clock
from ..core.db import db
from ..core.errors import NotFound, ValidationFailed
from ..core.translation import gettext as _
from . import engine
from .models import CalendarOverride, CalendarSchedule
from .notice import NoticeError, Schedule, is_notice, parse_any

ONE_DAY = timedelta(days=1)
MAX_TEXT = 100_000
_signals = Namespace()
# sent with ``changed`` (the sorted days whose working-day status changed) and ``actor``; receivers recompute
# what they stored and return how many rows they moved
schedule_changed = _signals.signal("calendar-schedule-changed")


@dataclass(frozen=True)
class Preview:
    schedule: Schedule
    changed: list[date]  # days whose status the schedule would change, against what is used now
    unchanged: bool  # the same days as the schedule already imported for the year


@dataclass(frozen=True)
class Applied:
    row: CalendarSchedule | None
    changed: list[date]
    moved: dict[str, int]  # receiver name → rows it recomputed
    unchanged: bool


def _digest(schedule: Schedule) -> str:
    lines = [f"{d.isoformat()} {int(w)} {n}" for d, (w, n) in sorted(schedule.days.items())]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _span(year: int) -> tuple[date, date]:
    return date(year - 1, 12, 1), date(year, 12, 31)  # a notice may start 元旦 in the previous December


def _status(first: date, last: date) -> dict[date, bool]:
    out, day = {}, first
    while day <= last:
        out[day] = engine.is_workday(day)
        day += ONE_DAY
    return out


def _forget(year: int) -> None:
    for each in (year - 1, year):
        engine._forget_overrides(each)


def parse(year: int, text: str) -> Schedule:
    """The schedule ``text`` sets for ``year``; ``ValidationFailed`` (field ``text``) says what is wrong."""
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationFailed([("year", _("Give the year of the schedule, e.g. 2027."))])
    if not text or not text.strip():
        raise ValidationFailed([("text", _("Paste the notice's text, or choose a CSV or YAML file of dates."))])
    if len(text) > MAX_TEXT:
        raise ValidationFailed([("text", _("The text is too long to be a holiday notice."))])
    try:
        return parse_any(text, year)
    except NoticeError as exc:
        raise ValidationFailed([("text", _("The schedule could not be read: %(problem)s", problem=str(exc)))]) from exc


def existing(year: int) -> CalendarSchedule | None:
    return db.session.execute(select(CalendarSchedule).where(CalendarSchedule.year == year)).scalar_one_or_none()


def preview_schedule(year: int, text: str) -> Preview:
    """What importing ``text`` for ``year`` would set, and which days it would change; nothing is written."""
    schedule = parse(year, text)
    first, last = _span(year)
    before = _status(first, last)
    changed = [d for d, work in before.items() if schedule.is_workday(d) != work
               and (d.year == year or d in schedule.days)]
    row = existing(year)
    return Preview(schedule, changed, row is not None and row.digest == _digest(schedule))


def apply_schedule(year: int, text: str, *, source: str, actor: audit.Actor) -> Applied:
    """Import ``text`` as the schedule of ``year`` (replacing an earlier import) and recompute what it moves."""
    schedule = parse(year, text)
    digest = _digest(schedule)
    row = existing(year)
    if row is not None and row.digest == digest:
        return Applied(row, [], {}, unchanged=True)
    first, last = _span(year)
    before = _status(first, last)
    if row is not None:
        db.session.execute(delete(CalendarOverride).where(CalendarOverride.schedule_id == row.id))
    db.session.execute(delete(CalendarOverride).where(CalendarOverride.day.in_(list(schedule.days))))
    if row is None:
        row = CalendarSchedule(year=year)
        db.session.add(row)
    row.kind = "notice" if is_notice(text) else "list"
    row.source, row.text, row.digest = (source or "-")[:200], text, digest
    row.holiday_count, row.workday_count = len(schedule.holidays), len(schedule.workdays)
    row.applied_at, row.applied_by = clock.now(), str(actor.id or actor.kind)[:64]
    db.session.flush()
    for day, (is_workday, name) in sorted(schedule.days.items()):
        db.session.add(CalendarOverride(day=day, is_workday=is_workday, name=name, note=row.source,
                                        created_at=row.applied_at, created_by=row.applied_by, schedule_id=row.id))
    db.session.flush()
    _forget(year)
    return _after_change(row, year, before, actor, "calendar.import_schedule",
                         {"year": year, "source": row.source, "digest": digest, "holidays": row.holiday_count,
                          "workdays": row.workday_count})


def delete_schedule(year: int, *, actor: audit.Actor) -> Applied:
    """Remove the imported schedule of ``year`` (the package, or the Monday–Friday estimate, counts again)."""
    row = existing(year)
    if row is None:
        raise NotFound(_("No schedule was imported for %(year)s.", year=year))
    first, last = _span(year)
    before = _status(first, last)
    db.session.execute(delete(CalendarOverride).where(CalendarOverride.schedule_id == row.id))
    db.session.delete(row)
    db.session.flush()
    _forget(year)
    return _after_change(None, year, before, actor, "calendar.delete_schedule", {"year": year})


def _after_change(row: CalendarSchedule | None, year: int, before: dict[date, bool], actor: audit.Actor,
                  what: str, detail: dict[str, Any]) -> Applied:
    after = _status(min(before), max(before))
    changed = sorted(d for d, work in before.items() if after[d] != work)
    moved: dict[str, int] = {}
    if changed:
        for receiver, result in schedule_changed.send(year, changed=changed, actor=actor):
            moved[getattr(receiver, "__name__", str(receiver))] = int(result or 0)
    audit.record(what, actor=actor, object_type="calendar_schedule", object_id=str(year),
                 detail={**detail, "changed_days": len(changed), "moved": moved})
    return Applied(row, changed, moved, unchanged=False)


def working_days_before(start: date, end: date, changed: list[date]) -> int:
    """How many working days lay after ``start`` up to ``end`` before the ``changed`` days flipped: what a
    stored deadline promised, so that it is recounted with the same number on the new calendar."""
    flipped = sum(1 if engine.is_workday(d) else -1 for d in changed if start < d <= end)
    return engine.working_days_between(start, end) - flipped


def list_schedules() -> list[CalendarSchedule]:
    return list(db.session.execute(select(CalendarSchedule).order_by(CalendarSchedule.year.desc())).scalars())


def entries(year: int) -> list[CalendarOverride]:
    """Every day set for ``year`` (imported or entered by hand), in order."""
    return list(db.session.execute(
        select(CalendarOverride)
        .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        .order_by(CalendarOverride.day)).scalars())


def set_day(day: date, *, is_workday: bool, name: str, note: str | None = None,
            actor: audit.Actor) -> CalendarOverride:
    """Enter one day by hand (``engine.set_override``) and recount the deadlines it moves."""
    before = _status(day, day)
    row = engine.set_override(day, is_workday=is_workday, name=name, note=note, actor=actor)
    row.schedule_id = None
    db.session.flush()
    _after_change(None, day.year, before, actor, "calendar.set_day", {"day": day.isoformat()})
    return row


def delete_override(day: date, *, actor: audit.Actor) -> None:
    """Remove a day entered by hand (a day of an imported schedule goes with its schedule)."""
    row = db.session.execute(select(CalendarOverride).where(CalendarOverride.day == day)).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No day %(day)s was entered.", day=day.isoformat()))
    if row.schedule_id is not None:
        raise ValidationFailed([(None, _("This day belongs to an imported schedule: delete or re-import the "
                                         "schedule instead."))])
    before = _status(day, day)
    db.session.delete(row)
    db.session.flush()
    _forget(day.year)
    _after_change(None, day.year, before, actor, "calendar.delete_override", {"day": day.isoformat()})


def month_grid(schedule: Schedule | None, year: int) -> list[dict[str, Any]]:
    """Twelve months of weeks (Monday first) for the preview: each day with its status and name."""
    months = []
    cal = _calendar.Calendar(firstweekday=0)
    for month in range(1, 13):
        weeks = []
        for week in cal.monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                entry = schedule.days.get(day) if schedule is not None else None
                work = schedule.is_workday(day) if schedule is not None else engine.is_workday(day)
                cells.append({"day": day, "is_workday": work, "name": entry[1] if entry else None,
                              "is_special": entry is not None and entry[0] != (day.weekday() < 5)})
            weeks.append(cells)
        months.append({"month": month, "weeks": weeks})
    return months
