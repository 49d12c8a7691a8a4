"""Working cases: claim, assign, release, decide, accept complete 即办件 in a batch, and the audit of who looked.

A case is worked by one member of staff at a time (``application.assignee_id``). Claiming changes the row
under its version counter (S20): when two claim at once, the database lets one UPDATE through and the
other finds the version moved and is told so (``Conflict``). Decisions need the case claimed by the person
deciding and carry the version the page showed, so a decision taken on a stale page is refused too.

Like every operation, these flush and never commit; each writes its audit row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..applications import operations as case_ops
from ..applications.constants import PROVIDED_MODES, Action, MaterialMode, State
from ..applications.models import Application
from ..applications.permissions import cannot_act
from ..core import clock
from ..core.audit import Actor, AuditEvent, record
from ..core.db import db
from ..core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..core.formatting import join_list
from ..core.translation import gettext as _
from ..services import benefits, handler_for
from ..services.claims import operations as claims
from .permissions import actions_for, cannot_assign, cannot_claim, cannot_decide, cannot_release, is_case_worker

CASE_VIEW = "workbench.case_view"
REVEAL = "workbench.case_reveal"  # "显示完整信息": full names and numbers on the case page
QUEUE_VIEW = "workbench.queue_view"
SEARCH = "workbench.search"


def _moved() -> Conflict:
    return Conflict(_("Someone else changed this case a moment ago. Reload it to see where it stands."),
                    code="case_moved")


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise _moved() from error


def get_case(case_id: int, *, for_account: Any) -> Application:
    """The case for the workbench; NotFound for anything else, and for anyone who does not work cases."""
    case = db.session.get(Application, case_id) if 0 < case_id < 2**31 else None
    if case is None or case.state == State.DRAFT or not is_case_worker(for_account):
        raise NotFound(_("No such application."))
    return case


def _check_version(case: Application, version: int | None) -> None:
    if version is not None and version != case.version:
        raise _moved()


# --- claiming ----------------------------------------------------------------------------------------


def claim_case(case: Application, *, by: Any, actor: Actor, version: int | None = None) -> None:
    """Take the case to work on it. Exactly one of two simultaneous claims wins (S20)."""
    _check_version(case, version)
    problem = cannot_claim(by, case)
    if problem:
        raise (Conflict if case.assignee_id not in (None, by.id) else PermissionDenied)(problem)
    _set_assignee(case, by)
    record("workbench.claim", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number})


def assign_case(case: Application, assignee: Any, *, by: Any, actor: Actor, version: int | None = None) -> None:
    """A chief hands the case to someone (replacing any claim), who can take its next step."""
    _check_version(case, version)
    problem = cannot_assign(by, case, assignee)
    if problem:
        raise PermissionDenied(problem)
    before = case.assignee_id
    _set_assignee(case, assignee)
    record("workbench.assign", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "from": before, "to": assignee.id})


def release_case(case: Application, *, by: Any, actor: Actor, version: int | None = None) -> None:
    """Give the case back to its queue (its assignee, or a chief for anyone's claim)."""
    _check_version(case, version)
    problem = cannot_release(by, case)
    if problem:
        raise PermissionDenied(problem)
    before = case.assignee_id
    _set_assignee(case, None)
    record("workbench.release", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "from": before})


def _set_assignee(case: Application, account: Any) -> None:
    case.assignee = account
    case.assignee_id = account.id if account is not None else None
    case.assigned_at = clock.now() if account is not None else None
    _flush()


# --- deciding ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A decision from the case page. ``reason`` for refusals and denials; ``result`` for the completion slip;
    ``notice`` for a one-time notice (its entries come from the checklist)."""

    action: Action
    reason: str = ""
    result: str = ""
    notice: case_ops.NoticeInput | None = None
    amount: str = ""  # approving a claim: the amount to pay (empty: the computed one)
    amount_reason: str = ""  # why it differs from the computed amount
    valid_until: str = ""  # approving a recognition: the last day of validity the recognising institution sets


DECISIONS = (Action.ACCEPT, Action.REFUSE, Action.REQUEST_CORRECTION, Action.START_REVIEW, Action.APPROVE,
             Action.DENY, Action.START_PAYMENT, Action.RETURN_TO_REVIEW, Action.COMPLETE)


def decide(case: Application, decision: Decision, *, by: Any, actor: Actor, version: int | None = None) -> None:
    """Take one decision on a case claimed by ``by``, through the case operations (table, guards, S7).

    Afterwards the claim stays with ``by`` while they may take the next step (or the applicant is correcting
    what they asked for); otherwise the case goes back to its queue for the next desk.
    """
    _check_version(case, version)
    problem = cannot_decide(by, case)
    if problem:
        raise PermissionDenied(problem)
    action = decision.action
    if action not in DECISIONS:
        raise InvalidTransition(_("This is not a decision the agency takes."))
    _apply(case, decision, by=by, actor=actor)
    if case.is_closed or (State(case.state) is not State.CORRECTION_REQUESTED and not _moves_on(by, case)):
        _set_assignee(case, None)


def _moves_on(by: Any, case: Application) -> bool:
    """Whether ``by`` may take the case's next step (a notice is possible at most steps, and a return to review
    after approval is a step back: neither counts)."""
    return any(a in DECISIONS and a not in STEPS_BACK for a in actions_for(by, case))


STEPS_BACK = frozenset({Action.REQUEST_CORRECTION, Action.RETURN_TO_REVIEW})


def _apply(case: Application, decision: Decision, *, by: Any, actor: Actor) -> None:
    action = decision.action
    match action:
        case Action.ACCEPT:
            if claims.is_late(case):  # filed after the seed's deadline: only for 不可抗力, with the reason
                claims.accept_late(case, decision.reason, by=by, actor=actor)
            case_ops.accept_application(case, by=by, actor=actor)
        case Action.REFUSE:
            case_ops.refuse_application(case, decision.reason, by=by, actor=actor)
        case Action.REQUEST_CORRECTION:
            if decision.notice is None:
                raise ValidationFailed([("entries", _("Tick at least one material that is missing or needs "
                                                      "correcting."))])
            case_ops.request_correction(case, decision.notice, by=by, actor=actor)
        case Action.START_REVIEW:
            case_ops.start_review(case, by=by, actor=actor)
        case Action.APPROVE:
            terms = benefits.approval_terms(case, case_ops.catalog_item(case), decision.valid_until)
            if claims.claim_of(case) is not None:
                claims.decide_amount(case, decision.amount, decision.amount_reason, by=by, actor=actor)
            case_ops.approve_application(case, by=by, actor=actor, result=decision.result or None, terms=terms)
        case Action.DENY:
            case_ops.deny_application(case, decision.reason, by=by, actor=actor)
        case Action.START_PAYMENT:
            case_ops.start_payment(case, by=by, actor=actor)
        case Action.RETURN_TO_REVIEW:
            case_ops.return_to_review(case, decision.reason, by=by, actor=actor)
        case Action.COMPLETE:
            case_ops.complete_application(case, by=by, actor=actor, result=decision.result or None)


# --- batch acceptance of complete 即办件 -------------------------------------------------------------


@dataclass
class BatchResult:
    accepted: list[Application] = field(default_factory=list)
    skipped: list[tuple[Application, str]] = field(default_factory=list)


def batch_problem(case: Application, by: Any) -> str | None:
    """Why the case cannot be accepted in a batch by ``by``, or None: only complete 即办件 nobody else works."""
    if not case.is_instant:
        return _("Not an item handled on the spot (即办件): accept it on its own page.")
    if case.assignee_id not in (None, by.id):
        return _("%(name)s is working on this case.", name=case.assignee.display_name)
    problem = cannot_act(by, case, Action.ACCEPT)
    if problem:
        return problem
    from ..applications.lifecycle import refusal

    problem = refusal(case, Action.ACCEPT)
    if problem:
        return problem
    problem = handler_for(case_ops.catalog_item(case)).acceptance_problem(case)
    if problem:
        return problem
    missing = [m.name.zh for m in case_ops.required_materials(case_ops.catalog_item(case), case)
               if MaterialMode(case.materials.get(m.id, MaterialMode.NOT_APPLICABLE)) not in PROVIDED_MODES]
    if missing:
        return _("Materials are missing: %(names)s.", names=join_list(missing))
    return None


def batch_accept(case_ids: Iterable[int], *, by: Any, actor: Actor) -> BatchResult:
    """Accept every listed case that is a complete 即办件; the others are skipped with the reason.

    All or nothing for the cases accepted: if one of them moves under us, the whole batch is refused and
    the member of staff tries again (the caller rolls back).
    """
    ids = sorted({i for i in case_ids if 0 < i < 2**31})
    if not ids:
        raise ValidationFailed([("cases", _("Tick the cases to accept."))])
    if not is_case_worker(by):
        raise PermissionDenied(_("Only staff who handle cases can do this."))
    result = BatchResult()
    cases = db.session.execute(select(Application).where(Application.id.in_(ids))
                               .order_by(Application.id)).scalars().all()
    for case in cases:
        problem = batch_problem(case, by)
        if problem:
            result.skipped.append((case, problem))
            continue
        case_ops.accept_application(case, by=by, actor=actor)
        result.accepted.append(case)
    record("workbench.batch_accept", actor=actor, object_type="application",
           detail={"accepted": [c.id for c in result.accepted], "skipped": [c.id for c, _r in result.skipped]})
    return result


# --- audit of views ----------------------------------------------------------------------------------


def record_case_view(case: Application, *, actor: Actor, full: bool = False) -> None:
    """Every opening of a case page by staff is audited: it shows personal data (names, form, materials);
    ``full`` when it showed them unmasked (after a reveal)."""
    detail: dict[str, Any] = {"number": case.number}
    if full:
        detail["full"] = True
    record(CASE_VIEW, actor=actor, object_type="application", object_id=case.id, detail=detail)


def cannot_reveal(case: Application, by: Any) -> str | None:
    """Why ``by`` may not see the case's full names and numbers, or None: only the member of staff who has
    claimed the case, while it is open. Lists and everyone else see them masked (S12)."""
    if not is_case_worker(by):
        return _("Only staff who handle cases can do this.")
    if case.assignee_id != by.id:
        return _("Take the case first: full details are shown only to the member of staff working on it.")
    if case.is_closed:
        return _("This case is closed.")
    return None


def reveal_full_values(case: Application, *, by: Any, actor: Actor) -> None:
    """Allow the case page to show full names and numbers to ``by``; audited (who, when, which case) and shown to
    the chief among the case's openers. The values themselves go nowhere but the page: not in the audit row,
    not in a URL, not in a log line."""
    problem = cannot_reveal(case, by)
    if problem:
        record(REVEAL, actor=actor, object_type="application", object_id=case.id, result="denied",
               detail={"number": case.number})
        raise PermissionDenied(problem)
    record(REVEAL, actor=actor, object_type="application", object_id=case.id, detail={"number": case.number})


def record_queue_view(queue: str, cases: list[Any], *, actor: Actor, searched: bool) -> None:
    """A queue page shows applicants' (masked) names: which cases it listed is audited, and any 身份证 search."""
    record(SEARCH if searched else QUEUE_VIEW, actor=actor, object_type="queue", object_id=queue,
           detail={"cases": [c.id for c in cases]})


@dataclass(frozen=True)
class Opening:
    at: Any
    account_id: int | None
    name: str
    what: str  # "case", "reveal" (显示完整信息) or "file"


WHAT = {CASE_VIEW: "case", REVEAL: "reveal"}


def openers(case: Application, *, by: Any) -> list[Opening]:
    """Who opened the case page or one of its files, newest first (for a chief)."""
    from ..accounts.models import Account
    from ..materials.models import MaterialFile
    from .permissions import is_chief

    if not is_chief(by):
        raise PermissionDenied(_("Only a section chief can see who opened a case."))
    file_ids = [str(i) for i in db.session.execute(
        select(MaterialFile.id).where(MaterialFile.application_id == case.id)).scalars()]
    where = (AuditEvent.object_type == "application") & (AuditEvent.object_id == str(case.id)) & (
        AuditEvent.action.in_((CASE_VIEW, REVEAL))) & (AuditEvent.result == "ok")
    if file_ids:
        where = where | ((AuditEvent.object_type == "material_file") & AuditEvent.object_id.in_(file_ids)
                         & (AuditEvent.action == "material.view") & (AuditEvent.actor_kind == "staff"))
    rows = db.session.execute(select(AuditEvent).where(where).order_by(AuditEvent.id.desc()).limit(200)).scalars().all()
    ids = {int(r.actor_id) for r in rows if r.actor_id and r.actor_id.isdigit()}
    names = dict(db.session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all()) \
        if ids else {}
    return [Opening(r.at, int(r.actor_id) if r.actor_id and r.actor_id.isdigit() else None,
                    names.get(int(r.actor_id), "") if r.actor_id and r.actor_id.isdigit() else "",
                    WHAT.get(r.action, "file")) for r in rows]


def staff_choices(case: Application) -> list[Any]:
    """Staff a chief may assign this case to: those who can take its next step."""
    from ..accounts.models import Account, AccountKind

    staff = db.session.execute(select(Account).where(Account.kind == AccountKind.STAFF.value,
                                                     Account.is_enabled.is_(True))).scalars().all()
    # names are sealed: sorted here, not by the database
    return sorted((a for a in staff if is_case_worker(a) and actions_for(a, case)),
                  key=lambda a: (a.display_name, a.id))
