"""转移接续 pages: the staff's transfers page at /staff/transfers (letters to issue with their deadline, each open
case with the step it owes and by when, the 联系函 PDF, sending the 信息表 and funds or rejecting a letter), and the
citizen's timeline at /transfers (every step, in both areas, as this area learnt it). Staff views and actions are
audited; names and ID numbers are masked on the staff pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ...applications.models import Application
from ...core import clock
from ...core.audit import actor_of, record
from ...core.db import db
from ...core.downloads import file_response
from ...core.errors import DomainError, ValidationFailed
from ...core.formatting import money, number
from ...core.translation import gettext as _
from ...core.translation import lazy_gettext as _l
from ...workbench.permissions import is_case_worker
from . import document, operations
from .models import Side, TransferCase, TransferState

bp = Blueprint("transfer", __name__)
EVENT_LABELS = {"letter_sent": _l("联系函 issued and sent"), "letter_received": _l("联系函 received"),
                "sheet_sent": _l("信息表 sent and funds transferred"), "sheet_received": _l("信息表 received"),
                "funds_received": _l("Funds received"), "rejected": _l("Letter rejected"),
                "rejected_by_other": _l("The other area rejected the letter"),
                "completed": _l("Completed: history and balance credited"),
                "closed": _l("The other area completed; the enrolment here closed")}
REJECT_LABELS = {"person_not_found": "未查到该参保人员", "arrears": "存在欠缴", "not_enrolled": "无该险种参保登记",
                 "other": "其他原因"}


class ActionForm(FlaskForm):
    """Only the CSRF token."""


def _staff_only() -> None:
    if not is_case_worker(current_user):
        abort(403)


@bp.get("/staff/transfers/")
@login_required
def index():
    _staff_only()
    letters, cases = operations.letters_to_issue(), operations.open_cases()
    record("transfer.viewed", actor=actor_of(current_user), detail={"letters": len(letters), "cases": len(cases)})
    db.session.commit()
    return render_template("transfer/index.html", letters=letters, cases=cases, form=ActionForm(),
                           today=clock.today(), clocks=operations.clocks(), reasons=REJECT_LABELS)


@bp.get("/staff/transfers/<int:case_id>")
@login_required
def show(case_id: int):
    _staff_only()
    case = operations.get_case(case_id)
    problem = operations.person_problem(case) if case.state == TransferState.LETTER_RECEIVED else None
    record("transfer.case_viewed", actor=actor_of(current_user), object_type="transfer_case", object_id=case.id)
    db.session.commit()
    return render_template("transfer/show.html", case=case, form=ActionForm(), problem=problem,
                           reasons=REJECT_LABELS, today=clock.today(), events=EVENT_LABELS)


@bp.get("/staff/transfers/<int:case_id>/letter.pdf")
@login_required
def letter(case_id: int):
    _staff_only()
    case = operations.get_case(case_id)
    here = current_app.extensions["portal_catalog"].region.agency.name.zh
    receiving, sending = (here, case.other_area_name) if case.side == Side.IN else (case.other_area_name, here)
    record("transfer.letter_printed", actor=actor_of(current_user), object_type="transfer_case", object_id=case.id)
    db.session.commit()
    body = document.letter_pdf(case, receiving_agency=receiving, sending_agency=sending,
                               reply_by=case.sheet_due.isoformat() if case.sheet_due else "")
    return file_response(body, mimetype="application/pdf", filename=f"lianxihan-{case.id}.pdf")


def _act(action, success: str, case_id: int | None = None):
    _staff_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = action()
        db.session.commit()
    except ValidationFailed as error:
        db.session.rollback()
        flash(" ".join(message for _field, message in error.reasons), "error")
        result = None
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        result = None
    else:
        flash(success, "success")
    target = getattr(result, "id", None) or case_id
    return redirect(url_for("transfer.show", case_id=target) if target else url_for("transfer.index"))


@bp.post("/staff/transfers/letters/<int:application_id>")
@login_required
def issue(application_id: int):
    application = db.session.get(Application, application_id) if 0 < application_id < 2**31 else None
    if application is None:
        abort(404)
    return _act(lambda: operations.issue_contact_letter(application, by=current_user, actor=actor_of(current_user)),
                _("The 联系函 has been issued and will be sent through the national platform."))


@bp.post("/staff/transfers/<int:case_id>/sheet")
@login_required
def sheet(case_id: int):
    case = operations.get_case(case_id)
    return _act(lambda: operations.send_information_sheet(case, by=current_user, actor=actor_of(current_user)),
                _("Done: the 信息表 and the funds, or the rejection, go out through the national platform."), case.id)


@bp.post("/staff/transfers/<int:case_id>/reject")
@login_required
def reject(case_id: int):
    case = operations.get_case(case_id)
    code, reason = request.form.get("code", ""), request.form.get("reason", "")
    return _act(lambda: operations.reject_contact_letter(case, code, reason, by=current_user,
                                                         actor=actor_of(current_user)),
                _("The letter has been rejected; the other area will be told why."), case.id)


@bp.get("/transfers/")
@login_required
def mine():
    """The citizen's transfers into this area: one timeline each, across both areas."""
    mine = (select(TransferCase).join(Application, TransferCase.application_id == Application.id)
            .where(Application.applicant_id == current_user.id).order_by(TransferCase.id.desc()))
    cases = list(db.session.execute(mine).scalars())
    return render_template("transfer/mine.html", cases=cases, timeline=timeline, item=operations.transfer_item())


def timeline(case: TransferCase) -> list[tuple[str, str]]:
    """(date, what happened) for the citizen, in their words: this area's steps and the other area's."""
    application = case.application
    out = []
    if application is not None and application.accepted_at:
        out.append((application.accepted_at, _("Your application was accepted here.")))
    names = {
        "letter_sent": _("The 联系函 (%(number)s) was sent to %(area)s.", number=case.letter_number,
                         area=case.other_area_name),
        "sheet_received": _("%(area)s sent the 信息表: %(months)s months paid.", area=case.other_area_name,
                            months=number(case.contribution_months)),
        "funds_received": _("%(area)s transferred the personal account balance: %(amount)s.",
                            area=case.other_area_name, amount=money(case.funds_amount)),
        "rejected_by_other": _("%(area)s could not act on the 联系函: %(reason)s", area=case.other_area_name,
                               reason=case.reject_reason),
        "completed": _("Completed: the months and the balance are on your records here."),
    }
    out += [(event.at, names[event.what]) for event in case.events if event.what in names]
    return out
