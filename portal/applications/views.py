"""Filing pages: start an item, fill the draft (saved in the database, so it resumes on any device), submit
once, follow the case, answer a one-time notice, withdraw before acceptance, print the receipt.

Thin views (STYLE.md): load → permission → one operation → commit → respond. ``ValidationFailed`` puts
its reasons on the form (400, the page again); the other domain errors become a flash and a redirect to the
case. Every case route loads through ``_own_case``: another person's case answers 404 (S6), to staff too (they use the
workbench).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user, login_required

from ..accounts.models import AccountKind, Role
from ..catalog.labels import REQUIREMENT, time_limit_text, tr
from ..core.audit import actor_of
from ..core.db import db
from ..core.downloads import file_response
from ..core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ..core.failures import conflict_on_race
from ..core.translation import get_locale, ngettext
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..services import handler_for
from ..services.base import Severity
from . import deadlines, forms, operations, paper, recompute  # noqa: F401 (recompute: connects its receiver)
from .constants import FORM_ENTRY, Action, Defect, MaterialMode, State
from .lifecycle import available_actions
from .models import Application
from .permissions import STAFF_ROLES, cannot_file, is_applicant

bp = Blueprint("applications", __name__)
PER_PAGE = 20
MAX_PAGE = 10_000
ACTIONS = frozenset(a.value for a in Action)
SEVERITY_LABELS = {
    Severity.INFO: _l("Good to know"),
    Severity.WARNING: _l("Please check"),
    Severity.BLOCKING: _l("Cannot be filed now"),
}
# The timeline names the agency's desk, never the member of staff (受理窗口, 审核科, 财务科, 科长).
DESKS = {
    Role.ACCEPTOR: _l("Acceptance window"),
    Role.REVIEWER: _l("Review office"),
    Role.FINANCE: _l("Finance office"),
    Role.CHIEF: _l("Section chief"),
}


# --- helpers -----------------------------------------------------------------------------------------


def _item_or_404(code: str):
    item = current_app.extensions["portal_catalog"].get(code)
    if item is None:
        abort(404)
    return item


def _own_case(case_id: int) -> Application:
    """A case the current user files. Every page here is the applicant's only: staff (whatever their roles, the
    administrator too) answer 404 like any other stranger and work on cases in the workbench (/staff/cases/…)."""
    case = operations.get_case(case_id, for_account=current_user)
    if not is_applicant(current_user, case):
        raise NotFound(_("No such application."))
    return case


def _actor():
    return actor_of(current_user)


def _refused(form: forms.CaseForm, page: Any, error: ValidationFailed | None = None):
    """The page again with every problem on its field (400); nothing of this post is kept."""
    db.session.rollback()
    if error is not None:
        form.apply_reasons(error)
    return page(form), 400


def _to_case(case: Application, error: DomainError | None = None):
    """Back to the case page, saying why an operation refused (never a 500). The loser of a double click that
    raced the winner (S20's Conflict) is not alarmed: the case it wanted submitted has been, with its key."""
    case_id = case.id
    if error is not None:
        db.session.rollback()
        key = request.form.get("idempotency_key")
        current = db.session.get(Application, case_id) if isinstance(error, Conflict) and key else None
        if current is None or current.idempotency_key != key:
            flash(error.message, "error")
    return redirect(url_for("applications.detail", case_id=case_id))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"item_title": _item_title, "requirement_labels": REQUIREMENT, "time_limit_text": time_limit_text}


@bp.app_template_global("date_estimate")
def date_estimate(case: Application) -> deadlines.Estimate:
    """Whether the case's dates are a Monday-to-Friday estimate (case page, workbench); see deadlines.estimate."""
    return deadlines.estimate(case)


@bp.app_template_global("limit_text")
def limit_text(case: Application) -> str:
    """The case's time limit in the page's language (case pages, workbench); see deadlines.limit_text."""
    return deadlines.limit_text(case)


def _item_title(case: Application) -> str:
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    return tr(item.name) if item is not None else case.item_name


def _flags(case: Application) -> deadlines.Flags:
    notice = case.open_notice
    return deadlines.flags(case.due_date, is_closed=case.is_closed,
                           is_paused=notice is not None and notice.pauses_clock)


# --- start -------------------------------------------------------------------------------------------


@bp.route("/apply/<code>", methods=["GET", "POST"])
def start(code: str):
    item = _item_or_404(code)
    entry = handler_for(item).web_entry(item)
    if entry:
        return redirect(entry)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            case, created = operations.resume_or_start(item, by=current_user, actor=_actor())
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for("applications.start", code=code))
        db.session.commit()
        if not created:
            flash(_("You already had a draft of this item; here it is, as you left it."), "info")
        return redirect(url_for("applications.edit", case_id=case.id))
    problem = cannot_file(current_user, item)
    drafts = [] if problem else operations.applicant_drafts(current_user, item_code=item.code, limit=1)
    return render_template("applications/start.html", item=item, form=form, problem=problem,
                           findings=operations.item_prechecks(item, current_user), severity_labels=SEVERITY_LABELS,
                           draft=drafts[0] if drafts else None), 400 if form.is_submitted() else 200


# --- the draft ---------------------------------------------------------------------------------------


@bp.route("/applications/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    case = _own_case(case_id)
    if case.state != State.DRAFT:
        return _not_a_draft(case)
    item = operations.catalog_item(case)
    form = forms.filing_form(case, item, extra_row=request.args.get("add"))
    if not form.is_submitted():
        return _edit_page(form)
    checked = form.validate()  # the early checks; the operation still runs, so every problem is listed at once
    try:
        operations.save_draft(case, form.draft_input(), by=current_user, actor=_actor())
    except ValidationFailed as error:
        return _refused(form, _edit_page, error)
    except DomainError as error:
        return _to_case(case, error)
    if not checked:
        return _refused(form, _edit_page)
    action = request.form.get("action", "save")
    if action == "submit":
        return _submit(case, form)
    db.session.commit()
    if action.startswith("add_row:"):
        flash(_("Saved. An empty row was added."), "success")
        key = action.removeprefix("add_row:")
        return redirect(url_for("applications.edit", case_id=case.id, add=key, _anchor=forms.FIELD + key))
    flash(_("Your draft is saved. You can come back to it from any device under “My applications”."), "success")
    return redirect(url_for("applications.edit", case_id=case.id))


def _submit(case: Application, form: forms.CaseForm):
    """Submit the draft just saved. When the submission is refused the saved draft is kept (committed)."""
    try:
        with conflict_on_race():  # a double click racing on two workers: the loser lands on the case, quietly
            operations.submit_application(case, by=current_user, actor=_actor(),
                                          idempotency_key=form.submit_key())
    except ValidationFailed as error:
        db.session.commit()
        form = forms.filing_form(case, form.plan.item)  # the save may have changed the fields (filing for someone)
        form.apply_reasons(error)
        flash(_("Your draft is saved, but it cannot be submitted yet. Please see what is missing."), "error")
        return _edit_page(form), 400
    except DomainError as error:
        return _to_case(case, error)
    try:
        with conflict_on_race():
            db.session.commit()
    except Conflict as error:
        return _to_case(case, error)
    flash(_("Your application was submitted. Its number is %(number)s.", number=case.number), "success")
    plan = paper.plan(case, form.plan.item, current_app.extensions["portal_catalog"].region, str(get_locale() or "zh"))
    if plan is not None and plan.bring_by is not None:  # the same as the case page's paper section, in one line
        flash(_("Bring or post the paper materials by %(date)s, to %(recipient)s. Where and how: see “Your paper "
                "materials” below and on the receipt.", date=format_date(plan.bring_by, "long"),
                recipient=plan.recipient), "warning")
    return redirect(url_for("applications.detail", case_id=case.id))


def _not_a_draft(case: Application):
    """A submitted case is not edited. A repeated submit (same idempotency key) lands quietly on the case."""
    key = request.form.get("idempotency_key")
    if request.method == "POST" and key and key == case.idempotency_key:
        return redirect(url_for("applications.detail", case_id=case.id))
    if case.state == State.CORRECTION_REQUESTED:
        return redirect(url_for("applications.correct", case_id=case.id))
    flash(_("This application has been submitted; it can no longer be changed."), "info")
    return redirect(url_for("applications.detail", case_id=case.id))


def _edit_page(form: forms.CaseForm) -> str:
    case, item = form.plan.case, form.plan.item
    return render_template("applications/edit.html", case=case, item=item, form=form, entries=forms.layout(form),
                           materials=forms.material_layout(form), findings=operations.prechecks(case, item),
                           severity_labels=SEVERITY_LABELS, discard_form=forms.DiscardForm(),
                           proxy_materials=[m for m in item.materials if m.condition_key == "proxy"])


@bp.post("/applications/<int:case_id>/discard")
@login_required
def discard(case_id: int):
    case = _own_case(case_id)
    form = forms.DiscardForm()
    if not form.validate_on_submit():
        flash(form.confirm.errors[0] if form.confirm.errors else _("Please try again."), "error")
        return redirect(url_for("applications.edit", case_id=case.id, _anchor="discard"))
    try:
        operations.discard_draft(case, by=current_user, actor=_actor())
    except DomainError as error:
        return _to_case(case, error)
    db.session.commit()
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("applications.mine"))


# --- my applications and the case --------------------------------------------------------------------


@bp.get("/applications/")
@login_required
def mine():
    if current_user.kind == AccountKind.STAFF:
        abort(404)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    cases, total = operations.applicant_cases(current_user, page=page, per_page=PER_PAGE)
    listed = [(c, _flags(c), deadlines.estimate(c)) for c in cases]
    estimated = [e for _c, _f, e in listed if e.is_estimated]  # the note once, with every year it names
    return render_template("applications/mine.html", cases=listed, total=total, estimated=estimated,
                           page=page, pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
                           drafts=operations.applicant_drafts(current_user))


@bp.get("/applications/<int:case_id>")
@login_required
def detail(case_id: int):
    return _detail_page(_own_case(case_id), forms.WithdrawForm())


def _detail_page(case: Application, withdraw_form: forms.WithdrawForm):
    if case.state == State.DRAFT and is_applicant(current_user, case):
        return redirect(url_for("applications.edit", case_id=case.id))
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    can_withdraw = is_applicant(current_user, case) and Action.WITHDRAW in available_actions(case)
    return render_template("applications/detail.html", case=case, item=item, flags=_flags(case),
                           notice=_notice_view(case, item), timeline=[_event_view(e) for e in case.events],
                           materials=_materials_view(case, item), can_withdraw=can_withdraw,
                           withdraw_form=withdraw_form, can_correct=_can_correct(case),
                           paper=paper.plan(case, item, current_app.extensions["portal_catalog"].region,
                                            str(get_locale() or "zh")),
                           accept_days=deadlines.ACCEPT_WITHIN_WORKING_DAYS)


def _can_correct(case: Application) -> bool:
    return (is_applicant(current_user, case) and case.open_notice is not None
            and Action.RESUBMIT in available_actions(case))


def _material_name(item: Any, material_id: str) -> str:
    if material_id == FORM_ENTRY:
        return _("The application form")
    material = next((m for m in item.materials if m.id == material_id), None) if item else None
    return tr(material.name) if material else material_id


def _notice_view(case: Application, item: Any) -> dict[str, Any] | None:
    notice = case.open_notice
    if notice is None:
        return None
    entries = [{"name": _material_name(item, e["material"]), "defect": Defect(e["defect"]).label,
                "note": e.get("note", "")} for e in notice.entries]
    return {"notice": notice, "entries": entries}


def _materials_view(case: Application, item: Any) -> list[tuple[str, str]]:
    """How each material is provided, in the catalog's order."""
    chosen = case.materials
    order = [m.id for m in item.materials] if item else []
    ids = [m for m in order if m in chosen] + sorted(m for m in chosen if m not in order)
    return [(_material_name(item, m), MaterialMode(chosen[m]).label) for m in ids
            if chosen[m] in MaterialMode._value2member_map_]


def _who(event: Any) -> str:
    """Who moved the case, as the applicant reads it: the agency's desk by role, never a staff name."""
    if event.actor_kind == AccountKind.STAFF:
        roles = {r for r in (event.actor_role or "").split(",") if r in Role._value2member_map_}
        fitting = STAFF_ROLES.get(Action(event.action), frozenset()) if event.action in ACTIONS else frozenset()
        for role in DESKS:
            if role in roles and (role in fitting or not fitting):
                return str(DESKS[role])
        return next((str(DESKS[Role(r)]) for r in roles if Role(r) in DESKS), _("The agency"))
    if event.actor_kind in (AccountKind.CITIZEN, AccountKind.AGENT):
        if event.actor_id == current_user.id:
            return _("You")
        return _("Another agent of your unit") if event.actor_kind == AccountKind.AGENT else _("The applicant")
    return _("Automatically")


def _short(day: str | None) -> str:
    parsed = _day(day)
    return parsed.strftime("%m-%d") if parsed else ""


def _shift_text(detail: dict[str, Any]) -> str:
    """A RESUBMIT that ended a pause: how far the due date moved, and the days the clock stood still."""
    if "shift_days" not in detail:
        return ""
    days = int(detail.get("shift_days") or 0)
    start, end = _short(detail.get("paused_from")), _short(detail.get("paused_to"))
    if days == 0:
        return _("The due date did not move: corrections %(start)s to %(end)s.", start=start, end=end)
    if detail.get("shift_unit") == "working_days":
        return ngettext("Extended by %(num)d working day: corrections %(start)s to %(end)s",
                        "Extended by %(num)d working days: corrections %(start)s to %(end)s", days,
                        start=start, end=end)
    return ngettext("Extended by %(num)d day: corrections %(start)s to %(end)s",
                    "Extended by %(num)d days: corrections %(start)s to %(end)s", days, start=start, end=end)


def _event_view(event: Any) -> dict[str, Any]:
    detail = event.detail
    known = event.action in ACTIONS
    return {
        "at": event.at, "who": _who(event), "action": Action(event.action).label if known else event.action,
        "from": State(event.from_state).label, "to": State(event.to_state).label, "reason": event.reason,
        "shift": _shift_text(detail), "respond_by": _day(detail.get("respond_by")), "due": _day(detail.get("due")),
        "accept_by": _day(detail.get("accept_by")),
    }


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.post("/applications/<int:case_id>/withdraw")
@login_required
def withdraw(case_id: int):
    case = _own_case(case_id)
    form = forms.WithdrawForm()
    if case.state == State.DRAFT:  # a draft was never sent: it is deleted, not withdrawn
        return redirect(url_for("applications.edit", case_id=case.id, _anchor="discard"))
    if not form.validate_on_submit():
        return _detail_page(case, form), 400
    try:
        operations.withdraw_application(case, by=current_user, actor=_actor(), reason=(form.reason.data or "")[:500])
    except DomainError as error:
        return _to_case(case, error)
    db.session.commit()
    flash(_("Your application was withdrawn."), "success")
    return redirect(url_for("applications.detail", case_id=case.id))


# --- the one-time notice -----------------------------------------------------------------------------


@bp.route("/applications/<int:case_id>/correct", methods=["GET", "POST"])
@login_required
def correct(case_id: int):
    case = _own_case(case_id)
    notice = case.open_notice
    if notice is None or not _can_correct(case):
        flash(_("There is nothing to correct on this application now."), "info")
        return redirect(url_for("applications.detail", case_id=case.id))
    form = forms.correction_form(case, operations.catalog_item(case), notice)
    if not form.is_submitted():
        return _correct_page(form)
    checked = form.validate()
    try:
        operations.resubmit_application(case, form.resubmission(), by=current_user, actor=_actor())
    except ValidationFailed as error:
        return _refused(form, _correct_page, error)
    except DomainError as error:
        return _to_case(case, error)
    if not checked:
        return _refused(form, _correct_page)
    db.session.commit()
    flash(_("Thank you: your corrections were sent to the agency."), "success")
    return redirect(url_for("applications.detail", case_id=case.id))


def _correct_page(form: forms.CaseForm) -> str:
    case = form.plan.case
    return render_template("applications/correct.html", case=case, item=form.plan.item, form=form,
                           notice=_notice_view(case, form.plan.item), entries=forms.layout(form),
                           materials=forms.material_layout(form))


# --- receipts ----------------------------------------------------------------------------------------


def _progress_url(token: str) -> str:
    """The QR's address: the public progress page (``progress.show``), or its path until that page exists."""
    if "progress.show" in current_app.view_functions:
        return url_for("progress.show", token=token, _external=True)
    return request.host_url + "q/" + token


def _receipt_case(case_id: int) -> tuple[Application, str | None, Any]:
    """The case and the address its QR code points to; a new token per print, the old ones stay valid."""
    case = _own_case(case_id)
    try:
        url = _progress_url(operations.issue_progress_token(case))
    except DomainError as error:  # a draft has no receipt
        return case, None, _to_case(case, error)
    db.session.commit()
    return case, url, None


def _receipts():
    try:
        from ..documents import receipts
    except ImportError:  # the documents feature is not installed yet
        abort(503)
    return receipts


@bp.get("/applications/<int:case_id>/receipt")
@login_required
def receipt(case_id: int):
    case, url, refused = _receipt_case(case_id)
    return refused or _receipts().render_receipt_html(case, progress_url=url)


@bp.get("/applications/<int:case_id>/receipt.pdf")
@login_required
def receipt_pdf(case_id: int):
    case, url, refused = _receipt_case(case_id)
    if refused:
        return refused
    return file_response(_receipts().render_receipt_pdf(case, progress_url=url), mimetype="application/pdf",
                         filename=f"{case.number}.pdf")


@bp.errorhandler(Conflict)
def _conflict(error: Conflict):
    """Someone else moved the case between loading and saving (S20): say so and show where it stands."""
    db.session.rollback()
    flash(error.message, "error")
    case_id = (request.view_args or {}).get("case_id")
    return redirect(url_for("applications.detail", case_id=case_id) if case_id else url_for("applications.mine"))
