"""Query pages: what an insured person and a unit's agent can look up about their own records.

A citizen sees the person their account is bound to; an agent sees their unit. Nobody else has these
pages (404, S6). Everything personal is masked on the server (S12); the unit's staff list is masked in
the query itself, so the page and the download cannot disagree. A download is an audit entry.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from ..accounts.models import AccountKind
from ..certificates.facts import agency_block
from ..certificates.signing import sign_pdf
from ..core import clock
from ..core.audit import actor_of, record
from ..core.db import db
from ..core.downloads import XLSX_TYPE, csv_response, file_response, xlsx_bytes
from ..core.formatting import local_datetime
from ..core.translation import gettext as _
from ..documents.tables import table_pdf
from ..organisations.permissions import CONTRIBUTION_RECORDS, STAFF_RECORDS, record_sections
from ..services import contributions
from . import downloads, queries

bp = Blueprint("insurance", __name__)
MAX_PAGE = 10_000


def _person():
    """The insured person of the logged-in citizen; 404 for anyone else."""
    if current_user.kind != AccountKind.CITIZEN or current_user.person is None:
        abort(404)
    return current_user.person


def _unit(section: str | None = None):
    """The unit of the logged-in agent; 404 for anyone else, and for an agent whose items do not cover ``section``
    of the records (any section, when None) — as a case of an item they do not hold."""
    if current_user.kind != AccountKind.AGENT or current_user.unit is None:
        abort(404)
    sections = record_sections(current_user)
    if not sections or (section is not None and section not in sections):
        abort(404)
    return current_user.unit


@bp.app_template_global()
def unit_record_sections() -> frozenset[str]:
    """The parts of the unit's records the logged-in agent may see (``organisations.permissions``)."""
    return record_sections(current_user)


def _page_arg() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


@bp.get("/me/records")
@login_required
def person_records():
    from ..services.claims.caps import cap_years

    person = _person()
    history = queries.enrolment_history(person)
    return render_template("insurance/person_records.html", overview=queries.person_overview(person, history=history),
                           history=history, benefits=queries.benefits(person),
                           caps=cap_years(person, current_app.config["PORTAL_REGION"], clock.today(),
                                          enrolled=[h.line.insurance_type for h in history]))


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
    unit = _unit(STAFF_RECORDS)
    return render_template("insurance/unit_staff.html", unit=unit,
                           page=queries.unit_staff_people(unit, page=_page_arg()))


@bp.get("/unit/records/contributions")
@login_required
def unit_contributions():
    unit = _unit(CONTRIBUTION_RECORDS)
    return render_template("insurance/unit_contributions.html", unit=unit,
                           unit_overview=queries.unit_overview(unit),
                           page=queries.unit_contribution_months(unit, page=_page_arg()))


@bp.get("/unit/records/staff.csv")
@login_required
def unit_staff_csv():
    unit = _unit(STAFF_RECORDS)
    response = csv_response(*downloads.staff_table(queries.all_unit_staff(unit)),
                                      filename=f"{unit.credit_code}-staff.csv")
    _audit_download("insurance.unit_staff_download", unit)
    return response


@bp.get("/unit/records/contributions.csv")
@login_required
def unit_contributions_csv():
    unit = _unit(CONTRIBUTION_RECORDS)
    response = csv_response(*downloads.contribution_table(queries.all_unit_contribution_months(unit)),
                                      filename=f"{unit.credit_code}-contributions.csv")
    _audit_download("insurance.unit_contributions_download", unit)
    return response


@bp.get("/unit/records/<any(staff, contributions, assessment):what>.<any(xlsx, pdf):fmt>")
@login_required
def unit_statement(what: str, fmt: str):
    """The staff list, the contributions by month, or the month's 应缴核定单 (``?month=YYYY-MM``, this month by
    default) as XLSX, or as a PDF signed with the agency's key (as certificates are); masked as on the pages."""
    unit = _unit(STAFF_RECORDS if what == "staff" else CONTRIBUTION_RECORDS)
    lines = [_("Unit: %(name)s (unified social credit code %(code)s)", name=unit.name, code=unit.credit_code),
             _("As of %(when)s; names and ID numbers masked.", when=local_datetime(clock.now()))]
    notes: list[str] = []
    if what == "staff":
        title = _("Insured staff")
        header, rows = downloads.staff_table(queries.all_unit_staff(unit))
    elif what == "contributions":
        title = _("Contributions by month")
        header, rows = downloads.contribution_table(queries.all_unit_contribution_months(unit))
    else:
        month = _month_arg()
        found = contributions.statement(unit, month, current_app.config["PORTAL_REGION"])
        title = _("Contribution assessment for %(month)s", month=month.strftime("%Y-%m"))
        header, rows = downloads.assessment_table(found)
        notes = _assessment_notes(unit, found)
    name = f"{unit.credit_code}-{what}.{fmt}"
    if fmt == "xlsx":
        response = file_response(xlsx_bytes(header, rows, sheet=title, lines=[title, *lines, *notes]),
                                 mimetype=XLSX_TYPE, filename=name)
    else:
        issuer = agency_block(unit=unit)["name"]
        pdf = table_pdf(title=title, lines=lines, header=header, rows=rows, issuer=issuer,
                        notes=[*notes, _("Signed electronically by %(issuer)s; a PDF reader shows whether the "
                                         "signature is valid and the file unchanged.", issuer=issuer)])
        response = file_response(sign_pdf(pdf, current_app.config["PORTAL_SIGNING"], reason=title, location=issuer),
                                 mimetype="application/pdf", filename=name)
    _audit_download(f"insurance.unit_{what}_download", unit)
    return response


def _month_arg():
    text = request.args.get("month", "")
    today = clock.today()
    try:
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1) if 2000 <= year <= 2100 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


def _assessment_notes(unit, found) -> list[str]:
    """What the assessment's figures rest on: the rates (demo values said so), undeclared bases, months in arrears."""
    rate = found.rates
    notes = [_("Rates: unit %(unit)s%%, personal %(personal)s%% of the monthly base.",
               unit=format(rate.unit_rate * 100, "f").rstrip("0").rstrip("."),
               personal=format(rate.personal_rate * 100, "f").rstrip("0").rstrip("."))
             + (" " + _("Demo values: the agency must set its own rates.") if rate.demo else "")]
    if found.undeclared:
        notes.append(_("%(n)d persons have no base declared for %(year)d (缴费基数申报); their amounts are 0.",
                       n=found.undeclared, year=found.month.year))
    arrears = [m for m in queries.all_unit_contribution_months(unit) if m.arrears_persons]
    notes += [_("In arrears: %(month)s, %(persons)d persons, %(amount)s yuan.", month=m.month.strftime("%Y-%m"),
                persons=m.arrears_persons, amount=format(m.arrears_amount, ".2f")) for m in arrears]
    return notes


def _audit_download(action: str, unit) -> None:
    """A download leaves the portal with other people's (masked) data: who took it is recorded."""
    record(action, actor=actor_of(current_user), object_type="unit", object_id=unit.id)
    db.session.commit()


@bp.app_template_global()
def back_payment_panel(case) -> dict | None:
    """补缴's working for a case of that item (the filer's draft, the staff's case page); None otherwise."""
    return contributions.back_payment.panel(case)
