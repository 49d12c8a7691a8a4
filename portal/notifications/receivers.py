"""Case moves become messages to the applicant, written in the move's own transaction.

Connected to ``portal.applications.signals.case_moved`` when this module is imported (the notifications
blueprint imports it, so every app has it). A receiver that raises undoes the move: a message that cannot be
written means the change does not happen either.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..applications.constants import Action, State
from ..applications.signals import case_moved
from ..core import clock
from ..sampling.signals import sample_concluded
from .constants import Event
from .operations import notify

# Moves the applicant is told about. Their own moves (submit, withdraw, resubmit) and the agency's internal
# steps (start review, start payment, deliver) are not announced.
ANNOUNCED = frozenset({Action.ACCEPT, Action.REQUEST_CORRECTION, Action.REFUSE, Action.DENY, Action.APPROVE,
                       Action.RETURN_TO_REVIEW, Action.COMPLETE})


def item_names(case: Any) -> dict[str, str]:
    """The item's name in both languages (the catalog's English gloss when it has one)."""
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    if item is None:
        return {"zh": case.item_name, "en": case.item_name}
    return {"zh": item.name.zh, "en": getattr(item.name, "en", None) or item.name.zh}


def _materials(case: Any) -> list[dict[str, str]]:
    notice = case.open_notice
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    names = {m.id: {"zh": m.name.zh, "en": getattr(m.name, "en", None) or m.name.zh} for m in item.materials} \
        if item is not None else {}
    form = {"zh": "申请表填写内容", "en": "the application form"}
    return [names.get(m, form if m == "_form" else {"zh": m, "en": m}) for m in (notice.material_ids if notice else [])]


def _completion_event(case: Any, event: Any) -> Event:
    if case.handler.startswith("certificates."):
        return Event.CERTIFICATE_READY
    if event.from_state == State.PAYING:
        return Event.PAID
    return Event.COMPLETED


def case_context(case: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"item": item_names(case), "number": case.number or "", **(extra or {})}


def _message(case: Any, event: Any, action: Action) -> tuple[Event, dict[str, Any]] | None:
    if action is Action.ACCEPT:
        if event.actor_id is None:  # accepted by the system on submission: the completion message follows
            return None
        due = case.due_date or clock.to_local(case.accepted_at).date()
        return Event.ACCEPTED, case_context(case, {"due_on": due.isoformat()})
    if action is Action.REQUEST_CORRECTION:
        notice = case.open_notice
        return Event.CORRECTION_REQUESTED, case_context(case, {
            "respond_by_on": notice.respond_by.isoformat(), "materials": _materials(case)})
    if action in {Action.REFUSE, Action.DENY}:
        kind = Event.REFUSED if action is Action.REFUSE else Event.DENIED
        return kind, case_context(case, {"reason": case.decision_reason or event.reason or ""})
    if action is Action.APPROVE:
        return Event.APPROVED, case_context(case)
    if action is Action.RETURN_TO_REVIEW:
        return Event.RETURNED_TO_REVIEW, case_context(case, {"reason": event.reason or ""})
    if action is Action.COMPLETE:
        kind = _completion_event(case, event)
        return kind, case_context(case, {"result": case.result_text or ""} if kind is not Event.CERTIFICATE_READY
                                  else None)
    return None


def announce_case_move(case: Any, *, event: Any, action: Action, **_kw: Any) -> None:
    """Queue the applicant's message about this move (see ANNOUNCED)."""
    if action not in ANNOUNCED:
        return
    message = _message(case, event, action)
    if message is None:
        return
    kind, context = message
    notify(case.applicant, kind, context, application_id=case.id)


case_moved.connect(announce_case_move, weak=False)  # any sender: every case


def announce_false_commitment(check: Any, *, case: Any, outcome: Any, **_kw: Any) -> None:
    """Post-hoc checking found the commitment untrue: the applicant is told why, with the effect undone."""
    from ..sampling.models import Outcome

    if outcome is Outcome.FALSE_COMMITMENT:
        notify(case.applicant, Event.COMMITMENT_FALSE, case_context(case, {"reason": check.reason or ""}),
               application_id=case.id)


sample_concluded.connect(announce_false_commitment, weak=False)
