"""Certificate pages: my certificates and the one-click request, the printable page and the signed PDF, and
the public verification page reached by the QR code (``/v/<code>``) or by typing the code (``/v``)."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from ..accounts.models import AccountKind
from ..core.audit import actor_of
from ..core.db import db
from ..core.downloads import file_response
from ..core.errors import DomainError
from ..core.translation import gettext as _
from ..extensions import client_ip
from . import documents, operations, verification
from .constants import CertificateKind

bp = Blueprint("certificates", __name__)


class RequestForm(FlaskForm):
    """The CSRF-protected button that requests one certificate; its key makes a double press issue one."""

    key = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])


class VerifyForm(FlaskForm):
    code = StringField(validators=[InputRequired(), Length(max=40)])


def _holder_only() -> None:
    if current_user.kind not in (AccountKind.CITIZEN, AccountKind.AGENT):
        abort(404)


@bp.app_template_global("certificate_of_case")
def certificate_of_case(case):
    """The certificate a case issued, for the case page of its holder (None for anyone else)."""
    if not current_user.is_authenticated or current_user.kind not in (AccountKind.CITIZEN, AccountKind.AGENT):
        return None
    found = operations.issued_by(case)
    if found is None:
        return None
    mine = found.person_id == current_user.person_id if found.person_id else found.unit_id == current_user.unit_id
    return found if mine else None


@bp.get("/certificates/")
@login_required
def mine():
    _holder_only()
    if current_user.kind == AccountKind.CITIZEN and current_user.person is None:
        return redirect(url_for("accounts.bind"))
    form = RequestForm(key=secrets.token_urlsafe(16))
    return render_template("certificates/mine.html", certificates=operations.certificates_of(current_user),
                           items=operations.items_for(current_user), form=form)


@bp.post("/certificates/request/<kind>")
@login_required
def request_certificate(kind: str):
    _holder_only()
    try:
        wanted = CertificateKind(kind)
    except ValueError:
        abort(404)
    form = RequestForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        case = operations.request_certificate(wanted, by=current_user, actor=actor_of(current_user),
                                              idempotency_key=f"certificate-{form.key.data}")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("certificates.mine"))
    db.session.commit()
    issued = operations.issued_by(case)
    if issued is None:  # a rule needs a person to look at it: the case waits in "my applications"
        flash(_("Your request was submitted; the agency will handle it."), "info")
        return redirect(url_for("applications.detail", case_id=case.id))
    flash(_("Your certificate is ready. Print it or download the signed PDF."), "success")
    return redirect(url_for("certificates.show", certificate_id=issued.id))


@bp.get("/certificates/<int:certificate_id>")
@login_required
def show(certificate_id: int):
    _holder_only()
    return documents.render_certificate_html(operations.get_certificate(certificate_id, for_account=current_user))


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def pdf(certificate_id: int):
    _holder_only()
    certificate = operations.get_certificate(certificate_id, for_account=current_user)
    return file_response(documents.render_certificate_pdf(certificate), mimetype="application/pdf",
                         filename=f"{certificate.kind}-{certificate.year}-{certificate.serial:04d}.pdf")


# --- public verification --------------------------------------------------------------------------------


@bp.route("/v", methods=["GET", "POST"])
def verify_form():
    form = VerifyForm()
    if form.validate_on_submit():
        return redirect(url_for("certificates.verify", code=form.code.data.strip()))
    return render_template("certificates/verify_form.html", form=form), 422 if form.is_submitted() else 200


@bp.get("/v/<code>")
def verify(code: str):
    result = verification.verify(code, client_ip=client_ip())
    if result is None:
        return render_template("certificates/verify.html", result=None, form=VerifyForm()), 404
    return render_template("certificates/verify.html", result=result)


@bp.after_request
def _private(response):
    """The verification pages leak nothing onwards: no referrer, no cache, no search engine (S15)."""
    if request.endpoint in ("certificates.verify", "certificates.verify_form"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response
