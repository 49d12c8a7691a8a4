"""Recording the 长期护理 assessment of a case: the scores staff enter after the on-site assessment."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ...applications.constants import State
from ...applications.models import Application
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ...core.translation import gettext as _
from ..models import CareAssessment
from .scale import Assessment, assess

# the assessment is entered after acceptance (初审 passed, the assessor has been) and before the decision
OPEN_STATES = frozenset({State.ACCEPTED, State.RESUBMITTED, State.UNDER_REVIEW})


def assessment_of(case: Application) -> CareAssessment | None:
    if case.id is None:
        return None
    return db.session.execute(select(CareAssessment).where(CareAssessment.application_id == case.id)).scalar()


def _day(raw: Any) -> date:
    text = str(raw or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([("assessed_on", _("Give the date of the assessment, such as 2026-12-01."))]) from None
    if day > clock.today():
        raise ValidationFailed([("assessed_on", _("The date of the assessment cannot be in the future."))])
    return day


def record_assessment(case: Application, scores: dict[str, Any], assessed_on: Any, *, by: Any,
                      actor: Actor) -> tuple[CareAssessment, Assessment]:
    """Record (or replace) the case's assessment from one score per item of the scale; every problem at once."""
    from ..long_term_care import ASSESSMENT_HANDLER

    if case.handler != ASSESSMENT_HANDLER:
        raise NotFound(_("This case has no ADL assessment."))
    if case.assignee_id != getattr(by, "id", None):
        raise PermissionDenied(_("Take the case first: decisions are made by the member of staff working on it."))
    if State(case.state) not in OPEN_STATES:
        raise InvalidTransition(_("The assessment is entered after acceptance and before the decision."))
    reasons: list[tuple[str | None, str]] = []
    result = day = None
    try:
        result = assess(scores)
    except ValidationFailed as error:
        reasons += error.reasons
    try:
        day = _day(assessed_on)
    except ValidationFailed as error:
        reasons += error.reasons
    if reasons or result is None or day is None:
        raise ValidationFailed(reasons)
    row = assessment_of(case) or CareAssessment(application_id=case.id)
    row.scores, row.total, row.level, row.assessed_on = result.scores, result.total, result.band.key, day
    row.entered_by_id, row.entered_at = by.id, clock.now()
    db.session.add(row)
    db.session.flush()
    record("ltc.assessment_recorded", actor=actor, object_type="application", object_id=case.id,
           detail={"total": result.total, "level": result.band.key, "assessed_on": day.isoformat()})
    return row, result


def staff_view(case: Application, item: Any, *, by: Any, values: dict[str, Any] | None = None,
               errors: dict[str, list[str]] | None = None) -> dict[str, Any] | None:
    """The case page's assessment panel: the recorded assessment, and the form to enter it (each item with its
    published score steps in the seed's words, from the catalog form 附件 4) while the case is open to it."""
    from ..long_term_care import ASSESSMENT_HANDLER
    from .scale import scale

    if case.handler != ASSESSMENT_HANDLER:
        return None
    the_scale = scale()
    published = {f.key: f for form in (item.forms if item is not None else ()) for f in form.fields
                 if form.id == "adl_scale"}
    current = assessment_of(case)
    entered = values or (current.scores if current is not None else {})
    rows = []
    for scale_item in the_scale.items:
        words = [o.zh for o in published[scale_item.key].options] if scale_item.key in published else []
        steps = [(score, words[n] if n < len(words) else f"{score} 分") for n, score in enumerate(scale_item.scores)]
        rows.append({"item": scale_item, "steps": steps, "value": str(entered.get(scale_item.key, "")),
                     "errors": (errors or {}).get(scale_item.key, [])})
    band = next((b for b in the_scale.bands if current is not None and b.key == current.level), None)
    return {
        "current": current, "band": band, "rows": rows, "scale": the_scale,
        "editable": case.assignee_id == getattr(by, "id", None) and State(case.state) in OPEN_STATES,
        "assessed_on": (values or {}).get("assessed_on") or (current.assessed_on.isoformat() if current else ""),
        "day_errors": (errors or {}).get("assessed_on", []),
    }
