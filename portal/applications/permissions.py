"""Who may do what with a case. Each predicate returns None when allowed, or the reason (translated) when not.

Applicants: the account that filed, and for a unit's case every agent of that unit. Staff act by role
(受理 accepts and notifies, 审核 reviews, 财务 pays, 科长 may do all three), with separation of duties
(S7): nobody acts as the agency on a case they filed or that is about them (``is_own_case``), the acceptor of
a money item cannot approve it, and its approver cannot pay it out.
"""

from __future__ import annotations

from typing import Any

from ..accounts.models import AccountKind, Role
from ..catalog.schema import Audience, Item
from ..core.translation import gettext as _
from ..organisations import permissions as agent_permissions
from .constants import APPLICANT_ACTIONS, Action

STAFF_ROLES: dict[Action, frozenset[Role]] = {
    Action.ACCEPT: frozenset({Role.ACCEPTOR, Role.CHIEF}),
    Action.REFUSE: frozenset({Role.ACCEPTOR, Role.CHIEF}),
    Action.REQUEST_CORRECTION: frozenset({Role.ACCEPTOR, Role.REVIEWER, Role.CHIEF}),
    Action.START_REVIEW: frozenset({Role.REVIEWER, Role.CHIEF}),
    Action.APPROVE: frozenset({Role.REVIEWER, Role.CHIEF}),
    Action.DENY: frozenset({Role.REVIEWER, Role.CHIEF}),
    Action.START_PAYMENT: frozenset({Role.FINANCE, Role.CHIEF}),
    Action.RETURN_TO_REVIEW: frozenset({Role.REVIEWER, Role.FINANCE, Role.CHIEF}),
    Action.COMPLETE: frozenset({Role.ACCEPTOR, Role.REVIEWER, Role.FINANCE, Role.CHIEF}),
    Action.DELIVER: frozenset({Role.ACCEPTOR, Role.REVIEWER, Role.FINANCE, Role.CHIEF}),
}


def filing_audience(account: Any, item: Item) -> str | None:
    """'individual', 'unit' or 'institution': how ``account`` would file ``item``; None when it cannot file it
    online. A unit's agent files the unit's items, a designated institution's agent the institution's (only)."""
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    if account.kind == AccountKind.CITIZEN and Audience.individual in item.audience:
        return "individual"
    if account.kind == AccountKind.AGENT:
        if getattr(account, "institution_id", None) is not None:
            return "institution" if Audience.institution in item.audience else None
        if Audience.unit in item.audience:
            return "unit"
    return None


def _audience_hint(account: Any, item: Item) -> str:
    """Who files ``item`` instead of ``account``."""
    if Audience.individual in item.audience and account.kind != AccountKind.CITIZEN:
        return _("This item is filed by the insured person. Log in with your own phone number to file it.")
    if Audience.unit in item.audience:
        return _("This item is filed by a unit's agent. Log in as your unit's agent to file it.")
    return _("This item is filed by a designated medical institution or pharmacy. Log in as your institution's "
             "agent to file it.")


def cannot_file(account: Any, item: Item) -> str | None:
    """Why ``account`` cannot file ``item`` online, or None."""
    if not {Audience.individual, Audience.unit, Audience.institution} & set(item.audience):
        return _("This item is handled by the agency with designated institutions or other departments; "
                 "it cannot be filed online here.")
    if not item.online:
        return _("This service does not take this item online: apply through the channels the guide publishes "
                 "(see the item's guide page).")
    if account is None or not getattr(account, "is_authenticated", False):
        return _("Log in to apply online.")
    if account.kind == AccountKind.STAFF:
        return _("Agency staff do not file applications.")
    if filing_audience(account, item) is None:
        return _audience_hint(account, item)
    if account.kind == AccountKind.CITIZEN and account.person_id is None:
        return _("Bind your real name first: the portal must know who you are before you file.")
    if account.kind == AccountKind.AGENT:
        return agent_permissions.cannot_file_reason(account, item)
    return None


def is_applicant(account: Any, case: Any) -> bool:
    """The filer, or another agent of the same unit for a unit's case; an agent only for the items their mandate
    gives them (``portal.organisations.permissions``)."""
    if account is None or not getattr(account, "is_authenticated", False):
        return False
    if account.kind == AccountKind.AGENT:
        same_unit = case.applicant_id == account.id or (
            case.audience == "unit" and account.unit_id is not None and account.unit_id == case.unit_id) or (
            case.audience == "institution" and account.institution_id is not None
            and account.institution_id == case.institution_id)
        return same_unit and agent_permissions.covers_code(account, case.item_code)
    return case.applicant_id == account.id


def can_view(account: Any, case: Any) -> bool:
    return is_applicant(account, case) or (account is not None and account.kind == AccountKind.STAFF)


def cannot_act(account: Any, case: Any, action: Action) -> str | None:
    """Why ``account`` may not take ``action`` on ``case``, or None. ``account`` None is the system."""
    if account is None:
        return None
    if action in APPLICANT_ACTIONS:
        return None if is_applicant(account, case) else _("Only the applicant can do this.")
    if account.kind != AccountKind.STAFF:
        return _("Only agency staff can do this.")
    if not account.roles & STAFF_ROLES[action]:
        return _("Your role does not allow this step.")
    if case.applicant_id == account.id or is_own_case(account, case):
        return _("You cannot handle a case you filed yourself.")
    if action is Action.APPROVE and case.is_money and _taken_by(case, Action.ACCEPT) == account.id:
        return _("You accepted this case, which pays money: another member of staff must approve it.")
    if action is Action.START_PAYMENT and case.is_money and _taken_by(case, Action.APPROVE) == account.id:
        return _("You approved this case: another member of staff must pay it out.")
    return None


def is_own_case(account: Any, case: Any) -> bool:
    """True when the staff member is, in another role, the applicant of ``case`` or the person it is about.

    Staff accounts never file, but the same human may file as a citizen or a unit's agent: they are known by
    their phone (the applicant account's login) or their 身份证 (the person or principal of the case).
    """
    if getattr(account, "kind", None) != AccountKind.STAFF:
        return False
    applicant = getattr(case, "applicant", None)
    if account.phone_index and applicant is not None and applicant.phone_index == account.phone_index:
        return True
    own_id = getattr(account, "staff_id_index", None)
    if not own_id:
        return False
    person = getattr(case, "person", None)
    applicant_person = getattr(applicant, "person", None)
    return own_id in {case.principal_id_index, getattr(person, "id_number_index", None),
                      getattr(applicant_person, "id_number_index", None)}


def _taken_by(case: Any, action: Action) -> int | None:
    """Who last took ``action`` on the case (a staff account id), or None."""
    return next((e.actor_id for e in reversed(case.events) if e.action == action), None)
