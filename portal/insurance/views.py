"""Query pages: what an insured person and a unit's agent can look up about their own records.

A citizen sees the person their account is bound to; an agent sees their unit. Nobody else has these
pages (404, S6). Everything personal is masked on the server (S12); the unit's staff list is masked in
the query itself, so the page and the download cannot disagree. A download is an audit entry.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from ..accounts.models import AccountKind
from ..core import clock
from ..core.audit import actor_of, record
from ..core.db import db
from ..core.downloads import csv_response
from . import downloads, queries

bp = Blueprint("insurance", __name__)
MAX_PAGE = 10_000


def _person():
    """The insured person of the logged-in citizen; 404 for anyone else."""
    if current_user.kind != AccountKind.CITIZEN or current_user.person is None:
        abort(404)
    return current_user.person


def _unit():
    """The unit of the logged-in agent; 404 for anyone else."""
    if current_user.kind != AccountKind.AGENT or current_user.unit is None:
        abort(404)
    return current_user.unit


def _page_arg() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


@bp.get("/me/records")
@login_required
def person_records():
    person = _person()
    return render_template("insurance/person_records.html", overview=queries.person_overview(person),
                           history=queries.enrolment_history(person), benefits=queries.benefits(person))


@bp.get("/me/records/benefits")
@login_required
def person_benefits():
    """我的 → 待遇认定: the recognitions the person holds or held, with their validity and source case."""
    from ..services.benefits.records import shown

    person = _person()
    return render_template("insurance/person_benefits.html", today=clock.today(),
                           rows=shown(person.id, clock.today(), current_app.extensions["portal_catalog"]))


@bp.get("/me/records/contributions")
@login_required
def person_contributions():
    person = _person()
    years = queries.contribution_years(person)
    known = sorted({y.year for y in years}, reverse=True)
    year = request.args.get("year", type=int)
    year = year if year in known else (known[0] if known else clock.today().year)
    return render_template("insurance/person_contributions.html", overview=queries.person_overview(person),
                           years=years, known_years=known, year=year,
                           months=queries.contribution_months(person, year))


@bp.get("/me/records/account")
@login_required
def person_account():
    person = _person()
    return render_template("insurance/person_account.html", overview=queries.person_overview(person),
                           page=queries.account_transactions(person, page=_page_arg()))


@bp.get("/unit/records")
@login_required
def unit_records():
    return render_template("insurance/unit_records.html", unit_overview=queries.unit_overview(_unit()))


@bp.get("/unit/records/staff")
@login_required
def unit_staff():
    unit = _unit()
    return render_template("insurance/unit_staff.html", unit=unit,
                           page=queries.unit_staff_people(unit, page=_page_arg()))


@bp.get("/unit/records/contributions")
@login_required
def unit_contributions():
    unit = _unit()
    return render_template("insurance/unit_contributions.html", unit=unit,
                           unit_overview=queries.unit_overview(unit),
                           page=queries.unit_contribution_months(unit, page=_page_arg()))


@bp.get("/unit/records/staff.csv")
@login_required
def unit_staff_csv():
    unit = _unit()
    response = csv_response(*downloads.staff_table(queries.all_unit_staff(unit)),
                                      filename=f"{unit.credit_code}-staff.csv")
    _audit_download("insurance.unit_staff_download", unit)
    return response


@bp.get("/unit/records/contributions.csv")
@login_required
def unit_contributions_csv():
    unit = _unit()
    response = csv_response(*downloads.contribution_table(queries.all_unit_contribution_months(unit)),
                                      filename=f"{unit.credit_code}-contributions.csv")
    _audit_download("insurance.unit_contributions_download", unit)
    return response


def _audit_download(action: str, unit) -> None:
    """A download leaves the portal with other people's (masked) data: who took it is recorded."""
    record(action, actor=actor_of(current_user), object_type="unit", object_id=unit.id)
    db.session.commit()
