"""Stored deadlines of open cases follow a holiday schedule applied after they were counted.

``accept_by``, ``due_date`` (with the paused days) and the open one-time notice's ``respond_by`` were counted
in working days on the calendar of their day. When an administrator imports a schedule (portal.calendar
.schedules), every open case whose dates reach the changed days is recounted with the same number of working
days on the new calendar. A moved case gets a timeline note (办理时限因节假日安排调整为…) and the applicant a
message; its workbench queue follows (queues.py keeps ``work_due`` on flush). Closed cases are never rewritten;
recounting a case twice gives the same dates, so a second import changes nothing.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from ..calendar.schedules import schedule_changed, working_days_before
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from ..notifications import notify
from ..notifications.constants import Event
from ..notifications.receivers import item_names
from . import deadlines
from .constants import Action, State
from .models import Application, ApplicationEvent, CorrectionNotice


def _accept_base(case: Application) -> date:
    """The day the 5 working days to accept ran from: the submission, or the last answer to a notice given
    before acceptance (the count starts again from the complete filing)."""
    base = clock.to_local(case.submitted_at).date()
    for notice in case.notices:
        if not notice.pauses_clock and notice.resolved_on is not None and notice.resolved_on > base:
            base = notice.resolved_on
    return base


def _resolved_pauses(case: Application) -> list[deadlines.Interval]:
    out = []
    for notice in case.notices:
        if notice.pauses_clock and notice.resolved_on is not None:
            interval = deadlines.pause_interval(notice.issued_on, notice.resolved_on)
            if interval:
                out.append(interval)
    return out


def recount(case: Application, changed: list[date]) -> dict[str, tuple[str, str]]:
    """Recount the case's stored dates; returns {field: (before, after)} of those that moved (and sets them)."""
    moved: dict[str, tuple[str, str]] = {}
    if case.accepted_at is None and case.accept_by is not None and case.submitted_at is not None:
        after = deadlines.accept_by(_accept_base(case))
        if after != case.accept_by:
            moved["accept_by"] = (case.accept_by.isoformat(), after.isoformat())
            case.accept_by = after
    if case.accepted_at is not None and case.due_date is not None and case.limit_kind == "working_days":
        accepted_on = clock.to_local(case.accepted_at).date()
        intervals = _resolved_pauses(case)
        after = deadlines.due_date(case.limit_kind, case.limit_value, accepted_on, intervals)
        if after is not None and after != case.due_date:
            moved["due_date"] = (case.due_date.isoformat(), after.isoformat())
            case.due_date = after
            case.paused_working_days = deadlines.paused_days(case.limit_kind, case.limit_value, intervals,
                                                             accepted_on)
    notice = case.open_notice
    if notice is not None:
        days = working_days_before(notice.issued_on, notice.respond_by, changed)
        after = deadlines.correction_due(notice.issued_on, days)
        if after != notice.respond_by:
            moved["respond_by"] = (notice.respond_by.isoformat(), after.isoformat())
            notice.respond_by = after
    return moved


def _announce(case: Application, moved: dict[str, tuple[str, str]], actor: Actor) -> None:
    now = clock.now()
    event = ApplicationEvent(action=Action.DEADLINE_MOVED.value, from_state=case.state, to_state=case.state, at=now,
                             actor_id=None, actor_kind="system", actor_role=None)
    detail: dict[str, Any] = {"moved": {k: {"before": b, "after": a} for k, (b, a) in moved.items()}}
    # the timeline shows the new dates as it does for other events ("Due by …", "To be accepted by …")
    detail |= {{"due_date": "due"}.get(k, k): a for k, (_b, a) in moved.items()}
    event.detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    case.events.append(event)
    case.updated_at = now
    db.session.flush()
    record("application.deadline_moved", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "moved": {k: list(v) for k, v in moved.items()}})
    # the date the applicant waits for: the due date once accepted, the reply to a notice, or acceptance
    shown = moved.get("due_date") or moved.get("respond_by") or moved.get("accept_by")
    if case.applicant is not None and case.number and shown is not None:
        notify(case.applicant, Event.DEADLINE_MOVED,
               {"item": item_names(case), "number": case.number, "due_on": shown[1]}, application_id=case.id)


def recompute_cases(year: Any, *, changed: list[date], actor: Actor, **_kw: Any) -> int:
    """``schedule_changed`` receiver: recount every open case whose stored dates reach the changed days."""
    first = changed[0]
    open_states = [s.value for s in State if not s.is_final and s not in {State.DRAFT, State.COMPLETED}]
    with_open_notice = select(CorrectionNotice.application_id).where(
        CorrectionNotice.resolved_on.is_(None), CorrectionNotice.respond_by >= first)
    cases = db.session.execute(
        select(Application).where(Application.state.in_(open_states), Application.closed_at.is_(None),
                                  Application.completed_at.is_(None),
                                  or_(Application.due_date >= first, Application.accept_by >= first,
                                      Application.id.in_(with_open_notice)))
        .order_by(Application.id)).scalars()
    count = 0
    for case in cases:
        moved = recount(case, changed)
        if moved:
            _announce(case, moved, actor)
            count += 1
    return count


schedule_changed.connect(recompute_cases, weak=False)
