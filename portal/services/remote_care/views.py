"""Pages of 异地就医备案: choose the category, file (with a commitment or with proof), my filings, one filing
with its validity, change, cancel, extend, and the printable 异地就医登记备案表.

Thin views: load → check → one operation → commit → respond. A filing route answers 404 for another person's
filing (S6). Refusals become form errors (400) or a flash on the filing's page; never a 500.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...applications.permissions import cannot_file
from ...commitments import operations as commitments
from ...commitments.models import CommitmentSignature
from ...commitments.texts import REMOTE_CARE_FILING, current_text
from ...core.audit import actor_of
from ...core.db import db
from ...core.downloads import file_response
from ...core.errors import Conflict, DomainError, ValidationFailed
from ...core.formatting import local_date
from ...core.translation import gettext as _
from ...insurance.filings import RemoteCareFiling
from ...national.filings import report_status
from . import divisions, document, forms, operations, rules, sheets
from .policy import BY_KEY, policy_for, proof_materials, rule

bp = Blueprint("remote_care", __name__, url_prefix="/remote-care")


def _filing(filing_id: int) -> RemoteCareFiling:
    return operations.get_filing(filing_id, for_account=current_user)


def _back(filing: RemoteCareFiling, error: DomainError | None = None):
    if error is not None:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("remote_care.detail", filing_id=filing.id))


@bp.get("/")
def index():
    offered = operations.offered_categories()
    existing = rules.long_term_filing(getattr(current_user, "person_id", None))
    item = offered[0][1] if offered else None
    return render_template("remote_care/index.html", offered=offered, existing=existing, tips=document.tips(item),
                           problem=cannot_file(current_user, item) if item else None)


@bp.get("/divisions.json")
def divisions_index():
    """Every division one may file to, with pinyin (computed once per process), for the page's place picker."""
    response = make_response(divisions.picker_json())
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/file/<category>", methods=["GET", "POST"])
@login_required
def file(category: str):
    offered = {c.key: (c, i) for c, i in operations.offered_categories()}
    if category not in offered:  # unknown, or a category this region does not offer
        return redirect(url_for("remote_care.index"))
    cat, item = offered[category]
    problem = cannot_file(current_user, item)
    form = forms.FilingForm()
    form.prepare(bool(proof_materials(item)), operations.insurance_of(getattr(current_user, "person", None)))
    page = _file_page(form, cat, item, problem)
    if problem or not form.is_submitted() or request.form.get("action") == "places":
        return page(), 400 if problem and form.is_submitted() else 200
    if not form.validate():
        return page(), 400
    try:
        case = operations.file_remote_care(form.filing_input(category), by=current_user, actor=actor_of(current_user),
                                           idempotency_key=form.idempotency_key.data or None)
    except Conflict as error:
        return _offer_change(error)
    except ValidationFailed as error:
        db.session.rollback()
        form.apply_reasons(error)
        return page(), 400
    db.session.commit()
    return _after_filing(case)


def _file_page(form, cat, item, problem):
    def render():
        text = current_text(current_app.config["PORTAL_REGION"], REMOTE_CARE_FILING)
        region = current_app.config["PORTAL_REGION"]
        return render_template("remote_care/file.html", form=form, category=cat, item=item, problem=problem,
                               commitment=text if proof_materials(item) else None, tips=document.tips(item),
                               proofs=proof_materials(item), policy=policy_for(region), sheet=sheets.sheet_for(region),
                               emergency_window=rule(item, "emergency_filing_within_working_days") is not None,
                               province_only=sorted(divisions.PROVINCE_LEVEL_ONLY))
    return render


def _offer_change(error: Conflict):
    db.session.rollback()
    flash(error.message, "error")
    existing = rules.long_term_filing(current_user.person_id)
    if error.code == "long_term_filing_exists" and existing is not None:
        return redirect(url_for("remote_care.change", filing_id=existing.id))
    return redirect(url_for("remote_care.mine"))


def _after_filing(case):
    filing = db.session.execute(
        select(RemoteCareFiling).where(RemoteCareFiling.application_id == case.id)).scalar_one_or_none()
    if filing is not None:
        flash(_("Your filing %(number)s is valid from now on.", number=filing.number), "success")
        return redirect(url_for("remote_care.detail", filing_id=filing.id))
    if case.state == "draft":
        flash(_("Your filing is saved. Upload the proof documents, then submit it."), "info")
        return redirect(url_for("applications.edit", case_id=case.id))
    flash(_("Your filing was submitted. Its number is %(number)s.", number=case.number), "success")
    return redirect(url_for("applications.detail", case_id=case.id))


@bp.get("/filings")
@login_required
def mine():
    filings = operations.filings_of(current_user)
    return render_template("remote_care/mine.html", filings=filings, reports={f.id: report_status(f) for f in filings})


@bp.get("/filings/<int:filing_id>")
@login_required
def detail(filing_id: int):
    filing = _filing(filing_id)
    signature = db.session.get(CommitmentSignature, filing.commitment_id) if filing.commitment_id else None
    return render_template("remote_care/detail.html", filing=filing, form=forms.ConfirmForm(),
                           category=BY_KEY.get(filing.category), extension_opens=operations.extension_opens(filing),
                           problems=commitments.verify_signature(signature) if signature else None,
                           report=report_status(filing))


@bp.route("/filings/<int:filing_id>/change", methods=["GET", "POST"])
@login_required
def change(filing_id: int):
    filing = _filing(filing_id)
    form = forms.ChangeForm()
    if not form.is_submitted():
        form.province.data = filing.destination_code[:2] + "0000"
    form.fill_places()
    if not form.is_submitted() or request.form.get("action") == "places":
        return render_template("remote_care/change.html", filing=filing, form=form,
                               province_only=sorted(divisions.PROVINCE_LEVEL_ONLY))
    try:
        operations.change_filing(filing, form.change_input(), by=current_user, actor=actor_of(current_user))
    except ValidationFailed as error:
        db.session.rollback()
        form.apply_reasons(error)
        return render_template("remote_care/change.html", filing=filing, form=form,
                               province_only=sorted(divisions.PROVINCE_LEVEL_ONLY)), 400
    except DomainError as error:
        return _back(filing, error)
    db.session.commit()
    flash(_("Your filing was changed."), "success")
    return _back(filing)


@bp.post("/filings/<int:filing_id>/cancel")
@login_required
def cancel(filing_id: int):
    filing = _filing(filing_id)
    if not forms.ConfirmForm().validate_on_submit():
        return _back(filing)
    try:
        operations.cancel_filing(filing, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        return _back(filing, error)
    db.session.commit()
    flash(_("Your filing was cancelled."), "success")
    return _back(filing)


@bp.post("/filings/<int:filing_id>/extend")
@login_required
def extend(filing_id: int):
    filing = _filing(filing_id)
    if not forms.ConfirmForm().validate_on_submit():
        return _back(filing)
    try:
        operations.extend_filing(filing, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        return _back(filing, error)
    db.session.commit()
    flash(_("Your filing was extended until %(date)s.", date=local_date(filing.end_date)), "success")
    return _back(filing)


@bp.get("/filings/<int:filing_id>/form.pdf")
@login_required
def pdf(filing_id: int):
    filing = _filing(filing_id)
    item = current_app.extensions["portal_catalog"].get(filing.item_code)
    return file_response(document.render_filing_pdf(filing, item), mimetype="application/pdf",
                         filename=f"{filing.number}.pdf")
