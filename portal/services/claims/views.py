"""Finance's payment batches at /staff/payments, and the claimant's correction of a failed payment's account.

Finance (财务) sees the payments waiting, makes a batch, downloads its file (a POST: the file holds accounts in
full, each download audited) and imports the bank's return file. Once paid, the claimant and staff open the
signed payment notice (``notice.py``). Other staff get 403 (accounts.staff_area sends
everyone else away). A claimant whose payment failed gives another account on the case page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from ...accounts.models import Role
from ...accounts.permissions import is_staff
from ...core.audit import actor_of
from ...core.db import db
from ...core.downloads import file_response
from ...core.errors import DomainError
from ...core.translation import gettext as _
from . import batches
from .effects import left_open, remind_days
from .models import Payment, PaymentBatch

bp = Blueprint("claims", __name__)
MAX_RETURN_BYTES = 20 * 1024 * 1024


def can_pay(user) -> bool:
    """Payment batches are finance's (财务): the approver of a claim is never the one who pays it (S7)."""
    return is_staff(user) and Role.FINANCE in user.roles


def _finance_only() -> None:
    if not can_pay(current_user):
        abort(403)  # other staff (everyone else never gets here: accounts.staff_area)


@bp.get("/staff/payments")
@login_required
def payments():
    _finance_only()
    waiting = db.session.execute(select(func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0))
                                 .where(Payment.state == "pending")).one()
    recent = db.session.execute(select(PaymentBatch).order_by(PaymentBatch.id.desc()).limit(50)).scalars().all()
    return render_template("claims/payments.html", waiting=waiting, batches=recent, form=FlaskForm(),
                           left_open=left_open(), remind_days=remind_days())


@bp.post("/staff/payments/batches")
@login_required
def create_batch():
    _finance_only()
    FlaskForm().validate_on_submit() or abort(400)
    try:
        batch = batches.create_batch(by=current_user, actor=actor_of(current_user))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("claims.payments"))
    flash(_("Batch %(number)s made: %(count)d payments. Download its file for the bank.", number=batch.number,
            count=batch.line_count), "success")
    return redirect(url_for("claims.payments"))


def _batch(batch_id: int) -> PaymentBatch:
    batch = db.session.get(PaymentBatch, batch_id) if 0 < batch_id < 2**31 else None
    if batch is None:
        abort(404)
    return batch


@bp.post("/staff/payments/batches/<int:batch_id>/file")
@login_required
def batch_file(batch_id: int):
    _finance_only()
    FlaskForm().validate_on_submit() or abort(400)
    batch = _batch(batch_id)
    from ...integrations.bank import get_bank_files

    layout = get_bank_files()
    data = batches.batch_file(batch, actor=actor_of(current_user))
    db.session.commit()
    response = file_response(data, mimetype=layout.media_type.split(";")[0],
                             filename=f"{batch.number}.{layout.extension}")
    response.headers["Content-Type"] = layout.media_type  # with its charset
    return response


@bp.post("/staff/payments/batches/<int:batch_id>/return")
@login_required
def batch_return(batch_id: int):
    _finance_only()
    FlaskForm().validate_on_submit() or abort(400)
    batch = _batch(batch_id)
    upload = request.files.get("file")
    data = upload.read(MAX_RETURN_BYTES + 1) if upload else b""
    if not data:
        flash(_("Choose the bank's return file."), "error")
        return redirect(url_for("claims.payments"))
    try:
        counts = batches.import_return(batch, data, by=current_user, actor=actor_of(current_user))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message if not getattr(error, "reasons", None) else error.reasons[0][1], "error")
        return redirect(url_for("claims.payments"))
    flash(_("Return file of %(number)s imported: %(paid)d paid, %(failed)d failed.", number=batch.number,
            paid=counts["paid"], failed=counts["failed"]), "success")
    for number, reason in counts["unfinished"]:
        flash(_("Case %(number)s is paid but could not be completed: %(reason)s Complete it from its page once this "
                "is resolved.", number=number, reason=reason), "error")
    return redirect(url_for("claims.payments"))


@bp.app_template_global()
def claim_for_applicant(case) -> dict | None:
    """The claim panel of the applicant's case page (None for a case that is no claim)."""
    from .operations import applicant_view

    return applicant_view(case) if case.is_money and case.number else None


@bp.post("/applications/<int:case_id>/payee")
@login_required
def correct_payee(case_id: int):
    from ...applications.models import Application
    from ...applications.permissions import is_applicant
    from .operations import correct_payee as correct

    case = db.session.get(Application, case_id) if 0 < case_id < 2**31 else None
    if case is None or not is_applicant(current_user, case):
        abort(404)
    FlaskForm().validate_on_submit() or abort(400)
    try:
        correct(case, request.form.get("payee_name", ""), request.form.get("payee_bank", ""),
                request.form.get("payee_account", ""), by=current_user, actor=actor_of(current_user))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        for _field, message in getattr(error, "reasons", None) or [(None, error.message)]:
            flash(message, "error")
        return redirect(url_for("applications.detail", case_id=case_id) + "#claim")
    flash(_("Thank you: the payment will be made to the new account with the next batch."), "success")
    return redirect(url_for("applications.detail", case_id=case_id) + "#claim")


# --- the payment notice (待遇拨付通知书) of a paid claim -------------------------------------------------------------


def _notice_response(case) -> object:
    from .notice import render_notice_pdf

    data = render_notice_pdf(case)
    if data is None:
        abort(404)  # nothing paid yet: no notice
    return file_response(data, mimetype="application/pdf", filename=f"payment-notice-{case.number}.pdf")  # S10


@bp.get("/applications/<int:case_id>/payment-notice.pdf")
@login_required
def payment_notice(case_id: int):
    """The claimant's payment notice (their own case only; 404 to anyone else, S6)."""
    from ...applications.models import Application
    from ...applications.permissions import is_applicant

    case = db.session.get(Application, case_id) if 0 < case_id < 2**31 else None
    if case is None or not case.is_money or not is_applicant(current_user, case):
        abort(404)
    return _notice_response(case)


@bp.get("/staff/cases/<int:case_id>/payment-notice.pdf")
@login_required
def staff_payment_notice(case_id: int):
    """The payment notice for staff working cases (audited: it names the payee)."""
    from ...applications.models import Application
    from ...core.audit import record
    from ...workbench.permissions import is_case_worker

    if not is_case_worker(current_user):
        abort(403)
    case = db.session.get(Application, case_id) if 0 < case_id < 2**31 else None
    if case is None or not case.is_money:
        abort(404)
    response = _notice_response(case)
    record("claim.notice_view", actor=actor_of(current_user), object_type="application", object_id=case.id,
           detail={"number": case.number})
    db.session.commit()
    return response
