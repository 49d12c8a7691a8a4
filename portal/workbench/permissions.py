"""Who may use the workbench and do what there. Predicates return None when allowed, or the reason (translated).

The workbench is for the staff who work cases (受理, 审核, 财务, 科长). An administrator manages accounts and
sees no case data. A chief (科长) assigns cases, releases anyone's claim and sees who opened a case.
"""

from __future__ import annotations

from typing import Any

from ..accounts.models import AccountKind, Role
from ..applications.constants import APPLICANT_ACTIONS
from ..applications.lifecycle import available_actions
from ..applications.permissions import cannot_act
from ..core.translation import gettext as _

CASE_ROLES = frozenset({Role.ACCEPTOR, Role.REVIEWER, Role.FINANCE, Role.CHIEF})


def is_case_worker(user: Any) -> bool:
    return (bool(getattr(user, "is_authenticated", False)) and user.kind == AccountKind.STAFF
            and bool(user.roles & CASE_ROLES))


def is_chief(user: Any) -> bool:
    return is_case_worker(user) and Role.CHIEF in user.roles


def actions_for(user: Any, case: Any) -> list:
    """The agency's actions ``user`` may take on ``case`` now (the table, its guards and S7 all agree)."""
    return [a for a in available_actions(case) if a not in APPLICANT_ACTIONS and cannot_act(user, case, a) is None]


def cannot_claim(user: Any, case: Any) -> str | None:
    """Why ``user`` cannot take the case to work on it now, or None."""
    if not is_case_worker(user):
        return _("Only staff who handle cases can do this.")
    if case.is_closed:
        return _("This case is closed.")
    if case.assignee_id is not None:
        if case.assignee_id == user.id:
            return _("You are already working on this case.")
        return _("%(name)s is already working on this case.", name=case.assignee.display_name)
    if not actions_for(user, case):
        return _("There is nothing on this case you can do now.")
    return None


def cannot_assign(user: Any, case: Any, assignee: Any) -> str | None:
    """A chief hands a case to a member of staff who can take its next step (never one kept off it by S7)."""
    if not is_chief(user):
        return _("Only a section chief can assign cases.")
    if assignee is None or not is_case_worker(assignee) or not assignee.is_active:
        return _("Choose a member of staff who handles cases.")
    if not actions_for(assignee, case):
        return _("%(name)s cannot take the next step of this case.", name=assignee.display_name)
    return None


def cannot_release(user: Any, case: Any) -> str | None:
    if case.assignee_id is None:
        return _("Nobody is working on this case.")
    if case.assignee_id != user.id and not is_chief(user):
        return _("Only the member of staff working on the case, or a section chief, can release it.")
    return None


def cannot_decide(user: Any, case: Any) -> str | None:
    """Deciding needs the case claimed by ``user``: two members of staff never act on one case (S20)."""
    if case.assignee_id != user.id:
        if case.assignee_id is None:
            return _("Take the case first: decisions are made by the member of staff working on it.")
        return _("%(name)s is working on this case.", name=case.assignee.display_name)
    return None
