"""The page of 参保人员电话号码新增和更改 (``enrolment.phone_change``): the new number, the code sent to it, and
the filing that changes it (``phone.py``). Found only where the region's catalog has the item; 404 elsewhere.

Thin views: load → check → one operation → commit → respond; refusals are shown at the field (4xx), never a 500.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from ...accounts import operations as account_ops
from ...accounts import otp
from ...accounts.forms import CitizenPhoneForm, CodeForm, apply_errors
from ...accounts.models import OtpPurpose
from ...applications.permissions import cannot_file
from ...catalog.schema import Item
from ...core.audit import actor_of
from ...core.db import db
from ...core.errors import DomainError
from ...core.masking import mask_phone
from ...core.translation import gettext as _
from ...extensions import client_ip
from . import phone

bp = Blueprint("phone_change", __name__, url_prefix="/me/phone")
PENDING_KEY = "phone_change"  # the handle of the code sent (never the number, never the code)


def _item() -> Item:
    catalog = current_app.extensions["portal_catalog"]
    item = next((i for i in catalog.items if i.handler == "enrolment.phone_change"), None)
    if item is None:
        abort(404)
    return item


def _page(form, item: Item, status: int = 200, **context):
    problem = cannot_file(current_user, item)
    person = getattr(current_user, "person", None)
    return render_template("record_changes/phone.html", form=form, item=item, problem=problem,
                           current=person.phone if person is not None else None, **context), status


@bp.route("/", methods=["GET", "POST"])
@login_required
def start():
    item = _item()
    form = CitizenPhoneForm()
    if cannot_file(current_user, item) or not form.validate_on_submit():
        return _page(form, item, 422 if form.is_submitted() else 200)
    try:
        with account_ops.commit_failures():
            issued = phone.request_code(current_user, form.phone.data, actor=actor_of(current_user),
                                        client_ip=client_ip())
    except DomainError as error:
        apply_errors(form, error)
        return _page(form, item, error.status)
    db.session.commit()
    session[PENDING_KEY] = issued.handle
    return redirect(url_for("phone_change.code"))


@bp.route("/code", methods=["GET", "POST"])
@login_required
def code():
    item = _item()
    handle = session.get(PENDING_KEY)
    challenge = otp.find_by_handle(handle) if isinstance(handle, str) else None
    if challenge is None or challenge.purpose != OtpPurpose.PHONE_CHANGE or cannot_file(current_user, item):
        return redirect(url_for("phone_change.start"))
    form = CodeForm()
    context = {"challenge": challenge, "ttl_minutes": current_app.config["PORTAL_OTP_TTL_SECONDS"] // 60}
    if not form.validate_on_submit():
        return render_template("record_changes/phone_code.html", form=form, item=item, **context), \
            422 if form.is_submitted() else 200
    try:
        with account_ops.commit_failures():
            proven = phone.prove(handle, form.code.data, actor=actor_of(current_user), client_ip=client_ip())
        case = phone.file_change(current_user._get_current_object(), item, proven, handle,
                                 actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()  # a refused filing leaves no draft behind (a wrong code was committed above)
        apply_errors(form, error)
        return render_template("record_changes/phone_code.html", form=form, item=item, **context), error.status
    db.session.commit()
    session.pop(PENDING_KEY, None)
    flash(_("Your phone number on record is now %(phone)s. Log in with it from now on.",
            phone=mask_phone(proven.phone)), "success")
    return redirect(url_for("applications.detail", case_id=case.id))
