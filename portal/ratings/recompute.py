"""Rectification deadlines follow a holiday schedule applied after they were counted.

An open rectification's due date was counted as N working days from the day the bad rating opened it. When
an administrator imports a schedule that changes days up to that date, it is recounted with the same N on the
new calendar; closed rectifications are never rewritten, and recounting twice gives the same date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..calendar import add_working_days
from ..calendar.schedules import schedule_changed, working_days_before
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from .constants import RectState
from .models import Rectification


def recompute_rectifications(year: Any, *, changed: list[date], actor: Actor, **_kw: Any) -> int:
    """``schedule_changed`` receiver: recount open rectifications due on or after the first changed day."""
    rows = db.session.execute(select(Rectification).where(
        Rectification.state != RectState.CLOSED.value, Rectification.due_date >= changed[0])
        .order_by(Rectification.id)).scalars()
    count = 0
    for rect in rows:
        opened_on = clock.to_local(rect.opened_at).date()
        after = add_working_days(opened_on, working_days_before(opened_on, rect.due_date, changed))
        if after != rect.due_date:
            record("rectification.deadline_moved", actor=actor, object_type="rectification", object_id=rect.id,
                   detail={"before": rect.due_date.isoformat(), "after": after.isoformat()})
            rect.due_date = after
            count += 1
    db.session.flush()
    return count


schedule_changed.connect(recompute_rectifications, weak=False)
