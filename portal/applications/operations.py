"""Operations on cases: start, save, submit, withdraw, and the agency's moves (accept, notify, refuse,
review, approve, deny, pay, complete, deliver); progress tokens.

Each function takes the case, its input, the account acting (``by``; None is the system) and the audit
``actor``; it checks the rules, changes state through ``transition()``, flushes and writes an audit row.
None commits: the caller commits once, so a failure anywhere leaves nothing half-saved (S19).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..catalog.schema import HandlingType, Item, Material, Requirement
from ..core import clock
from ..core.audit import Actor, record
from ..core.crypto import sha256_hex
from ..core.db import db
from ..core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..core.validators import check_credit_code, normalize_id_number
from ..insurance.models import Person, id_number_index
from ..services import handler_for
from ..services.base import FilingContext, Finding, Severity
from . import deadlines, fields, numbers
from .constants import (
    FORM_ENTRY,
    PROVIDED_MODES,
    REASONED_ACTIONS,
    Action,
    Defect,
    MaterialMode,
    State,
)
from .lifecycle import TRANSITIONS, refusal
from .models import Application, ApplicationEvent, CorrectionNotice, ProgressToken
from .permissions import cannot_act, cannot_file, filing_audience, is_applicant
from .signals import case_moved

CORRECTION_WORKING_DAYS = 15  # time allowed to supply what a notice lists; PORTAL_CORRECTION_WORKING_DAYS
PROGRESS_TOKEN_DAYS = 730  # a receipt's QR keeps working this long; PORTAL_PROGRESS_TOKEN_DAYS


# --- input objects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """The person a filing is made for (委托), as the filer states them."""

    name: str
    id_number: str
    relation: str


@dataclass(frozen=True)
class DraftInput:
    form: dict[str, Any] = field(default_factory=dict)
    materials: dict[str, str] = field(default_factory=dict)  # material id → MaterialMode
    principal: Principal | None = None


@dataclass(frozen=True)
class NoticeEntry:
    material: str  # a material id of the item, or FORM_ENTRY for the form itself
    defect: Defect
    note: str = ""


@dataclass(frozen=True)
class NoticeInput:
    entries: tuple[NoticeEntry, ...]
    note: str = ""
    new_defect: bool = False  # a second notice is allowed only for a defect the resubmission brought


@dataclass(frozen=True)
class Resubmission:
    form: dict[str, Any] = field(default_factory=dict)  # only fields, if the notice listed the form
    materials: dict[str, str] = field(default_factory=dict)  # only materials the notice listed
    note: str = ""


# --- helpers -----------------------------------------------------------------------------------------


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


def record_values(case: Application, item: Item) -> dict[str, Any]:
    """What the records say for each prefill source of this case.

    Filing for oneself, the person is the applicant's bound identity (and their unit, for an employee);
    filing on someone's behalf, the
    name and 身份证 are the principal's as stated; for a unit, the unit and its agent.
    """
    if case.audience == "unit":
        return fields.record_values(unit=case.unit, agent=case.applicant, item=item)
    if case.on_behalf:
        values = fields.record_values(item=item)
        values |= {"person.name": case.principal_name, "person.id_number": case.principal_id_number}
        return {k: v for k, v in values.items() if v}
    person = case.applicant.person
    # an employee's 单位名称 / 单位编号 come from the unit the records enrol them with
    return fields.record_values(person=person, unit=person.unit if person else None, item=item)


PRINCIPAL_LOCKED = frozenset({"person.name", "person.id_number"})


def specs_for(case: Application, item: Item | None = None) -> list[fields.FieldSpec]:
    """The case's form fields; filing on someone's behalf, only the principal's name and 身份证 stay locked."""
    item = item or catalog_item(case)
    specs = fields.field_specs(item, case.audience)
    if case.on_behalf:
        specs = [replace(s, locked=s.prefill in PRINCIPAL_LOCKED) if s.locked else s for s in specs]
    return specs


def required_materials(item: Item, case: Application) -> list[Material]:
    """Materials that must be provided: required ones, and proxy ones when filing on someone's behalf."""
    out = [m for m in item.materials if m.requirement is Requirement.required]
    if case.on_behalf:
        out += [m for m in item.materials if m.requirement is Requirement.conditional and m.condition_key == "proxy"]
    return out


def _check_materials(item: Item, case: Application, chosen: dict[str, str], *, complete: bool) -> dict[str, str]:
    by_id = {m.id: m for m in item.materials}
    reasons: list[tuple[str | None, str]] = []
    out: dict[str, str] = {}
    for material_id, raw_mode in (chosen or {}).items():
        material = by_id.get(material_id)
        if material is None:
            continue  # a material the item does not list is ignored
        try:
            mode = MaterialMode(raw_mode)
        except ValueError:
            reasons.append((f"materials.{material_id}", _("Choose how you provide “%(name)s”.", name=material.name.zh)))
            continue
        if mode is MaterialMode.COMMITMENT and material.commitment is None:
            reasons.append((f"materials.{material_id}",
                            _("“%(name)s” cannot be replaced by a commitment.", name=material.name.zh)))
        elif mode is MaterialMode.DATA_SHARING and not material.data_sharing:
            reasons.append((f"materials.{material_id}",
                            _("The agency cannot obtain “%(name)s” itself; please provide it.", name=material.name.zh)))
        else:
            out[material_id] = mode.value
    if complete:
        uploaded = _files().file_counts(case)
        handler = handler_for(item)
        for material in required_materials(item, case):
            mode = out.get(material.id)
            if mode is None and (material.data_sharing or handler.provided_online(material, case)):
                out[material.id] = MaterialMode.DATA_SHARING.value
            elif mode is None or MaterialMode(mode) not in PROVIDED_MODES:
                reasons.append((f"materials.{material.id}",
                                _("“%(name)s” is required: say how you provide it.", name=material.name.zh)))
            elif mode == MaterialMode.UPLOAD and not uploaded.get(material.id):
                # "provided online" with nothing attached provides nothing
                reasons.append((f"materials.{material.id}",
                                _("“%(name)s” is required: upload at least one file of it, or choose another way "
                                  "to provide it.", name=material.name.zh)))
    if reasons:
        raise ValidationFailed(reasons)
    return out


def _files():
    """The materials feature's file operations, imported when used: materials builds on this package."""
    from ..materials import operations as files

    return files


def _clean(specs: list[fields.FieldSpec], form: Any, item: Item, case: Application, materials: dict[str, str], *,
           complete: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned form and materials; every problem of both at once, so the applicant fixes all in one go."""
    reasons: list[tuple[str | None, str]] = []
    cleaned_form: dict[str, Any] = {}
    cleaned_materials: dict[str, str] = {}
    try:
        cleaned_form = fields.clean_form(specs, form, complete=complete)
    except ValidationFailed as error:
        reasons += error.reasons
    try:
        cleaned_materials = _check_materials(item, case, materials, complete=complete)
    except ValidationFailed as error:
        reasons += error.reasons
    if reasons:
        raise ValidationFailed(reasons)
    return cleaned_form, cleaned_materials


def _principal_fields(case: Application, principal: Principal | None) -> None:
    if principal is None:
        case.on_behalf = False
        case.principal_name = case.principal_id_number = case.principal_id_index = case.principal_relation = None
        if case.audience == "individual":  # filing for oneself again: the case is about the applicant
            _about(case, case.applicant.person)
        return
    reasons: list[tuple[str | None, str]] = []
    name = (principal.name or "").strip()
    if not name or len(name) > 64:
        reasons.append(("principal_name", _("Enter the full name of the person you file for.")))
    try:
        id_number = normalize_id_number(principal.id_number)
    except ValidationFailed as error:
        reasons.append(("principal_id_number", error.reasons[0][1]))
        id_number = None
    if principal.relation not in fields.RELATIONS:
        reasons.append(("principal_relation", _("Choose how you are related to the person you file for.")))
    if reasons:
        raise ValidationFailed(reasons)
    case.on_behalf = True
    case.principal_name, case.principal_id_number, case.principal_relation = name, id_number, principal.relation
    case.principal_id_index = id_number_index(id_number)
    _about(case, db.session.execute(select(Person).where(Person.id_number_index == case.principal_id_index)).scalar())


def _about(case: Application, person: Person | None) -> None:
    """Set whom the case is about: the object too, so pre-checks in the same request see the new person."""
    case.person = person
    case.person_id = person.id if person is not None else None


def _context(case: Application, item: Item) -> FilingContext:
    return FilingContext(item=item, person=case.person, unit=case.unit, data=case.form_data, case=case)


def prechecks(case: Application, item: Item | None = None) -> list[Finding]:
    """What the item's handler says about this filing now (which rules apply; warnings; blocks)."""
    item = item or catalog_item(case)
    return handler_for(item).precheck(_context(case, item)) + _credit_code_warnings(case, item)


def _credit_code_warnings(case: Application, item: Item) -> list[Finding]:
    """A 统一社会信用代码 whose check character fails is kept (early pilot regions issued such codes) but
    flagged, so the applicant can look again and the agency checks it against the licence."""
    data = case.form_data
    out = []
    for spec in specs_for(case, item):
        value = data.get(spec.key)
        if spec.type is fields.FieldType.credit_code and not spec.locked and isinstance(value, str) \
                and len(value) == 18:
            try:
                ok = check_credit_code(value).checksum_ok
            except ValidationFailed:
                continue
            if not ok:
                out.append(Finding(Severity.WARNING, _(
                    "The check character of “%(label)s” does not match. Please compare it with the business "
                    "licence; if it is right as printed, continue: the agency will verify it.",
                    label=fields.label_of(spec)), "credit_code_checksum"))
    return out


# --- the transition ----------------------------------------------------------------------------------


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
    case.events.append(event)
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
        case.decision_reason = reason if action is not Action.APPROVE else case.decision_reason
    elif action is Action.COMPLETE:
        case.completed_at = now
    elif action is Action.DELIVER:
        case.delivered_at = now
    if after.is_final:
        case.closed_at = now


# --- applicant operations ----------------------------------------------------------------------------


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
        applicant_name=(by.person.name if audience == "individual" and by.person else by.display_name) or "",
    )
    specs = fields.field_specs(item, audience)
    case.form_data = fields.prefill(specs, record_values(case, item))
    case.materials = {m.id: MaterialMode.DATA_SHARING.value for m in item.materials if m.data_sharing}
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
    findings = prechecks(case, item)
    blocking = [f for f in findings if f.severity is Severity.BLOCKING]
    if blocking:
        raise ValidationFailed([(None, f.message) for f in blocking])
    if idempotency_key:
        check_idempotency_key(case, idempotency_key)  # a key of another case: Conflict, not the database's error
    case.idempotency_key = idempotency_key
    case.number = _unique_number(case.region)
    _files().claim_files(case)  # the agency sees the files the case was submitted with
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


def resubmit_application(case: Application, data: Resubmission, *, by: Any, actor: Actor) -> Application:
    """Supply what the open notice listed, into the same case; the clock resumes with the paused days added."""
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    notice = case.open_notice
    problem = refusal(case, Action.RESUBMIT)
    if problem or notice is None:
        raise InvalidTransition(problem or _("There is no notice to answer."))
    item = catalog_item(case)
    listed = set(notice.material_ids)
    if FORM_ENTRY in listed and data.form:
        specs = specs_for(case, item)
        merged = fields.apply_locked(specs, {**case.form_data, **data.form}, record_values(case, item))
        case.form_data = fields.clean_form(specs, merged, complete=True)
    unlisted = [m for m in data.materials if m not in listed]
    if unlisted:
        raise ValidationFailed([(f"materials.{m}", _("Only the materials listed in the notice can be supplied now."))
                                for m in unlisted])
    supplied = _check_materials(item, case, data.materials, complete=False)
    missing = [m for m in listed - {FORM_ENTRY}
               if MaterialMode(supplied.get(m, MaterialMode.NOT_APPLICABLE)) not in PROVIDED_MODES]
    if missing:
        names = {m.id: m.name.zh for m in item.materials}
        raise ValidationFailed([(f"materials.{m}", _("Supply “%(name)s”, as the notice asks.", name=names.get(m, m)))
                                for m in sorted(missing)])
    case.materials = {**case.materials, **supplied}
    today = clock.today()
    notice.resolved_at, notice.resolved_on = clock.now(), today
    notice.response_note = (data.note or "").strip()[:2000] or None
    detail: dict[str, Any] = {}
    if notice.pauses_clock and case.accepted_at is not None:
        detail = _resume_clock(case, notice)
    elif case.accepted_at is None:
        # a notice before acceptance: the days to accept count again from the complete filing
        case.accept_by = deadlines.accept_by(today)
        detail = {"accept_by": case.accept_by.isoformat()}
    _files().claim_files(case)
    transition(case, Action.RESUBMIT, by=by, actor=actor, detail=detail)
    return case


def _pauses(case: Application) -> list[deadlines.Interval]:
    out = []
    for n in case.notices:
        if n.pauses_clock:
            interval = deadlines.pause_interval(n.issued_on, n.resolved_on)
            if interval:
                out.append(interval)
    return out


def _resume_clock(case: Application, notice: CorrectionNotice) -> dict[str, Any]:
    accepted_on = clock.to_local(case.accepted_at).date()
    before = case.due_date
    intervals = _pauses(case)
    case.due_date = deadlines.due_date(case.limit_kind, case.limit_value, accepted_on, intervals)
    # the shift of this resubmission is what its pause added to the pauses before it: a day paused on the day
    # of acceptance, or after the due date, moves nothing and is not reported as if it did
    paused_before = case.paused_working_days or 0
    case.paused_working_days = deadlines.paused_days(case.limit_kind, case.limit_value, intervals, accepted_on)
    shift = case.paused_working_days - paused_before
    return {
        "shift_days": shift, "shift_unit": "working_days" if case.limit_kind == "working_days" else "days",
        "paused_from": notice.issued_on.isoformat(), "paused_to": notice.resolved_on.isoformat(),
        "due_before": before.isoformat() if before else None,
        "due_after": case.due_date.isoformat() if case.due_date else None,
    }


# --- agency operations -------------------------------------------------------------------------------


def accept_application(case: Application, *, by: Any, actor: Actor) -> None:
    """受理: the materials are complete; the clock starts on the next working day."""
    transition(case, Action.ACCEPT, by=by, actor=actor)


def refuse_application(case: Application, reason: str, *, by: Any, actor: Actor) -> None:
    """不予受理, with the reason the applicant reads."""
    transition(case, Action.REFUSE, by=by, actor=actor, reason=reason)


def request_correction(case: Application, data: NoticeInput, *, by: Any, actor: Actor) -> CorrectionNotice:
    """一次性告知: list everything missing or wrong at once, with the time allowed.

    A case gets one notice. A second is refused unless the resubmission brought a new defect (the
    acceptor says so, and names it). A notice after acceptance stops the clock until resubmission.
    """
    problem = refusal(case, Action.REQUEST_CORRECTION)
    if problem:
        raise InvalidTransition(problem)
    not_allowed = cannot_act(by, case, Action.REQUEST_CORRECTION)
    if not_allowed:
        raise PermissionDenied(not_allowed)
    if case.notices and not data.new_defect:
        raise InvalidTransition(_("A one-time notice has already been given on this case. Another is allowed only "
                                  "for a new defect in what the applicant resubmitted."))
    item = catalog_item(case)
    known = {m.id for m in item.materials} | {FORM_ENTRY}
    entries = list(data.entries)
    # the notice must say everything at once: an entry it cannot carry is refused, never silently left out
    reasons = [("entries", _("“%(material)s” is not a material of this item.", material=e.material))
               for e in entries if e.material not in known]
    reasons += [("entries", _("Say whether “%(material)s” is missing or needs correcting.", material=e.material))
                for e in entries if e.material in known and e.defect not in {d.value for d in Defect}]
    if reasons:
        raise ValidationFailed(reasons)
    if not entries:
        raise ValidationFailed([("entries", _("Tick at least one material that is missing or needs correcting."))])
    if len({e.material for e in entries}) != len(entries):
        raise ValidationFailed([("entries", _("Each material can be listed once in a notice."))])
    today = clock.today()
    notice = CorrectionNotice(
        sequence=len(case.notices) + 1, issued_at=clock.now(), issued_by_id=getattr(by, "id", None),
        issued_on=today, pauses_clock=case.accepted_at is not None,
        respond_by=deadlines.correction_due(today, _config("PORTAL_CORRECTION_WORKING_DAYS", CORRECTION_WORKING_DAYS)),
        note=(data.note or "").strip()[:2000] or None, new_defect=bool(case.notices),
    )
    notice.entries_json = json.dumps([{"material": e.material, "defect": Defect(e.defect).value,
                                       "note": (e.note or "").strip()[:500]} for e in entries], ensure_ascii=False)
    case.notices.append(notice)
    transition(case, Action.REQUEST_CORRECTION, by=by, actor=actor,
               detail={"notice": notice.sequence, "respond_by": notice.respond_by.isoformat(),
                       "materials": [e.material for e in entries], "pauses_clock": notice.pauses_clock})
    return notice


def start_review(case: Application, *, by: Any, actor: Actor) -> None:
    transition(case, Action.START_REVIEW, by=by, actor=actor)


def approve_application(case: Application, *, by: Any, actor: Actor, result: str | None = None) -> None:
    """审核通过. ``result`` is the outcome printed on the completion slip."""
    transition(case, Action.APPROVE, by=by, actor=actor)
    if result:
        case.result_text = result.strip()[:2000]


def deny_application(case: Application, reason: str, *, by: Any, actor: Actor) -> None:
    """审核不通过, with the reason the applicant reads."""
    transition(case, Action.DENY, by=by, actor=actor, reason=reason)


def start_payment(case: Application, *, by: Any, actor: Actor) -> None:
    transition(case, Action.START_PAYMENT, by=by, actor=actor)


def complete_application(case: Application, *, by: Any, actor: Actor, result: str | None = None) -> None:
    """办结: the case completes and the item's handler applies its effect on the records, together."""
    if result:
        case.result_text = result.strip()[:2000]
    _complete(case, by=by, actor=actor)


def _complete(case: Application, *, by: Any, actor: Actor) -> None:
    item = catalog_item(case)
    transition(case, Action.COMPLETE, by=by, actor=actor)
    handler_for(item).apply_effect(case, _context(case, item))


def deliver_application(case: Application, *, by: Any, actor: Actor) -> None:
    """送达: the result has reached the applicant."""
    transition(case, Action.DELIVER, by=by, actor=actor)


# --- progress tokens (receipt QR) --------------------------------------------------------------------


def issue_progress_token(case: Application) -> str:
    """A new 128-bit token for a receipt's QR; only its SHA-256 is stored. Earlier tokens stay valid."""
    if case.number is None:
        raise InvalidTransition(_("A draft has no receipt."))
    token = secrets.token_urlsafe(16)
    days = _config("PORTAL_PROGRESS_TOKEN_DAYS", PROGRESS_TOKEN_DAYS)
    db.session.add(ProgressToken(application_id=case.id, token_hash=sha256_hex(token),
                                 created_at=clock.now(), expires_at=clock.now() + timedelta(days=days)))
    _flush()
    return token


def find_by_token(token: str) -> Application | None:
    """The case a live token belongs to; None for unknown, expired and revoked tokens alike."""
    if not token or len(token) > 64:
        return None
    row = db.session.execute(
        select(ProgressToken).where(ProgressToken.token_hash == sha256_hex(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row.application


def revoke_progress_tokens(case: Application, *, actor: Actor) -> int:
    """Revoke every live token of the case (e.g. a receipt was lost); returns how many."""
    now = clock.now()
    rows = db.session.execute(select(ProgressToken).where(ProgressToken.application_id == case.id,
                                                          ProgressToken.revoked_at.is_(None))).scalars().all()
    for row in rows:
        row.revoked_at = now
    _flush()
    record("application.revoke_tokens", actor=actor, object_type="application", object_id=case.id,
           detail={"count": len(rows)})
    return len(rows)


def get_case(case_id: int, *, for_account: Any) -> Application:
    """The case with ``case_id`` if ``for_account`` may see it; NotFound otherwise (S6: same answer)."""
    from .permissions import can_view

    case = db.session.get(Application, case_id) if 0 < case_id < 2**31 else None
    if case is None or not can_view(for_account, case):
        raise NotFound(_("No such application."))
    return case



# --- for the filing pages: pre-checks before a draft exists, the applicant's cases, drafts ------------


def item_prechecks(item: Item, account: Any) -> list[Finding]:
    """What the item's handler says before a draft exists: the rules only, or about ``account`` filing it."""
    audience = filing_audience(account, item)
    person = getattr(account, "person", None) if audience == "individual" else None
    unit = getattr(account, "unit", None) if audience == "unit" else None
    return handler_for(item).precheck(FilingContext(item=item, person=person, unit=unit))


def _cases_of(account: Any) -> Any:
    """The cases ``account`` files or follows: its own, or for a unit's agent every case of the unit."""
    from sqlalchemy import and_, false

    from ..accounts.models import AccountKind

    if not getattr(account, "is_authenticated", False):
        return false()
    if account.kind == AccountKind.AGENT and account.unit_id is not None:
        return and_(Application.audience == "unit", Application.unit_id == account.unit_id)
    if account.kind == AccountKind.CITIZEN:
        return Application.applicant_id == account.id
    return false()


def applicant_cases(account: Any, *, page: int = 1, per_page: int = 20) -> tuple[list[Application], int]:
    """One page of the submitted cases of ``account`` (see ``_cases_of``), newest first, and how many there are."""
    from sqlalchemy import func

    where = (_cases_of(account), Application.state != State.DRAFT.value)
    total = db.session.execute(select(func.count()).select_from(Application).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Application).where(*where)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).scalars().all()
    return list(rows), total


def applicant_drafts(account: Any, *, item_code: str | None = None, limit: int = 50) -> list[Application]:
    """The drafts of ``account`` (a unit's agents share the unit's drafts), last changed first."""
    query = select(Application).where(_cases_of(account), Application.state == State.DRAFT.value)
    if item_code is not None:
        query = query.where(Application.item_code == item_code)
    return list(db.session.execute(
        query.order_by(Application.updated_at.desc(), Application.id.desc()).limit(limit)).scalars().all())


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


# --- reads and checks for the API (appended) ---------------------------------------------------------


def material_modes(item: Item, case: Application) -> dict[str, list[MaterialMode]]:
    """How each of the item's materials may be provided in this case (the rules ``_check_materials`` applies).

    Data sharing only where the agency can obtain the material itself; a commitment only where the catalog
    names one; uploading files and paper always; "does not apply" only for a material this case does not require,
    and never while answering a notice.
    """
    required = {m.id for m in required_materials(item, case)}
    correcting = case.open_notice is not None
    out: dict[str, list[MaterialMode]] = {}
    for material in item.materials:
        modes = [MaterialMode.DATA_SHARING] if material.data_sharing else []
        if material.commitment is not None:
            modes.append(MaterialMode.COMMITMENT)
        modes += [MaterialMode.UPLOAD, MaterialMode.AT_WINDOW]
        if material.id not in required and not correcting:
            modes.append(MaterialMode.NOT_APPLICABLE)
        out[material.id] = modes
    return out


def check_idempotency_key(case: Application, key: str) -> None:
    """Refuse a submission key the applicant already used for another case (the database would refuse it too,
    less politely: the key is unique per applicant)."""
    other = db.session.execute(select(Application.id).where(
        Application.applicant_id == case.applicant_id, Application.idempotency_key == key,
        Application.id != case.id)).first()
    if other is not None:
        raise Conflict(_("This Idempotency-Key was already used for another application. Send a new key for "
                         "each application."), code="idempotency_key_reused")
