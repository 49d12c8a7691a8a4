"""What every case operation shares: the catalog item of a case, configuration, the flush that turns a lost
race into ``Conflict``, and the one ``transition()`` every move goes through."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from ...catalog.schema import Item
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ...core.translation import gettext as _
from .. import deadlines
from ..constants import REASONED_ACTIONS, Action, State
from ..lifecycle import TRANSITIONS, refusal
from ..models import Application, ApplicationEvent
from ..permissions import cannot_act
from ..signals import case_moved


def catalog_item(case: Application) -> Item:
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    if item is None:
        raise NotFound(_("This item is no longer in the catalog."))
    return item


def _config(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(_("Someone else changed this case a moment ago. Reload it to see where it stands.")) from error


def transition(case: Application, action: Action, *, by: Any, actor: Actor, reason: str | None = None,
               detail: dict[str, Any] | None = None) -> ApplicationEvent:
    """Apply ``action`` to ``case`` through the transition table: check, move, stamp, log, audit.

    Raises ``InvalidTransition`` when the table or a guard refuses the move, ``PermissionDenied`` when
    ``by`` may not take it, ``ValidationFailed`` when a refusal or denial comes without a reason.
    """
    problem = refusal(case, action)
    if problem:
        raise InvalidTransition(problem)
    not_allowed = cannot_act(by, case, action)
    if not_allowed:
        raise PermissionDenied(not_allowed)
    reason = (reason or "").strip() or None
    if action in REASONED_ACTIONS and reason is None:
        raise ValidationFailed([("reason", _("Give the reason: the applicant is told it."))])
    now = clock.now()
    before = case.state
    after = TRANSITIONS[(State(before), action)]
    with db.session.no_autoflush:  # the stamps read the calendar: the move is written once, at the flush below
        case.state = after.value
        case.updated_at = now
        _stamp(case, action, after, now, reason)
        if action is Action.ACCEPT:
            detail = {**(detail or {}), "due": case.due_date.isoformat() if case.due_date else None}
        event = ApplicationEvent(
            action=action.value, from_state=before, to_state=after.value, at=now, reason=reason,
            actor_id=getattr(by, "id", None), actor_kind=getattr(by, "kind", None) or "system",
            actor_role=getattr(by, "audit_role", None),
        )
        event.detail_json = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
        # joined to the case's timeline without reading it (appending to case.events would load every earlier
        # event first); a timeline read later has it
        event.application = case
        db.session.add(event)
    _flush()
    record(f"application.{action.value}", actor=actor, object_type="application", object_id=case.id,
           detail={"from": before, "to": after.value, "number": case.number})
    case_moved.send(case, event=event, action=action)
    return event


def _stamp(case: Application, action: Action, after: State, now: datetime, reason: str | None) -> None:
    if action is Action.SUBMIT:
        case.submitted_at = now
        case.accept_by = deadlines.accept_by(clock.to_local(now).date())
    elif action is Action.ACCEPT:
        case.accepted_at = now
        case.due_date = deadlines.due_date(case.limit_kind, case.limit_value, clock.to_local(now).date())
    elif action in {Action.APPROVE, Action.DENY, Action.REFUSE}:
        case.decided_at = now
        case.returned_at = None
        case.decision_reason = reason if action is not Action.APPROVE else case.decision_reason
    elif action is Action.RETURN_TO_REVIEW:
        case.decided_at = None
        case.returned_at = now
    elif action is Action.COMPLETE:
        case.completed_at = now
    elif action is Action.DELIVER:
        case.delivered_at = now
    if after.is_final:
        case.closed_at = now
