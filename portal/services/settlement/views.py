"""The settlement statement (结算单) PDF for the institution's agents and for staff, and the declaration panel.

The agents of the institution (``applications.permissions.is_applicant``) open it from their case page; staff
working cases from the workbench. Both downloads are audited: the statement names the institution's account.
Before the amount is approved there is no statement (404).
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from ...core.audit import actor_of, record
from ...core.db import db
from ...core.downloads import file_response

bp = Blueprint("settlement", __name__)


def _case(case_id: int):
    from ...applications.models import Application

    case = db.session.get(Application, case_id) if 0 < case_id < 2**31 else None
    if case is None or not (case.handler or "").startswith("institution.settlement"):
        abort(404)
    return case


def _statement_response(case):
    from .statement import render_statement_pdf

    data = render_statement_pdf(case)
    if data is None:
        abort(404)  # not approved yet: no statement
    record("settlement.statement_view", actor=actor_of(current_user), object_type="application", object_id=case.id,
           detail={"number": case.number})
    db.session.commit()
    return file_response(data, mimetype="application/pdf", filename=f"settlement-{case.number}.pdf")  # S10


@bp.get("/applications/<int:case_id>/settlement-statement.pdf")
@login_required
def statement(case_id: int):
    """The institution's statement (its own cases only; 404 to anyone else, S6)."""
    from ...applications.permissions import is_applicant

    case = _case(case_id)
    if not is_applicant(current_user, case):
        abort(404)
    return _statement_response(case)


@bp.get("/staff/cases/<int:case_id>/settlement-statement.pdf")
@login_required
def staff_statement(case_id: int):
    """The statement for staff working cases."""
    from ...workbench.permissions import is_case_worker

    if not is_case_worker(current_user):
        abort(403)
    return _statement_response(_case(case_id))


@bp.app_template_global()
def settlement_of_case(case) -> dict | None:
    """The declared figures of a settlement case for its case pages (None for any other case)."""
    from .operations import view

    return view(case) if (case.handler or "").startswith("institution.settlement") and case.number else None
