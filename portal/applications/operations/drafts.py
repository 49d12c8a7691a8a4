"""Drafts and submission: start, save, submit (with its idempotency key), withdraw, resume or discard a draft."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from ...catalog.schema import HandlingType, Item
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ...core.translation import gettext as _
from ...services import handler_for
from ...services.base import Severity
from .. import fields, numbers
from ..attachments import case_files
from ..constants import Action, MaterialMode, State
from ..models import Application
from ..permissions import cannot_file, filing_audience, is_applicant
from .base import _flush, catalog_item, transition
from .checks import _clean, _context, _principal_fields, prechecks, record_values, specs_for
from .decisions import _complete
from .inputs import DraftInput
from .lookup import applicant_drafts


def start_application(item: Item, *, by: Any, actor: Actor) -> Application:
    """A new draft of ``item`` for ``by``, prefilled from the records."""
    problem = cannot_file(by, item)
    if problem:
        raise PermissionDenied(problem)
    audience = filing_audience(by, item)
    handler = handler_for(item)
    case = Application(
        region=current_app.config["PORTAL_REGION"], item_code=item.code, item_name=item.name.zh,
        handler=item.handler, audience=audience, is_money=handler.is_money,
        is_instant=item.handling.type is HandlingType.instant,
        limit_kind=item.time_limit.kind.value, limit_value=item.time_limit.value,
        limit_wording=item.time_limit.wording[:100], applicant=by, applicant_id=by.id,
        # the objects, not only their ids: a new case does not load relationships, and prefill reads them
        person=by.person if audience == "individual" else None,
        unit=by.unit if audience == "unit" else None,
        institution=by.institution if audience == "institution" else None,
        applicant_name=(by.person.name if audience == "individual" and by.person else by.display_name) or "",
    )
    specs = fields.field_specs(item, audience)
    case.form_data = fields.prefill(specs, record_values(case, item))
    case.materials = {m.id: MaterialMode.DATA_SHARING.value for m in item.materials if m.provided_without_upload}
    db.session.add(case)
    _flush()
    record("application.start", actor=actor, object_type="application", object_id=case.id,
           detail={"item": item.code})
    return case


def save_draft(case: Application, data: DraftInput, *, by: Any, actor: Actor) -> Application:
    """Store what the applicant has typed so far; partial data is fine, malformed data is not."""
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    if case.state != State.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited; this application has been submitted."))
    item = catalog_item(case)
    if item.proxy == "not_allowed" and data.principal is not None:
        raise ValidationFailed([("principal_name", _("This item cannot be filed on someone else's behalf."))])
    _principal_fields(case, data.principal)
    specs = specs_for(case, item)
    values = record_values(case, item)
    # a locked field takes the records' value whatever was sent, so what was sent for it is not validated
    locked = {s.key for s in specs if fields.is_locked(s, values)}
    sent = {k: v for k, v in data.form.items() if k not in locked} if isinstance(data.form, dict) else data.form
    form, materials = _clean(specs, sent, item, case, data.materials, complete=False)
    case.form_data = fields.apply_locked(specs, form, values)
    case.materials = materials
    case.updated_at = clock.now()
    _flush()
    return case


def submit_application(case: Application, *, by: Any, actor: Actor, idempotency_key: str | None = None,
                       ) -> Application:
    """Submit a draft: validate everything, give it its number, and complete it at once if it is a 即办件
    whose rules pass. Submitting again with the same key (a double click) returns the same case."""
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    if case.state != State.DRAFT:
        if idempotency_key and case.idempotency_key == idempotency_key:
            return case
        raise InvalidTransition(_("This application has already been submitted."))
    item = catalog_item(case)
    specs = specs_for(case, item)
    values = record_values(case, item)
    form = fields.apply_locked(specs, case.form_data, values)
    case.form_data, case.materials = _clean(specs, form, item, case, case.materials, complete=True)
    from ...rosters.store import submission_problems  # rosters build on the operations

    roster_problems = submission_problems(case)
    if roster_problems:
        raise ValidationFailed(roster_problems)
    findings = prechecks(case, item)
    blocking = [f for f in findings if f.severity is Severity.BLOCKING]
    if blocking:
        raise ValidationFailed([(None, f.message) for f in blocking])
    with db.session.no_autoflush:  # the key, the number and the move are written in one UPDATE (transition's flush)
        if idempotency_key:
            check_idempotency_key(case, idempotency_key)  # a key of another case: Conflict, not the database's error
        case.idempotency_key = idempotency_key
        case.number = _unique_number(case.region)
        case_files().claim_files(case)  # the agency sees the files the case was submitted with
    transition(case, Action.SUBMIT, by=by, actor=actor)
    handler = handler_for(item)
    if handler.may_complete_at_once(_context(case, item)):
        system = Actor.system()
        transition(case, Action.ACCEPT, by=None, actor=system)
        case.result_text = _("Completed on submission.")
        _complete(case, by=None, actor=system)
    return case


def _unique_number(region: str) -> str:
    today = clock.today()
    for _attempt in range(10):
        number = numbers.new_number(region, today)
        if db.session.execute(select(Application.id).where(Application.number == number)).first() is None:
            return number
    raise Conflict(_("Could not give the application a number; please submit again."))


def withdraw_application(case: Application, *, by: Any, actor: Actor, reason: str | None = None) -> None:
    """The applicant takes back a case the agency has not accepted yet."""
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    transition(case, Action.WITHDRAW, by=by, actor=actor, reason=reason)


def resume_or_start(item: Item, *, by: Any, actor: Actor) -> tuple[Application, bool]:
    """The applicant's draft of ``item`` when there is one (drafts live in the database and resume on any
    device), else a new draft. Returns the case and whether it was created now."""
    problem = cannot_file(by, item)
    if problem:
        raise PermissionDenied(problem)
    drafts = applicant_drafts(by, item_code=item.code, limit=1)
    if drafts:
        return drafts[0], False
    return start_application(item, by=by, actor=actor), True


def discard_draft(case: Application, *, by: Any, actor: Actor) -> None:
    """Delete a draft the applicant no longer wants. A draft has no number and the agency has never seen it;
    withdrawing it instead would leave a withdrawn case without a number, which the table refuses."""
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    if case.state != State.DRAFT:
        raise InvalidTransition(_("Only a draft can be discarded; this application has been submitted."))
    record("application.discard", actor=actor, object_type="application", object_id=case.id,
           detail={"item": case.item_code})
    db.session.delete(case)
    _flush()


def check_idempotency_key(case: Application, key: str) -> None:
    """Refuse a submission key the applicant already used for another case (the database would refuse it too,
    less politely: the key is unique per applicant)."""
    other = db.session.execute(select(Application.id).where(
        Application.applicant_id == case.applicant_id, Application.idempotency_key == key,
        Application.id != case.id)).first()
    if other is not None:
        raise Conflict(_("This Idempotency-Key was already used for another application. Send a new key for "
                         "each application."), code="idempotency_key_reused")
