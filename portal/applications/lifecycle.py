"""The lifecycle of a case as one table: ``{(state, action): next_state}``, plus the guards some moves need.

::

    draft ─submit→ submitted ─accept→ accepted ─start_review→ under_review ─approve→ approved ─complete→ completed
          ├─refuse→ not_accepted (reason)          │     └─deny→ denied (reason)      └─start_payment→ paying ─complete┘
          ├─request_correction→ correction_requested ─resubmit→ resubmitted ─accept / start_review / …
          └─withdraw→ withdrawn (by the applicant, before acceptance)          completed ─deliver→ delivered

A draft is not withdrawn but discarded (``operations.discard_draft``): the agency has never seen it, it
has no number, and a withdrawn case must have one (the ``number_once_submitted`` CHECK constraint).

A one-time notice (一次性告知) can come at acceptance (the clock has not started) or during review (the
clock stops until the applicant resubmits). After resubmission the case goes on where it stood: to
acceptance if it had not been accepted, back to review if it had. 即办件 complete straight from
``accepted``. Guards refuse moves the table allows in general but not for this case; each says why.

An approval that pays money can be returned to review (``return_to_review``, with the reason) while its payment
has not started: finance finds the money can no longer be paid as approved (the personal account was spent
meanwhile), or the reviewer finds a mistake. Nothing has left the agency, so the amount is decided again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.translation import gettext as _
from .constants import Action, State

if TYPE_CHECKING:
    from .models import Application

S, A = State, Action

TRANSITIONS: dict[tuple[State, Action], State] = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REFUSE): S.NOT_ACCEPTED,
    (S.SUBMITTED, A.REQUEST_CORRECTION): S.CORRECTION_REQUESTED,
    (S.CORRECTION_REQUESTED, A.RESUBMIT): S.RESUBMITTED,
    (S.CORRECTION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
    (S.RESUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.RESUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.RESUBMITTED, A.REFUSE): S.NOT_ACCEPTED,
    (S.RESUBMITTED, A.REQUEST_CORRECTION): S.CORRECTION_REQUESTED,
    (S.RESUBMITTED, A.START_REVIEW): S.UNDER_REVIEW,
    (S.ACCEPTED, A.START_REVIEW): S.UNDER_REVIEW,
    (S.ACCEPTED, A.REQUEST_CORRECTION): S.CORRECTION_REQUESTED,
    (S.ACCEPTED, A.COMPLETE): S.COMPLETED,
    (S.UNDER_REVIEW, A.APPROVE): S.APPROVED,
    (S.UNDER_REVIEW, A.DENY): S.DENIED,
    (S.UNDER_REVIEW, A.REQUEST_CORRECTION): S.CORRECTION_REQUESTED,
    (S.APPROVED, A.START_PAYMENT): S.PAYING,
    (S.APPROVED, A.COMPLETE): S.COMPLETED,
    (S.APPROVED, A.RETURN_TO_REVIEW): S.UNDER_REVIEW,
    (S.PAYING, A.COMPLETE): S.COMPLETED,
    (S.COMPLETED, A.DELIVER): S.DELIVERED,
}


Guard = Callable[["Application"], str | None]


def _only_before_acceptance(case: Application) -> str | None:
    if case.accepted_at is not None:
        return _("The case has already been accepted; it can no longer be withdrawn or accepted again.")
    return None


def _only_after_acceptance(case: Application) -> str | None:
    if case.accepted_at is None:
        return _("The case has not been accepted yet.")
    return None


def _only_instant(case: Application) -> str | None:
    if not case.is_instant:
        return _("Only an item handled on the spot (即办件) completes straight after acceptance.")
    return None


def _only_money(case: Application) -> str | None:
    if not case.is_money:
        return _("This item pays no money, so it has no payment step.")
    return None


def _not_money(case: Application) -> str | None:
    if case.is_money:
        return _("This item pays money: start the payment before completing it.")
    return None


GUARDS: dict[tuple[State, Action], Guard] = {
    (S.RESUBMITTED, A.WITHDRAW): _only_before_acceptance,
    (S.CORRECTION_REQUESTED, A.WITHDRAW): _only_before_acceptance,
    (S.RESUBMITTED, A.ACCEPT): _only_before_acceptance,
    (S.RESUBMITTED, A.REFUSE): _only_before_acceptance,
    (S.RESUBMITTED, A.START_REVIEW): _only_after_acceptance,
    (S.ACCEPTED, A.COMPLETE): _only_instant,
    (S.APPROVED, A.START_PAYMENT): _only_money,
    (S.APPROVED, A.COMPLETE): _not_money,
    (S.APPROVED, A.RETURN_TO_REVIEW): _only_money,
}


def next_state(case: Application, action: Action) -> State | None:
    """The state ``action`` leads to from the case's state, or None when the table has no such move."""
    return TRANSITIONS.get((State(case.state), action))


def refusal(case: Application, action: Action) -> str | None:
    """Why ``action`` cannot be taken on ``case`` now (translated), or None when it can."""
    key = (State(case.state), action)
    if key not in TRANSITIONS:
        return _("%(action)s is not possible while the case is “%(state)s”.",
                 action=action.verb, state=State(case.state).label)
    guard = GUARDS.get(key)
    return guard(case) if guard else None


def available_actions(case: Application) -> list[Action]:
    """Actions that can be taken on the case now, in table order."""
    return [action for (state, action) in TRANSITIONS if state == case.state and refusal(case, action) is None]
