"""The one-time notice (一次性告知) and the resubmission that answers it, with the clock paused and resumed."""

from __future__ import annotations

import json
from typing import Any

from ...core import clock
from ...core.audit import Actor
from ...core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ...core.translation import gettext as _
from .. import deadlines, fields
from ..attachments import case_files
from ..constants import FORM_ENTRY, PROVIDED_MODES, Action, Defect, MaterialMode
from ..lifecycle import refusal
from ..models import Application, CorrectionNotice
from ..permissions import cannot_act, is_applicant
from .base import _config, catalog_item, transition
from .checks import _check_materials, record_values, specs_for
from .inputs import NoticeInput, Resubmission

CORRECTION_WORKING_DAYS = 15  # time allowed to supply what a notice lists; PORTAL_CORRECTION_WORKING_DAYS


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
    case_files().claim_files(case)
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
