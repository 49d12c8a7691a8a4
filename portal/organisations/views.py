"""Units online: registering the first agent (电子营业执照 or 授权委托书) and the administrator's agent pages.

Thin views: load → check permission → one operation → commit → respond. The staff screens are in ``staff_views``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ..accounts import operations as account_ops
from ..accounts.forms import ConfirmForm, apply_errors
from ..accounts.models import Account
from ..accounts.permissions import can_manage_agents
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import DomainError
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from . import registration as reg_ops
from .forms import AddAgentForm, AgentScopeForm, OnlineRegistrationForm
from .models import AgentStatus, OrgRegistration, RegistrationStatus

bp = Blueprint("organisations", __name__)
REG_KEY = "org_registration"  # the flask session keeps the id of the registration this browser started


def _ip() -> str:
    return request.remote_addr or "unknown"


def _request_of(form: Any) -> reg_ops.FirstAgentRequest:
    return reg_ops.FirstAgentRequest(form.credit_code.data, form.org_name.data, form.legal_rep_name.data,
                                     form.agent_name.data, form.agent_id_number.data, form.agent_phone.data,
                                     org_kind=form.org_kind.data or "unit",
                                     institution_kind=form.institution_kind.data or None,
                                     institution_code=form.institution_code.data or None)


def _institution_form(form: Any) -> None:
    """A 定点医药机构 registers (``?org=institution``): the labels speak of the institution."""
    if request.method == "GET" and request.args.get("org") == "institution":
        form.org_kind.data = "institution"
    if form.org_kind.data == "institution":
        form.org_name.label.text = _("Institution name (as on the practising or business licence)")


# --- registering the first agent ----------------------------------------------------------------------------


@bp.route("/units/register", methods=["GET", "POST"])
def register():
    form = OnlineRegistrationForm()
    _institution_form(form)
    context = {"license_available": current_app.config.get("PORTAL_BUSINESS_LICENSE_BACKEND") != "off"}
    if not form.validate_on_submit():
        return render_template("organisations/register.html", form=form, **context), \
            422 if form.is_submitted() else 200
    letter = request.files.get(form.letter.name)
    if form.method.data == "letter" and (letter is None or not letter.filename):
        form.letter.errors = [_("Choose the signed letter of authorisation (PDF, JPG or PNG).")]
        return render_template("organisations/register.html", form=form, **context), 422
    try:  # a refusal leaves nothing behind (an uploaded letter's stored body is swept as an orphan)
        if form.method.data == "letter":
            registration = reg_ops.submit_letter(_request_of(form), letter.stream, letter.filename,
                                                 actor=actor_of(current_user), client_ip=_ip())
        else:
            registration, target = reg_ops.start_with_license(
                _request_of(form), return_url=url_for("organisations.license_return", _external=True),
                actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        return render_template("organisations/register.html", form=form, **context), error.status
    db.session.commit()
    session[REG_KEY] = registration.id
    if form.method.data == "letter":
        return redirect(url_for("organisations.registered"))
    # a link, not a redirect: the page's form-action policy keeps form posts on this site (core.web)
    return render_template("organisations/license_go.html", registration=registration, target=target)


@bp.get("/units/register/license")
def license_return():
    """Where the 电子营业执照 service sends the browser back, with the ticket of the authorisation."""
    try:
        registration = reg_ops.registration_of_ticket(request.args.get("ticket", ""))
        if session.get(REG_KEY) != registration.id:  # only the browser that started it finishes it
            abort(404)
        with account_ops.commit_failures():
            reg_ops.finish_with_license(registration, actor=actor_of(current_user))
    except DomainError as error:
        return render_template("organisations/registered.html", error=error.message), error.status
    db.session.commit()
    return redirect(url_for("organisations.registered"))


@bp.get("/units/register/done")
def registered():
    registration = db.session.get(OrgRegistration, session.get(REG_KEY) or 0)
    if registration is None:
        return redirect(url_for("organisations.register"))
    return render_template("organisations/registered.html", registration=registration, Status=RegistrationStatus)


# --- the administrator's agent pages --------------------------------------------------------------------------


def _catalog() -> Any:
    return current_app.extensions["portal_catalog"]


def _scope_choices(form: AgentScopeForm) -> None:
    from ..catalog.schema import Audience

    catalog = _catalog()
    audience = Audience.institution if current_user.institution_id else Audience.unit
    parts = {item.part for item in catalog.items if audience in item.audience}
    form.parts.choices = [SelectChoice(p.id, p.name.get(_locale())) for p in catalog.region.parts if p.id in parts]
    form.items.choices = [SelectChoice(item.code, item.name.get(_locale())) for item in catalog.items
                          if audience in item.audience]


def _locale() -> str:
    from ..core.translation import get_locale

    return str(get_locale() or "zh")


def _scope_of(form: AgentScopeForm) -> dict[str, list[str]] | None:
    if form.everything.data != "some":
        return None
    return {"items": list(form.items.data or ()), "parts": list(form.parts.data or ())}


def _managed_unit():
    unit = current_user.organisation if current_user.is_authenticated else None
    if not can_manage_agents(current_user, unit):
        abort(404)
    return unit


def _agents_page(form: AddAgentForm, status: int = 200):
    unit = _managed_unit()
    return render_template("organisations/agents.html", form=form, unit=unit, agents=account_ops.unit_agents(unit),
                           confirm_form=ConfirmForm(), Status=AgentStatus, scope_labels=_scope_labels()), status


def _scope_labels() -> dict[str, str]:
    catalog = _catalog()
    return {**{p.id: p.name.get(_locale()) for p in catalog.region.parts},
            **{i.code: i.name.get(_locale()) for i in catalog.items}}


@bp.route("/me/agents", methods=["GET", "POST"])
@login_required
def agents():
    unit = _managed_unit()
    form = AddAgentForm()
    _scope_choices(form)
    if not form.validate_on_submit():
        return _agents_page(form, 422 if form.is_submitted() else 200)
    data = account_ops.NewAgent(form.phone.data, form.name.data, form.id_number.data or None, _scope_of(form),
                                form.expires_on.data)
    try:
        account_ops.add_agent(unit, data, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        return _agents_page(form, error.status)
    db.session.commit()
    flash(_("The agent was added. They can now log in with the unit's credit code and their mobile number."),
          "success")
    return redirect(url_for("organisations.agents"))


def _agent_or_404(agent_id: int) -> Account:
    unit = _managed_unit()
    agent = db.session.get(Account, agent_id) if 0 < agent_id < 2**31 else None
    if agent is None or agent.organisation is not unit or not agent.is_enabled or agent.is_unit_admin:
        abort(404)
    return agent


@bp.route("/me/agents/<int:agent_id>", methods=["GET", "POST"])
@login_required
def agent(agent_id: int):
    """Change what an agent may file and see, and their last day."""
    agent = _agent_or_404(agent_id)
    form = AgentScopeForm()
    _scope_choices(form)
    if not form.is_submitted():
        scope = agent.mandate.scope if agent.mandate else None
        form.everything.data = "all" if scope is None else "some"
        form.parts.data, form.items.data = (scope or {}).get("parts", []), (scope or {}).get("items", [])
        form.expires_on.data = agent.mandate.expires_on if agent.mandate else None
    if form.validate_on_submit():
        try:
            account_ops.change_agent(agent, account_ops.AgentChange(_scope_of(form), form.expires_on.data),
                                     by=current_user, actor=actor_of(current_user))
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("The agent's permissions were changed."), "success")
            return redirect(url_for("organisations.agents"))
    status = 422 if form.is_submitted() else 200
    return render_template("organisations/agent.html", form=form, agent=agent), status


_ACTIONS = {
    "suspend": (account_ops.suspend_agent, _l("The agent is suspended and was logged out everywhere.")),
    "resume": (account_ops.resume_agent, _l("The agent may act for the unit again.")),
    "remove": (account_ops.remove_agent, _l("The agent was removed and logged out everywhere.")),
}


@bp.post("/me/agents/<int:agent_id>/<any(suspend, resume, remove):action>")
@login_required
def agent_action(agent_id: int, action: str):
    agent = _agent_or_404(agent_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operation, done = _ACTIONS[action]
    try:
        operation(agent, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organisations.agents"))
    db.session.commit()
    flash(str(done), "success")
    return redirect(url_for("organisations.agents"))
