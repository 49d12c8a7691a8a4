"""The window's screen of an existing unit's agents (/staff/units): find the unit by its 统一社会信用代码, list its
agents (masked) with what they may file, and suspend, resume or remove one — each with the reason the unit gave at
the window (a lost phone, an agent who left, a letter withdrawing the authorisation). Every look and every change
is audited with the reason; a suspension or removal ends the agent's sessions and tokens at once.

The unit's administrator does the same for its own agents at /me/agents; here staff can also act on the
administrator (the unit's own page cannot): removing the administrator lets a new first agent be registered at the
window (/staff/registrations). Open to the window's staff: 受理 (acceptor), 科长 (chief) and the administrator;
other staff get 403, citizens and agents 404 (``accounts.staff_area``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from ..accounts import operations as account_ops
from ..accounts.models import Account, AccountKind, Role
from ..accounts.organisation import unit_by_credit_code
from ..accounts.permissions import is_staff
from ..core import clock
from ..core.audit import Actor, actor_of, record
from ..core.db import db
from ..core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..insurance.models import Unit
from .models import AgentMandate, AgentStatus, OrgKind, ProofMethod

WINDOW_ROLES = frozenset({Role.ACCEPTOR, Role.CHIEF, Role.ADMIN})
ACTIONS = ("suspend", "resume", "remove")

bp = Blueprint("organisations_window", __name__, url_prefix="/staff/units")


def can_manage_at_window(user: Any) -> bool:
    return is_staff(user) and bool(WINDOW_ROLES & set(user.roles))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(message=_l("Say why (as the unit asked at the window, at most 500 characters).")),
        Length(max=500, message=_l("Say why (as the unit asked at the window, at most 500 characters)."))])


# --- operations ----------------------------------------------------------------------------------------------------


def _mandate(agent: Account) -> AgentMandate:
    if agent.mandate is None:  # an agent made before mandates existed: unrestricted
        agent.mandate = AgentMandate(account_id=agent.id, org_kind=OrgKind.UNIT.value, proof=ProofMethod.WINDOW.value,
                                     created_at=clock.now(), changed_at=clock.now())
        db.session.flush()
    return agent.mandate


def act_on_agent(agent: Account, action: str, reason: str, *, by: Account, actor: Actor) -> None:
    """Suspend, resume or remove ``agent`` of a unit at the window, with ``reason``; audited. Refused (nothing
    changed) without a reason, for an action that does not apply (resuming an active agent), or by staff without
    a window role."""
    if not can_manage_at_window(by):
        raise PermissionDenied(_("Only the window's staff may change a unit's agents."))
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 500:
        raise ValidationFailed([("reason", _("Say why (as the unit asked at the window, at most 500 characters)."))])
    if agent.kind != AccountKind.AGENT or agent.unit_id is None or not agent.is_enabled or action not in ACTIONS:
        raise NotFound(_("No such agent."))
    mandate = _mandate(agent)
    suspended = mandate.status == AgentStatus.SUSPENDED
    if (action == "suspend" and suspended) or (action == "resume" and not suspended):
        raise DomainError(_("The agent is already suspended.") if suspended else _("The agent is not suspended."),
                          code="agent_state")
    was_admin = agent.is_unit_admin
    mandate.changed_at = clock.now()
    if action == "suspend":
        mandate.status = AgentStatus.SUSPENDED.value
        account_ops.revoke_all(agent, reason="suspended")
    elif action == "resume":
        mandate.status = AgentStatus.ACTIVE.value
    else:
        mandate.status, agent.is_enabled, agent.is_unit_admin = AgentStatus.REMOVED.value, False, False
        account_ops.revoke_all(agent, reason="removed")
    db.session.flush()
    record({"suspend": "agent.suspended", "resume": "agent.resumed", "remove": "agent.removed"}[action],
           actor=actor, object_type="account", object_id=agent.id,
           detail={"unit": agent.unit_id, "by": "window", "reason": reason, "administrator": was_admin})


def agents_of(unit: Unit) -> list[Account]:
    """The unit's agents that are not removed (suspended ones too), the administrator first."""
    return list(db.session.execute(
        select(Account).where(Account.unit_id == unit.id, Account.kind == AccountKind.AGENT, Account.is_enabled)
        .order_by(Account.is_unit_admin.desc(), Account.id)).scalars())


# --- pages -----------------------------------------------------------------------------------------------------------


@bp.before_request
def _window_staff_only():
    if not can_manage_at_window(current_user):
        abort(403)


def _scope_labels() -> dict[str, str]:
    from ..core.translation import get_locale

    locale = "en" if str(get_locale() or "zh").startswith("en") else "zh"
    catalog = current_app.extensions["portal_catalog"]
    return {**{p.id: p.name.get(locale) for p in catalog.region.parts},
            **{i.code: i.name.get(locale) for i in catalog.items}}


@bp.get("/")
def index():
    """Find a unit by its credit code (``?credit_code=``)."""
    raw = request.args.get("credit_code", "").strip()
    error = None
    if raw:
        try:
            unit = unit_by_credit_code(raw)
        except ValidationFailed as problem:
            unit, error = None, problem.reasons[0][1]
        if unit is not None:
            return redirect(url_for("organisations_window.show", unit_id=unit.id))
        error = error or _("No unit with this unified social credit code is in the records.")
    return render_template("organisations/window_index.html", credit_code=raw, error=error), 422 if error else 200


def _unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id) if 0 < unit_id < 2**31 else None
    if unit is None:
        abort(404)
    return unit


def _page(unit: Unit, form: ReasonForm | None = None, status: int = 200, **context: Any):
    record("unit_agents.viewed", actor=actor_of(current_user), object_type="unit", object_id=unit.id)
    db.session.commit()
    return render_template("organisations/window_unit.html", unit=unit, agents=agents_of(unit),
                           form=form or ReasonForm(), Status=AgentStatus, scope_labels=_scope_labels(),
                           **context), status


@bp.get("/<int:unit_id>")
def show(unit_id: int):
    return _page(_unit(unit_id))


@bp.post("/<int:unit_id>/agents/<int:agent_id>/<any(suspend, resume, remove):action>")
def agent_action(unit_id: int, agent_id: int, action: str):
    unit = _unit(unit_id)
    agent = db.session.get(Account, agent_id) if 0 < agent_id < 2**31 else None
    if agent is None or agent.unit_id != unit.id:
        abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _page(unit, form, 422, failed=agent.id)
    try:
        act_on_agent(agent, action, form.reason.data, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        form.reason.errors = [error.message]
        return _page(unit, form, error.status, failed=agent.id)
    db.session.commit()
    flash({"suspend": _("The agent is suspended: they cannot log in until resumed."),
           "resume": _("The agent is resumed."),
           "remove": _("The agent is removed: their sessions have ended.")}[action], "success")
    return redirect(url_for("organisations_window.show", unit_id=unit.id))
