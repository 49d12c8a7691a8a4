"""The staff area (/staff/…): queues, the case page, claiming, decisions, batch acceptance.

Stricter than the rest of the portal: only staff who work cases get in (others get 404, an administrator
403); a staff session is tied to the address it logged in from, and is ended if used from another (S3,
on top of the 15-minute idle and 8-hour absolute limits of ``accounts.auth``); pages are never cached
and send no referrer. Every page that shows personal data writes an audit row (S13).

Views are thin: load → permission → one operation → commit → respond. Refusals come back as a flash on
the page they came from; a case that moved under the member of staff (S20) says so.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..accounts import auth
from ..accounts import binding as binding_ops
from ..accounts.forms import ConfirmForm, WindowConfirmForm
from ..accounts.models import Account, PersonBinding, Role
from ..accounts.operations import commit_failures
from ..applications import operations as case_ops
from ..applications.constants import FORM_ENTRY, Action, Defect, MaterialMode, State
from ..applications.models import Application
from ..core import clock
from ..core.audit import actor_of, record
from ..core.db import commit_with_response, db
from ..core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ..core.failures import conflict_on_race
from ..core.masking import mask_id_number, mask_name
from ..core.translation import gettext as _
from ..core.translation import ngettext
from ..core.validators import normalize_id_number
from ..insurance.models import id_number_index, normalize_name, person_name_index
from ..services import handler_for
from ..services.claims import operations as claims
from ..services.long_term_care import operations as care
from . import forms, menu, operations, queues, reasons
from .permissions import actions_for, cannot_claim, cannot_decide, is_case_worker, is_chief

bp = Blueprint("workbench", __name__, url_prefix="/staff")
SEARCH_KEY = "wb_search"  # the session keeps the blind index and the masked number, never the number
REVEAL_KEY = "wb_reveal"  # ids of the cases whose full details this member of staff asked to see (no values)


@bp.before_request
def _staff_only():
    # anonymous visitors, citizens and agents never get here (accounts.staff_area: one rule for /staff)
    login = auth.current_login_session()
    if login is not None and login.ip and login.ip != request.remote_addr:
        record("session.ip_changed", actor=actor_of(current_user), object_type="account", object_id=current_user.id,
               result="denied", detail={"from": login.ip, "to": request.remote_addr})
        auth.revoke_sessions(current_user, "ip changed")
        db.session.commit()
        auth.forget_browser()
        flash(_("Your session was ended because it was used from another network address. Please log in again."),
              "error")
        return redirect(url_for("accounts.login_staff"))
    if not is_case_worker(current_user):
        abort(403)
    return None


@bp.after_request
def _private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_template_global("staff_menu")
def _staff_menu() -> list[tuple[str, str, bool]]:
    return menu.staff_menu()


@bp.app_template_global("staff_landing")
def _staff_landing() -> str:
    return menu.landing_url(current_user)


@bp.app_template_global("staff_may_open")
def _staff_may_open(endpoint: str) -> bool:
    """Whether the current member of staff may open ``endpoint`` (the menu's rule, for links inside pages)."""
    return menu.may_open(current_user, endpoint)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"queues": list(queues.Queue), "is_chief": is_chief(current_user), "Queue": queues.Queue}


def _actor():
    return actor_of(current_user)


# --- queues ------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    return redirect(url_for("workbench.queue", name=queues.Queue.INTAKE.value))


def _catalog():
    return current_app.extensions["portal_catalog"]


def _filter_form() -> forms.FilterForm:
    form = forms.FilterForm(request.args)
    form.item.choices, form.agency.choices, form.state.choices = (list(c) for c in forms.filter_choices(_catalog()))
    return form


def _filters(form: forms.FilterForm) -> queues.Filters:
    form.validate()  # wrong dates are dropped with their message; the queue still shows
    codes: set[str] | None = None
    if form.item.data:
        codes = {form.item.data}
    if form.agency.data:
        unit_codes = {i.code for i in _catalog().items if i.accepting_unit and i.accepting_unit.zh == form.agency.data}
        codes = unit_codes if codes is None else codes & unit_codes
    state = State(form.state.data) if form.state.data in {s.value for s in State} else None
    search = session.get(SEARCH_KEY) or {}
    return queues.Filters(
        item_codes=tuple(sorted(codes)) if codes is not None else None, state=state,
        submitted_from=form.submitted_from.data if not form.submitted_from.errors else None,
        submitted_to=form.submitted_to.data if not form.submitted_to.errors else None,
        person_index=search.get("index"), name_index=search.get("name_index"),
        mine_for=current_user.id if form.mine.data == "1" else None)


@bp.get("/queues/<name>")
def queue(name: str):
    try:
        chosen = queues.Queue(name)
    except ValueError:
        abort(404)
    form = _filter_form()
    filters = _filters(form)
    page = queues.queue_page(chosen, filters, after=request.args.get("after"))
    searched = filters.person_index is not None or filters.name_index is not None
    operations.record_queue_view(chosen.value, page.rows, actor=_actor(), searched=searched)
    commit_with_response()
    today = clock.today()
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("workbench/queue.html", queue=chosen, page=page, form=form, today=today,
                           cutoff=queues.due_soon_cutoff(today), search=session.get(SEARCH_KEY),
                           next_url=url_for("workbench.queue", name=name, after=page.next_cursor, **args)
                           if page.next_cursor else None, first_url=url_for("workbench.queue", name=name, **args))


@bp.post("/search")
def search():
    """Find an applicant's cases by 身份证 or by exact full name (through the blind indexes: both are sealed); what was
    typed never enters a URL, and the session keeps only the index and the masked value."""
    form = forms.SearchForm()
    back = _back_to_queue()
    if not form.validate_on_submit():
        flash(_("The search could not be read. Please try again."), "error")
        return redirect(back)
    raw = (form.id_number.data or "").strip()
    if not raw:
        session.pop(SEARCH_KEY, None)
        return redirect(back)
    if not any(c.isdigit() for c in raw):  # a name: 身份证 numbers are digits (and X)
        name = normalize_name(raw)
        if len(name) < 2 or not all(c.isprintable() for c in name):
            flash(_("Enter the applicant's full name exactly as on the ID card, or their ID number."), "error")
            return redirect(back)
        session[SEARCH_KEY] = {"name_index": person_name_index(name), "shown": mask_name(name)}
        return redirect(back)
    try:
        number = normalize_id_number(raw)
    except ValidationFailed as error:
        flash(error.reasons[0][1], "error")
        return redirect(back)
    session[SEARCH_KEY] = {"index": id_number_index(number), "shown": mask_id_number(number)}
    return redirect(back)


def _back_to_queue() -> str:
    name = request.form.get("queue", queues.Queue.INTAKE.value)
    if name not in {q.value for q in queues.Queue}:
        name = queues.Queue.INTAKE.value
    return url_for("workbench.queue", name=name)


@bp.post("/batch-accept")
def batch_accept():
    form = forms.BatchForm()
    if not form.validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("case") if v.isdigit()]
    try:
        result = operations.batch_accept(ids, by=current_user, actor=_actor())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_back_to_queue())
    db.session.commit()
    flash(ngettext("%(num)d case accepted.", "%(num)d cases accepted.", len(result.accepted)), "success")
    for case, why in result.skipped:
        flash(_("%(number)s was not accepted: %(why)s", number=case.number, why=why), "info")
    return redirect(_back_to_queue())


# --- the case page -----------------------------------------------------------------------------------


def _case(case_id: int) -> Application:
    return operations.get_case(case_id, for_account=current_user)


@bp.get("/cases/<int:case_id>")
def case(case_id: int):
    case = _case(case_id)
    full = _revealed(case)
    operations.record_case_view(case, actor=_actor(), full=full)
    context = _case_context(case, full=full, reveal_account=True)  # showing a payee's account is audited too
    commit_with_response()
    return render_template("workbench/case.html", **context)


@bp.get("/cases/<int:case_id>/roster")
def case_roster(case_id: int):
    """The case's uploaded roster as a paged table with each row's check (masked values); audited as a view."""
    from ..rosters import store as rosters
    from ..rosters.views import PER_PAGE, view_model

    case = _case(case_id)
    item = _catalog().get(case.item_code)
    spec = rosters.roster_spec(item, case.audience) if item is not None else None
    roster = rosters.roster_of(case) if spec is not None else None
    if roster is None:
        abort(404)
    page = request.args.get("page", "1")
    number = min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1
    model = view_model(roster, spec, page=number, errors_only=request.args.get("show") == "errors")
    record("roster.view", actor=_actor(), object_type="application", object_id=case.id,
           detail={"number": case.number, "page": model["page"], "per_page": PER_PAGE})
    db.session.commit()
    return render_template("workbench/roster.html", case=case, item=item, model=model)


def _revealed(case: Application) -> bool:
    """Full names and numbers on the page: asked for ("显示完整信息") and still allowed (the case is still this
    member of staff's, still open). Once the claim ends the page is masked again."""
    return ([case.id, _claim_mark(case)] in session.get(REVEAL_KEY, [])
            and operations.cannot_reveal(case, current_user) is None)


def _claim_mark(case: Application) -> str:
    """Which claim a reveal belongs to: released and taken again, the case is masked until asked again."""
    return case.assigned_at.isoformat() if case.assigned_at else ""


@bp.post("/cases/<int:case_id>/reveal")
def reveal(case_id: int):
    """"显示完整信息": a post (CSRF), audited; the page then shows the values. Nothing of them is in a URL."""
    _version_form()
    case = _case(case_id)
    try:
        operations.reveal_full_values(case, by=current_user, actor=_actor())
    except DomainError as error:
        db.session.commit()  # the refused attempt stays in the audit log
        return _to_case(case_id, error)
    db.session.commit()
    kept = [mark for mark in session.get(REVEAL_KEY, []) if mark[0] != case_id]
    session[REVEAL_KEY] = [[case_id, _claim_mark(case)], *kept][:20]
    return redirect(url_for("workbench.case", case_id=case_id, _anchor="facts-title"))


def _case_context(case: Application, *, full: bool = False, reveal_account: bool = False) -> dict[str, Any]:
    item = _catalog().get(case.item_code)
    mine = case.assignee_id == current_user.id
    actions = [a for a in actions_for(current_user, case) if a in operations.DECISIONS] if mine else []
    region = current_app.config["PORTAL_REGION"]
    return {
        "case": case, "item": item, "mine": mine, "actions": actions,
        "claim_problem": cannot_claim(current_user, case), "decide_problem": cannot_decide(current_user, case),
        "form_rows": _form_rows(case, item, full=full), "materials": _materials(case, item), "full": full,
        "reveal_problem": operations.cannot_reveal(case, current_user),
        "timeline": case.events, "notice": case.open_notice, "notices": case.notices,
        "checklist": _checklist(case, item) if Action.REQUEST_CORRECTION in actions else None,
        "templates": {a: reasons.templates(region, case.item_code, a) for a in reasons.ACTIONS},
        "version_form": forms.VersionForm(), "decision_form": forms.DecisionForm(), "notice_form": forms.NoticeForm(),
        "assign_form": forms.AssignForm(),
        "staff": operations.staff_choices(case) if is_chief(current_user) else [],
        "openers": operations.openers(case, by=current_user) if is_chief(current_user) else None,
        "flags": _flags(case), "Action": Action, "defects": list(Defect),
        "claim": claims.staff_view(case, reveal_to=_actor() if reveal_account and case.state == State.PAYING
                                   and Role.FINANCE in current_user.roles else None),
        "action_labels": {a.value: a.label for a in Action}, "state_labels": {s.value: s.label for s in State},
        "sets_validity": item is not None and getattr(handler_for(item), "staff_sets_validity", False),
        # the handler's own wording of the last day staff set (an agreement's), as (label, hint) Names
        "validity_label": item is not None and getattr(handler_for(item), "validity_label", None),
        "ltc": care.staff_view(case, item, by=current_user),
    }


def _flags(case: Application) -> dict[str, bool]:
    today = clock.today()
    due = case.work_due
    return {"overdue": due is not None and due < today,
            "due_soon": due is not None and today <= due <= queues.due_soon_cutoff(today)}


def _form_rows(case: Application, item: Any, *, full: bool = False) -> list[tuple[str, Any]]:
    """The filed form as label/value pairs, personal numbers masked (S12) unless ``full`` (the claimed case after
    "显示完整信息"); a table as rows of cells."""
    from ..applications import fields
    from ..applications.forms import shown_value

    if item is None:
        return []
    if full:
        shown_value = _full_value
    data = case.form_data
    out: list[tuple[str, Any]] = []
    for spec in case_ops.specs_for(case, item):
        value = data.get(spec.key)
        if spec.columns and isinstance(value, list):
            rows = [[(fields.label_of(c), shown_value(c, row.get(c.key))) for c in spec.columns]
                    for row in value if isinstance(row, dict)]
            out.append((fields.label_of(spec), rows))
        else:
            out.append((fields.label_of(spec), shown_value(spec, value)))
    return out


def _full_value(spec: Any, value: Any) -> str:
    from ..applications.forms import option_labels

    if value in (None, ""):
        return ""
    if spec.options:
        return option_labels(spec, value)
    return "、".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _materials(case: Application, item: Any) -> list[dict[str, Any]]:
    from ..materials import operations as files

    if item is None:
        return []
    modes = case.materials
    stored = files.files_of(case, for_account=current_user)
    return [{"id": m.id, "name": m.name.zh, "required": m.requirement.value,
             "mode": MaterialMode(modes[m.id]).label if m.id in modes else _("Not stated"),
             "files": stored.get(m.id, [])} for m in item.materials]


def _checklist(case: Application, item: Any) -> list[tuple[str, str]]:
    rows = [(m.id, m.name.zh) for m in item.materials] if item is not None else []
    return [*rows, (FORM_ENTRY, _("The application form"))]


def _to_case(case_id: int, error: DomainError | None = None, message: str | None = None):
    if error is not None:
        db.session.rollback()
        text = error.message
        if isinstance(error, Conflict):
            current = db.session.get(Application, case_id)
            if current is not None and current.assignee is not None and current.assignee_id != current_user.id:
                text = _("%(message)s %(name)s is working on it now.", message=error.message,
                         name=current.assignee.display_name)
        flash(text, "error")
    elif message:
        flash(message, "success")
    return redirect(url_for("workbench.case", case_id=case_id))


def _version_form(form_class=forms.VersionForm):
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    return form


@bp.post("/cases/<int:case_id>/claim")
def claim(case_id: int):
    form = _version_form()
    case = _case(case_id)
    try:
        operations.claim_case(case, by=current_user, actor=_actor(), version=form.version.data)
        db.session.commit()
    except DomainError as error:
        return _to_case(case_id, error)
    return _to_case(case_id, message=_("You are working on this case now."))


@bp.post("/cases/<int:case_id>/release")
def release(case_id: int):
    form = _version_form()
    case = _case(case_id)
    try:
        operations.release_case(case, by=current_user, actor=_actor(), version=form.version.data)
        db.session.commit()
    except DomainError as error:
        return _to_case(case_id, error)
    return _to_case(case_id, message=_("The case is back in its queue."))


@bp.post("/cases/<int:case_id>/assign")
def assign(case_id: int):
    form = forms.AssignForm()
    case = _case(case_id)
    if not form.validate_on_submit():
        flash(_("Choose a member of staff."), "error")
        return redirect(url_for("workbench.case", case_id=case_id))
    assignee = db.session.get(Account, form.assignee.data) if 0 < form.assignee.data < 2**31 else None
    try:
        operations.assign_case(case, assignee, by=current_user, actor=_actor(), version=form.version.data)
        db.session.commit()
    except DomainError as error:
        return _to_case(case_id, error)
    return _to_case(case_id, message=_("The case is assigned to %(name)s.", name=assignee.display_name))


@bp.post("/cases/<int:case_id>/decide")
def decide(case_id: int):
    form = _version_form(forms.DecisionForm)
    case = _case(case_id)
    try:
        action = Action(form.action.data)
    except ValueError:
        return _to_case(case_id, NotFound(_("No such decision.")))
    decision = operations.Decision(action, reason=_reason(case, action, form), result=form.result.data or "",
                                   amount=form.amount.data or "", amount_reason=form.amount_reason.data or "",
                                   valid_until=form.valid_until.data or "")
    try:
        with conflict_on_race():  # the applicant changed the case meanwhile (e.g. replaced a file): say so
            operations.decide(case, decision, by=current_user, actor=_actor(), version=form.version.data)
            db.session.commit()
    except DomainError as error:
        return _to_case(case_id, error)
    return _to_case(case_id, message=_("Done: %(action)s. The case is now “%(state)s”.", action=action.label,
                                       state=case.state_enum.label))


def _reason(case: Application, action: Action, form: forms.DecisionForm) -> str:
    """The reason typed, or else the template chosen (by its place in the item's list)."""
    typed = (form.reason.data or "").strip()
    choice = form.template.data or ""
    if typed or not choice.isdigit():
        return typed
    options = reasons.templates(current_app.config["PORTAL_REGION"], case.item_code, action.value)
    return options[int(choice)] if int(choice) < len(options) else ""


@bp.post("/cases/<int:case_id>/assessment")
def assessment(case_id: int):
    """长期护理 assessment: the score of each item of the scale and the date; refused input comes back at the items,
    with what was entered kept."""
    form = _version_form()
    case = _case(case_id)
    values = {key[len("score_"):]: value for key, value in request.form.items() if key.startswith("score_")}
    values["assessed_on"] = request.form.get("assessed_on", "")
    try:
        with conflict_on_race():
            operations._check_version(case, form.version.data)
            _row, result = care.record_assessment(case, values, values["assessed_on"], by=current_user,
                                                  actor=_actor())
            db.session.commit()
    except ValidationFailed as error:
        db.session.rollback()
        context = _case_context(case)
        context["ltc"] = care.staff_view(case, context["item"], by=current_user, values=values, errors=error.fields)
        flash(_("The assessment was not recorded: see the items marked below."), "error")
        return render_template("workbench/case.html", **context), 422
    except DomainError as error:
        return _to_case(case_id, error)
    return _to_case(case_id, message=_("Assessment recorded: %(total)d points, %(level)s.", total=result.total,
                                       level=result.band.zh))


@bp.post("/cases/<int:case_id>/notice")
def notice(case_id: int):
    form = _version_form(forms.NoticeForm)
    case = _case(case_id)
    item = _catalog().get(case.item_code)
    data = form.notice_input(request.form, [m.id for m in item.materials] if item else [],
                             new_defect=bool(case.notices))
    decision = operations.Decision(Action.REQUEST_CORRECTION, notice=data)
    try:
        with conflict_on_race():  # the applicant changed the case meanwhile (e.g. replaced a file): say so
            operations.decide(case, decision, by=current_user, actor=_actor(), version=form.version.data)
            db.session.commit()
    except DomainError as error:
        return _to_case(case_id, error)
    return _to_case(case_id, message=_("The one-time notice was sent to the applicant."))


# --- window verification of real-name bindings ------------------------------------------------------------


@bp.get("/bindings")
def bindings():
    """Pending real-name bindings, for the member of staff who has the person and their ID card at the window."""
    pending = binding_ops.pending_at_window()
    record("bindings.viewed", actor=_actor(), object_type="person_binding", detail={"count": len(pending)})
    commit_with_response()
    return render_template("workbench/bindings.html", pending=pending, form=WindowConfirmForm(),
                           refuse_form=ConfirmForm())


def _binding_or_404(binding_id: int) -> PersonBinding:
    binding = db.session.get(PersonBinding, binding_id)
    if binding is None:
        abort(404)
    return binding


@bp.post("/bindings/<int:binding_id>/confirm")
def binding_confirm(binding_id: int):
    binding = _binding_or_404(binding_id)
    form = WindowConfirmForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("workbench.bindings"))
    try:
        with commit_failures():
            binding_ops.confirm_at_window(binding, form.id_number.data, by=current_user, actor=_actor())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("workbench.bindings"))
    db.session.commit()
    flash(_("The binding is confirmed. The person can now see their records online."), "success")
    return redirect(url_for("workbench.bindings"))


@bp.post("/bindings/<int:binding_id>/refuse")
def binding_refuse(binding_id: int):
    binding = _binding_or_404(binding_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        binding_ops.refuse_at_window(binding, by=current_user, actor=_actor())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("workbench.bindings"))
    db.session.commit()
    flash(_("The binding request was refused."), "success")
    return redirect(url_for("workbench.bindings"))
