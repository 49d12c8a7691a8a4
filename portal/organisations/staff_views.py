"""The staff screens of unit registrations: letters of authorisation to check, and registering at the window.

Under /staff (``accounts.staff_area``: citizens and agents 404, staff without a case role 403). Opening a
registration shows the person's full name and ID number to compare with the letter; that, the letter itself and
every decision are audited.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.forms import ConfirmForm, apply_errors
from ..core.audit import actor_of, record
from ..core.db import db
from ..core.errors import DomainError
from ..core.translation import gettext as _
from ..materials.models import MaterialFile
from ..materials.views import file_response
from ..workbench.permissions import is_case_worker
from . import registration as reg_ops
from .forms import RefuseForm, WindowRegistrationForm
from .models import OrgRegistration, RegistrationStatus

bp = Blueprint("organisations_staff", __name__, url_prefix="/staff/registrations")


@bp.before_request
def _case_workers_only():
    if not is_case_worker(current_user):
        abort(403)


def _registration(registration_id: int) -> OrgRegistration:
    found = db.session.get(OrgRegistration, registration_id) if 0 < registration_id < 2**31 else None
    if found is None:
        abort(404)
    return found


def _index(form: WindowRegistrationForm, status: int = 200):
    pending = reg_ops.awaiting_review()
    record("registrations.viewed", actor=actor_of(current_user), object_type="org_registration",
           detail={"count": len(pending)})
    db.session.commit()
    return render_template("organisations/staff_index.html", pending=pending, form=form), status


@bp.get("/")
def index():
    return _index(WindowRegistrationForm())


@bp.post("/window")
def window():
    """Register a unit's first agent at the window: staff have seen the unit's papers and the agent's ID card."""
    form = WindowRegistrationForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    data = reg_ops.FirstAgentRequest(form.credit_code.data, form.org_name.data, form.legal_rep_name.data,
                                     form.agent_name.data, form.agent_id_number.data, form.agent_phone.data,
                                     org_kind=form.org_kind.data, institution_kind=form.institution_kind.data or None,
                                     institution_code=form.institution_code.data or None)
    try:
        reg_ops.register_at_window(data, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        return _index(form, error.status)
    db.session.commit()
    flash(_("The agent is registered as the unit's administrator. They can log in with the unit's credit code and "
            "their mobile number."), "success")
    return redirect(url_for("organisations_staff.index"))


def _show_page(registration: OrgRegistration, **context) -> str:
    return render_template("organisations/staff_show.html", registration=registration, confirm_form=ConfirmForm(),
                           refuse_form=RefuseForm(), Status=RegistrationStatus, **context)


def _decided(registration_id: int, decide, done: str):
    """Run ``decide()`` (one operation on the registration) and commit; a refusal of it goes back to the
    registration's page with its message, nothing saved; done, the list with ``done``."""
    try:
        decide()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organisations_staff.show", registration_id=registration_id))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("organisations_staff.index"))


@bp.get("/<int:registration_id>")
def show(registration_id: int):
    registration = _registration(registration_id)
    record("registration.opened", actor=actor_of(current_user), object_type="org_registration",
           object_id=registration.id)
    db.session.commit()
    return _show_page(registration)


@bp.get("/<int:registration_id>/letter")
def letter(registration_id: int):
    from ..materials.operations import open_document

    registration = _registration(registration_id)
    row = db.session.get(MaterialFile, registration.letter_file_id or 0)
    if row is None:
        abort(404)
    try:
        body = open_document(row, actor=actor_of(current_user), object_type="org_registration",
                             object_id=registration.id)
    except DomainError as error:
        return _show_page(registration, error=error.message), error.status
    db.session.commit()
    # an uploaded file: served as every case material is (S10: an attachment, shown in the browser only when asked
    # and of a type browsers show safely, in a sandbox)
    return file_response(row, body, inline=request.args.get("inline") == "1")


@bp.post("/<int:registration_id>/approve")
def approve(registration_id: int):
    registration = _registration(registration_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _decided(registration_id,
                    lambda: reg_ops.approve(registration, by=current_user, actor=actor_of(current_user)),
                    _("The registration is approved: the person is the unit's administrator online."))


@bp.post("/<int:registration_id>/refuse")
def refuse(registration_id: int):
    registration = _registration(registration_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("organisations_staff.show", registration_id=registration_id))
    return _decided(registration_id,
                    lambda: reg_ops.refuse(registration, form.reason.data, by=current_user,
                                           actor=actor_of(current_user)),
                    _("The registration is refused."))
