"""The agency's decisions: accept or refuse, review, approve or deny, pay, complete (with the handler's effect),
deliver."""

from __future__ import annotations

from typing import Any

from ...core.audit import Actor
from ...core.errors import InvalidTransition
from ...services import handler_for
from ..constants import Action
from ..models import Application
from .base import catalog_item, transition
from .checks import _context


def accept_application(case: Application, *, by: Any, actor: Actor) -> None:
    """受理: the materials are complete; the clock starts on the next working day. The item's handler checks again
    what filing checked and may have changed since (a required record still held)."""
    problem = handler_for(catalog_item(case)).acceptance_problem(case)
    if problem:
        raise InvalidTransition(problem)
    transition(case, Action.ACCEPT, by=by, actor=actor)


def refuse_application(case: Application, reason: str, *, by: Any, actor: Actor) -> None:
    """不予受理, with the reason the applicant reads."""
    transition(case, Action.REFUSE, by=by, actor=actor, reason=reason)


def start_review(case: Application, *, by: Any, actor: Actor) -> None:
    transition(case, Action.START_REVIEW, by=by, actor=actor)


def approve_application(case: Application, *, by: Any, actor: Actor, result: str | None = None,
                        terms: dict[str, Any] | None = None) -> None:
    """审核通过. ``result`` is the outcome printed on the completion slip; ``terms`` what the approval sets for the
    effect (a recognition's last day of validity), kept on the approval event."""
    handler_for(catalog_item(case)).before_approve(case, by=by, actor=actor)
    transition(case, Action.APPROVE, by=by, actor=actor, detail=terms or None)
    if result:
        case.result_text = result.strip()[:2000]


def deny_application(case: Application, reason: str, *, by: Any, actor: Actor) -> None:
    """审核不通过, with the reason the applicant reads."""
    transition(case, Action.DENY, by=by, actor=actor, reason=reason)


def start_payment(case: Application, *, by: Any, actor: Actor) -> None:
    transition(case, Action.START_PAYMENT, by=by, actor=actor)


def return_to_review(case: Application, reason: str, *, by: Any, actor: Actor) -> None:
    """退回重审: an approval whose payment has not started goes back to review, with the reason the applicant
    reads; the amount is decided again (``services.claims.operations.on_case_moved``)."""
    transition(case, Action.RETURN_TO_REVIEW, by=by, actor=actor, reason=reason)


def complete_application(case: Application, *, by: Any, actor: Actor, result: str | None = None) -> None:
    """办结: the case completes and the item's handler applies its effect on the records, together."""
    if result:
        case.result_text = result.strip()[:2000]
    _complete(case, by=by, actor=actor)


def _complete(case: Application, *, by: Any, actor: Actor) -> None:
    item = catalog_item(case)
    handler_for(item).before_complete(case, by=by, actor=actor)
    transition(case, Action.COMPLETE, by=by, actor=actor)
    handler_for(item).apply_effect(case, _context(case, item))


def deliver_application(case: Application, *, by: Any, actor: Actor) -> None:
    """送达: the result has reached the applicant."""
    transition(case, Action.DELIVER, by=by, actor=actor)
