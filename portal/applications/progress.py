"""Progress of a case for whoever holds its receipt, and its details for the applicant without logging in.

Two ways in, both public and rate limited per IP and globally (SECURITY.md, "Receipt QR codes"):

- ``/q/<token>``: the receipt's QR. Anyone with the link sees the item, the masked receipt number and
  applicant, the current step, the key dates and the deadline; nothing else. Unknown, revoked and
  expired tokens answer the same 404. The page is built from one query (token joined to its case,
  columns only: no form data is decrypted, no events are loaded) and counts no working days, because it
  is the busiest public page.
- ``/q/lookup``: the receipt number and the last 4 characters of the applicant's 身份证 (the principal's
  for a filing on someone's behalf, the unit's credit code for a unit) send an SMS code to the phone of
  the account that filed. The right code grants this browser session, for ``PORTAL_PROGRESS_GRANT_MINUTES``,
  the details page ``/q/details``. A wrong number and wrong digits answer alike, so the form tells nobody
  which numbers exist. The session keeps the code's handle and the granted case id; URLs carry neither
  the number, the phone nor any id (S14).
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ..accounts import operations as account_ops
from ..accounts import otp
from ..accounts.forms import CodeForm, apply_errors
from ..accounts.models import AccountKind, OtpPurpose, Role
from ..accounts.operations import throttle as shared_throttle
from ..core import clock
from ..core.audit import Actor, actor_of, record, scrub
from ..core.crypto import sha256_hex
from ..core.db import db
from ..core.errors import AuthenticationFailed, DomainError, ValidationFailed
from ..core.masking import MASK, mask_name, mask_phone
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..extensions import client_ip
from ..insurance.models import Unit
from ..integrations import sms
from ..organisations.models import Institution
from . import deadlines, numbers
from .constants import CLOSED_STATES, FORM_ENTRY, Action, Defect, State
from .models import Application, ApplicationEvent, CorrectionNotice, ProgressToken

bp = Blueprint("progress", __name__)

# Rate limits (``limits`` syntax); each can be overridden in the app config under the same name.
DEFAULT_LIMITS = {
    "PORTAL_LIMIT_PROGRESS_IP": "60/minute",  # /q/<token>, per client IP
    "PORTAL_LIMIT_PROGRESS_GLOBAL": "6000/minute",  # /q/<token>, all clients together
    "PORTAL_LIMIT_LOOKUP_IP": "10/10 minutes;30/day",  # lookup attempts (number + ID digits), per IP
    "PORTAL_LIMIT_LOOKUP_NUMBER": "5/10 minutes;10/day",  # ... per receipt number, whoever tries
    "PORTAL_LIMIT_LOOKUP_GLOBAL": "600/minute",  # ... all clients together
}
GRANT_MINUTES = 15  # how long a correct code opens the details; PORTAL_PROGRESS_GRANT_MINUTES
PENDING_KEY = "progress_pending"  # flask session: {"handle": OTP handle, "case": id} while the code is awaited
GRANT_KEY = "progress_grant"  # flask session: {"case": id, "until": epoch seconds}
LAST4_LENGTH = 4


# --- steps ---------------------------------------------------------------------------------------------


class Stage(StrEnum):
    """The steps a case goes through, as every service guide names them: 申请 → 受理 → 审核 → (拨付) → 办结 → 送达."""

    APPLICATION = "application"
    ACCEPTANCE = "acceptance"
    REVIEW = "review"
    PAYMENT = "payment"  # money items only
    COMPLETION = "completion"
    DELIVERY = "delivery"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])


STAGE_LABELS = {
    Stage.APPLICATION: _l("Application"),
    Stage.ACCEPTANCE: _l("Acceptance"),
    Stage.REVIEW: _l("Review"),
    Stage.PAYMENT: _l("Payment"),
    Stage.COMPLETION: _l("Completion"),
    Stage.DELIVERY: _l("Delivery"),
}

# The step each state belongs to. A notice (补正) or a resubmission belongs to acceptance before the case
# was accepted and to review after; ``stage_of`` decides those two.
STAGE_OF_STATE = {
    State.DRAFT: Stage.APPLICATION,
    State.SUBMITTED: Stage.APPLICATION,
    State.WITHDRAWN: Stage.APPLICATION,
    State.ACCEPTED: Stage.ACCEPTANCE,
    State.NOT_ACCEPTED: Stage.ACCEPTANCE,
    State.UNDER_REVIEW: Stage.REVIEW,
    State.APPROVED: Stage.REVIEW,
    State.DENIED: Stage.REVIEW,
    State.PAYING: Stage.PAYMENT,
    State.COMPLETED: Stage.COMPLETION,
    State.DELIVERED: Stage.DELIVERY,
}
# States in which the case stopped before the last step; the steps after it will not come.
STOPPED_STATES = frozenset({State.NOT_ACCEPTED, State.DENIED, State.WITHDRAWN})


class StepStatus(StrEnum):
    DONE = "done"
    CURRENT = "current"
    STOPPED = "stopped"  # the case ended at this step (not accepted, denied, withdrawn)
    UPCOMING = "upcoming"
    SKIPPED = "skipped"  # after a stop: will not happen


@dataclass(frozen=True)
class Step:
    stage: Stage
    status: StepStatus

    @property
    def is_current(self) -> bool:
        return self.status in (StepStatus.CURRENT, StepStatus.STOPPED)


def stage_of(state: State, *, is_accepted: bool) -> Stage:
    """The step a case in ``state`` is at; corrections belong to acceptance or review."""
    if state in (State.CORRECTION_REQUESTED, State.RESUBMITTED):
        return Stage.REVIEW if is_accepted else Stage.ACCEPTANCE
    return STAGE_OF_STATE[state]


def steps_of(state: State, *, is_money: bool, is_accepted: bool) -> tuple[Step, ...]:
    """Every step of the case with its status; the payment step only for items that pay money."""
    stages = [s for s in Stage if is_money or s is not Stage.PAYMENT]
    current = stage_of(state, is_accepted=is_accepted)
    at = stages.index(current)
    stopped = state in STOPPED_STATES
    out = []
    for i, stage in enumerate(stages):
        if i < at:
            status = StepStatus.DONE
        elif i == at:
            status = StepStatus.STOPPED if stopped else StepStatus.CURRENT
        else:
            status = StepStatus.SKIPPED if stopped else StepStatus.UPCOMING
        out.append(Step(stage, status))
    return tuple(out)


# --- the public page -----------------------------------------------------------------------------------


def mask_unit_name(value: str | None) -> str:
    """A unit's name on public pages: the first 2 and last 2 characters (长春****公司); short names keep one."""
    name = (value or "").strip()
    if len(name) <= 1:
        return MASK * len(name)
    if len(name) <= 4:
        return name[0] + MASK
    return name[:2] + MASK * 4 + name[-2:]


@dataclass(frozen=True)
class PublicProgress:
    """What the QR page may show, and nothing more: no reasons, notices, form data, ID or phone."""

    item_name: str  # in Chinese, as when filed
    item_name_en: str | None
    masked_number: str
    masked_applicant: str
    state: State
    steps: tuple[Step, ...]
    is_waiting_for_corrections: bool
    is_paused: bool
    is_closed: bool
    submitted_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    due_date: date | None
    limit_wording: str  # as published, in Chinese
    limit_text: str = ""  # in the page's language
    estimate: deadlines.Estimate = deadlines.NOT_ESTIMATED  # dates counted Monday to Friday: the page says so

    @property
    def current_step(self) -> Step:
        return next(s for s in self.steps if s.is_current)

    @property
    def is_overdue(self) -> bool:
        """Past the due date while the clock runs: a date comparison, no working days counted."""
        return (self.due_date is not None and not self.is_closed and not self.is_paused
                and clock.today() > self.due_date)

    @property
    def flags(self) -> deadlines.Flags:
        """Overdue, due soon and working days left. Counting working days reads the calendar, so the page
        (which shows only ``is_overdue``) never asks; the API does."""
        return deadlines.flags(self.due_date, is_closed=self.is_closed, is_paused=self.is_paused)


# Built once: the busiest public page should not rebuild its query on every request.
_PUBLIC_QUERY = (
    select(ProgressToken.revoked_at, ProgressToken.expires_at,
           Application.item_name, Application.item_code, Application.number, Application.state, Application.audience,
           Application.is_money, Application.applicant_name, Application.submitted_at, Application.accepted_at,
           Application.completed_at, Application.due_date, Application.limit_wording,
           func.coalesce(Unit.name, Institution.name).label("unit_name"),  # a unit's or an institution's case
           Application.closed_at, Application.accept_by, Application.limit_kind, Application.limit_value,
           select(CorrectionNotice.respond_by)  # the open notice's reply date, for the estimate flag
           .where(CorrectionNotice.application_id == Application.id, CorrectionNotice.resolved_at.is_(None))
           .order_by(CorrectionNotice.id.desc()).limit(1).scalar_subquery().label("respond_by"))
    .select_from(ProgressToken)
    .join(Application, Application.id == ProgressToken.application_id)
    .outerjoin(Unit, (Unit.id == Application.unit_id) & (Application.audience == "unit"))
    .outerjoin(Institution, (Institution.id == Application.institution_id) & (Application.audience == "institution"))
    .where(ProgressToken.token_hash == bindparam("token_hash"))
)


def public_progress(token: str) -> PublicProgress | None:
    """The public facts of the case a live token belongs to; None for unknown, expired and revoked tokens alike.

    The same rules as ``operations.find_by_token``, in one query that reads only the columns shown.
    """
    if not token or len(token) > 64:
        return None
    # a plain column select: run on the session's connection, without the ORM's per-statement machinery
    row = db.session.connection().execute(_PUBLIC_QUERY, {"token_hash": sha256_hex(token)}).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now() or row.number is None:
        return None
    state = State(row.state)
    is_accepted = row.accepted_at is not None
    is_closed = state in CLOSED_STATES
    is_paused = state is State.CORRECTION_REQUESTED and is_accepted  # a notice after acceptance stops the clock
    applicant = mask_unit_name(row.unit_name) if row.audience in ("unit", "institution") \
        else mask_name(row.applicant_name)
    item = current_app.extensions["portal_catalog"].get(row.item_code)  # a dict lookup, for the English name
    return PublicProgress(
        item_name=row.item_name, item_name_en=item.name.en if item is not None else None,
        masked_number=numbers.mask(row.number),
        masked_applicant=applicant, state=state,
        steps=steps_of(state, is_money=row.is_money, is_accepted=is_accepted),
        is_waiting_for_corrections=state is State.CORRECTION_REQUESTED, is_paused=is_paused, is_closed=is_closed,
        submitted_at=row.submitted_at, accepted_at=row.accepted_at, completed_at=row.completed_at,
        due_date=row.due_date, limit_wording=row.limit_wording or "", limit_text=deadlines.limit_text(row),
        estimate=deadlines.estimate_of(submitted_at=row.submitted_at, is_open=row.completed_at is None
                                       and row.closed_at is None, accepted_at=row.accepted_at,
                                       accept_by=row.accept_by, due_date=row.due_date, limit_kind=row.limit_kind,
                                       respond_by=row.respond_by),
    )


# --- rate limits -----------------------------------------------------------------------------------------


def throttle(name: str, *keys: str) -> None:
    """Count one request against the limit ``name`` (the app config, else this module's ``DEFAULT_LIMITS``)."""
    shared_throttle(name, *keys, default=DEFAULT_LIMITS.get(name))


# --- lookup by receipt number: operations ------------------------------------------------------------------


@dataclass(frozen=True)
class LookupRequest:
    number: str  # as typed: spaces, lower case and full-width characters are fine
    id_last4: str  # the last 4 characters of the 身份证 (or of the unit's credit code)


def _no_match() -> ValidationFailed:
    return ValidationFailed([(None, _("No case matches this receipt number and these ID characters. Check both "
                                      "against the receipt and the ID card."))])


def _wrong_code() -> AuthenticationFailed:
    return AuthenticationFailed(_("The code is wrong or has expired. Check the text message, or ask for a new code."),
                                code="wrong_code")


def identity_last4(case: Application) -> str | None:
    """The 4 characters that prove knowledge of whom a case is about: the last 4 of the person's 身份证, of
    the principal's for a filing on someone's behalf, of the credit code for a unit's case."""
    if case.audience in ("unit", "institution"):
        secret = case.organisation.credit_code if case.organisation else None
    elif case.on_behalf:
        secret = case.principal_id_number
    else:
        secret = case.person.id_number if case.person else None
    return secret.strip().upper()[-LAST4_LENGTH:] if secret and len(secret.strip()) >= LAST4_LENGTH else None


def _clean_lookup(data: LookupRequest) -> tuple[str, str]:
    number = numbers.normalise(data.number)
    last4 = unicodedata.normalize("NFKC", data.id_last4 or "").strip().upper()
    reasons: list[tuple[str | None, str]] = []
    if not numbers.is_valid(number):
        reasons.append(("number", _("Enter the receipt number as printed on the receipt: 2 letters, 8 digits and "
                                    "6 letters or digits.")))
    if len(last4) != LAST4_LENGTH or not last4.isascii() or not last4.isalnum():
        reasons.append(("id_last4", _("Enter the last 4 characters of the ID card number (digits, or X).")))
    if reasons:
        raise ValidationFailed(reasons)
    return number, last4


def request_lookup_code(data: LookupRequest, *, actor: Actor, client_ip: str) -> tuple[Application, otp.IssuedCode]:
    """Send an SMS code to the phone of the account that filed the case, if the number and the 4 characters
    match. A wrong number and wrong characters raise the same ValidationFailed.

    Limited per IP, per receipt number and globally before the case is looked up; the phone's SMS limit is
    the one login codes use, so neither flow can be used to flood a phone.
    """
    number, last4 = _clean_lookup(data)
    throttle("PORTAL_LIMIT_LOOKUP_IP", client_ip)
    throttle("PORTAL_LIMIT_LOOKUP_NUMBER", sha256_hex(number))  # the limiter's storage never holds the number
    throttle("PORTAL_LIMIT_LOOKUP_GLOBAL")
    case = db.session.execute(select(Application).where(Application.number == number)).scalar_one_or_none()
    expected = identity_last4(case) if case is not None else None
    phone = case.applicant.phone if case is not None and case.applicant is not None else None
    if not (expected and phone and hmac.compare_digest(expected.encode(), last4.encode())):
        record("progress.lookup_failed", actor=actor, object_type="application",
               object_id=case.id if case is not None else None, result="failed",
               detail={"number": numbers.mask(number)})
        raise _no_match()
    account_ops.throttle("PORTAL_LIMIT_OTP_SEND_PHONE", phone)
    issued = otp.issue(OtpPurpose.PROGRESS_LOOKUP, phone)
    minutes = current_app.config["PORTAL_OTP_TTL_SECONDS"] // 60
    body = _("Your code to see the details of application %(number)s is %(code)s. It is valid for %(minutes)s "
             "minutes. Never tell it to anyone, including staff.", number=numbers.mask(number), code=issued.code,
             minutes=minutes)
    sms.get_gateway().send(phone, "otp_lookup", {"number": numbers.mask(number), "code": issued.code,
                                                 "minutes": str(minutes)},
                           business_id=f"otp-{issued.challenge.id}", text=body)
    record("progress.code_sent", actor=actor, object_type="application", object_id=case.id,
           detail={"phone": mask_phone(phone), "otp_challenge": issued.challenge.id})
    return case, issued


def grant_lookup(handle: str, code: str, case_id: int, *, actor: Actor, client_ip: str) -> Application:
    """Check the SMS code of a lookup; the case when it is right.

    Wrong codes count against the challenge (``PORTAL_OTP_MAX_ATTEMPTS``) and the IP, as login codes do. A
    code works once, only for the lookup it was sent for, and only while the phone on record is still the one
    it went to.
    """
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationFailed([("code", _("The code has 6 digits."))])
    account_ops.throttle("PORTAL_LIMIT_OTP_VERIFY_IP", client_ip)
    challenge = otp.find_by_handle(handle)
    case = db.session.get(Application, case_id)
    phone = case.applicant.phone if case is not None and case.applicant is not None else None
    if (challenge is None or challenge.purpose != OtpPurpose.PROGRESS_LOOKUP or phone is None
            or not hmac.compare_digest(challenge.phone.encode(), phone.encode()) or not otp.check(challenge, code)):
        record("progress.code_failed", actor=actor, object_type="application", object_id=case_id, result="failed")
        raise _wrong_code()
    record("progress.details_granted", actor=actor, object_type="application", object_id=case.id,
           detail={"otp_challenge": challenge.id})
    return case


# --- details ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    by: str
    reason: str | None
    note: str | None


def _actor_label(event: ApplicationEvent) -> str:
    """Who moved the case, as the applicant reads it: staff by role, never by name."""
    if event.actor_kind == AccountKind.STAFF:
        known = {r.value: r for r in Role}
        roles = [known[c].label for c in (event.actor_role or "").split(",") if c in known]
        return _("Staff (%(roles)s)", roles=", ".join(roles)) if roles else _("Staff")
    if event.actor_kind in (AccountKind.CITIZEN, AccountKind.AGENT):
        return _("Applicant")
    return _("System")


def _event_note(event: ApplicationEvent) -> str | None:
    detail = event.detail
    if event.action == Action.RESUBMIT and detail.get("shift_days"):
        if detail.get("shift_unit") == "working_days":
            return _("The time limit was paused for %(n)s working days while corrections were awaited.",
                     n=detail["shift_days"])
        return _("The time limit was paused for %(n)s days while corrections were awaited.", n=detail["shift_days"])
    return None


def timeline(case: Application) -> list[TimelineEntry]:
    """The case's events, oldest first, with free text scrubbed of any ID or phone number (S12)."""
    return [TimelineEntry(at=e.at, action=Action(e.action).label, by=_actor_label(e),
                          reason=scrub(e.reason) if e.reason else None, note=_event_note(e))
            for e in case.events]


def notice_view(case: Application) -> dict[str, Any] | None:
    """The open one-time notice: each listed material by name, what is wrong, the note; the respond-by date."""
    notice = case.open_notice
    if notice is None:
        return None
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    names = {m.id: m.name.zh for m in item.materials} if item is not None else {}
    names[FORM_ENTRY] = _("The application form")
    entries = [{"name": names.get(e["material"], e["material"]), "defect": Defect(e["defect"]).label,
                "note": scrub(e["note"]) if e.get("note") else None} for e in notice.entries]
    return {"entries": entries, "note": scrub(notice.note) if notice.note else None,
            "respond_by": notice.respond_by, "issued_on": notice.issued_on}


def details_context(case: Application) -> dict[str, Any]:
    state = case.state_enum
    is_accepted = case.accepted_at is not None
    is_paused = state is State.CORRECTION_REQUESTED and is_accepted
    applicant = mask_unit_name(case.organisation.name if case.organisation else "") \
        if case.audience in ("unit", "institution") else mask_name(case.applicant_name)
    return {
        "case": case, "state": state, "applicant": applicant,
        "phone": mask_phone(case.applicant.phone if case.applicant else None),
        "steps": steps_of(state, is_money=case.is_money, is_accepted=is_accepted),
        "timeline": timeline(case), "notice": notice_view(case), "is_paused": is_paused,
        "decision_reason": scrub(case.decision_reason) if case.decision_reason else None,
        "result_text": scrub(case.result_text) if case.result_text else None,
        "flags": deadlines.flags(case.due_date, is_closed=case.is_closed, is_paused=is_paused),
    }


# --- views -----------------------------------------------------------------------------------------------------


class LookupForm(FlaskForm):
    number = StringField(_l("Receipt number"), validators=[InputRequired(_l("Enter the receipt number.")),
                                                           Length(max=40)])
    id_last4 = StringField(_l("Last 4 characters of the ID card number"),
                           validators=[InputRequired(_l("Enter the last 4 characters of the ID card number.")),
                                       Length(max=8)])


@bp.after_request
def _private(response):
    """Lookup pages leak nothing onwards: no referrer, no cache, no search engine (S15)."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/q/<token>")
def show(token: str):
    throttle("PORTAL_LIMIT_PROGRESS_IP", client_ip())
    throttle("PORTAL_LIMIT_PROGRESS_GLOBAL")
    progress = public_progress(token)
    if progress is None:  # unknown, expired or withdrawn alike (a QR code says nothing about other cases)
        return render_template("progress/unknown.html"), 404
    return render_template("progress/show.html", progress=progress)


@bp.route("/q/lookup", methods=["GET", "POST"])
def lookup():
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("progress/lookup.html", form=form), 422 if form.is_submitted() else 200
    try:
        with account_ops.commit_failures():
            case, issued = request_lookup_code(LookupRequest(form.number.data, form.id_last4.data),
                                               actor=actor_of(current_user), client_ip=client_ip())
    except DomainError as error:
        apply_errors(form, error)
        return render_template("progress/lookup.html", form=form), error.status
    db.session.commit()
    session[PENDING_KEY] = {"handle": issued.handle, "case": case.id}
    return redirect(url_for("progress.enter_code"))


@bp.route("/q/lookup/code", methods=["GET", "POST"])
def enter_code():
    pending = session.get(PENDING_KEY)
    handle, case_id = (pending.get("handle"), pending.get("case")) if isinstance(pending, dict) else (None, None)
    challenge = otp.find_by_handle(handle) if isinstance(handle, str) and isinstance(case_id, int) else None
    if challenge is None or challenge.purpose != OtpPurpose.PROGRESS_LOOKUP:
        return redirect(url_for("progress.lookup"))
    form = CodeForm()
    context = {"challenge": challenge, "ttl_minutes": current_app.config["PORTAL_OTP_TTL_SECONDS"] // 60}
    if not form.validate_on_submit():
        return render_template("progress/code.html", form=form, **context), 422 if form.is_submitted() else 200
    try:
        with account_ops.commit_failures():
            case = grant_lookup(handle, form.code.data, case_id, actor=actor_of(current_user), client_ip=client_ip())
    except DomainError as error:
        apply_errors(form, error)
        return render_template("progress/code.html", form=form, **context), error.status
    db.session.commit()
    minutes = int(current_app.config.get("PORTAL_PROGRESS_GRANT_MINUTES", GRANT_MINUTES))
    session.pop(PENDING_KEY, None)
    session[GRANT_KEY] = {"case": case.id, "until": int((clock.now() + timedelta(minutes=minutes)).timestamp())}
    return redirect(url_for("progress.details"))


def granted_case_id() -> int | None:
    """The case this browser session may see the details of, while the grant lasts; the grant ends otherwise."""
    grant = session.get(GRANT_KEY)
    if not isinstance(grant, dict):
        return None
    case_id, until = grant.get("case"), grant.get("until")
    if isinstance(case_id, int) and isinstance(until, int) and clock.now().timestamp() < until:
        return case_id
    session.pop(GRANT_KEY, None)
    flash(_("Access to the details has ended. Look the case up again to see them."), "warning")
    return None


@bp.get("/q/details")
def details():
    case_id = granted_case_id()
    case = db.session.execute(
        select(Application).where(Application.id == case_id)
        .options(selectinload(Application.events), selectinload(Application.notices))
    ).scalar_one_or_none() if case_id is not None else None
    if case is None:
        return redirect(url_for("progress.lookup"))
    return render_template("progress/details.html", **details_context(case))
