"""``/api/v1/records``: the query pages as JSON for the mini-program — the same queries, masked the same way.

A citizen reads the person the account is bound to (``/records/me…``), an agent the unit (``/records/unit…``);
anyone else gets 404 (S6). Money is a string with two decimals, never a float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ..accounts.models import AccountKind
from ..api import current_account, endpoint
from ..core.errors import NotFound
from ..core.masking import mask_id_number, mask_name, mask_phone
from ..core.translation import gettext as _
from ..organisations.permissions import CONTRIBUTION_RECORDS, STAFF_RECORDS, record_sections
from . import queries
from .constants import BenefitKind

TAGS = ("records",)


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=queries.PER_PAGE, ge=1, le=queries.MAX_PER_PAGE)


class YearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int | None = Field(default=None, ge=1950, le=2100)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _paging(page: queries.Page) -> dict:
    return {"page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages}


def _person():
    account = current_account()
    if account.kind != AccountKind.CITIZEN or account.person is None:
        raise NotFound(_("No insurance record is bound to this account."))
    return account.person


def _unit(section: str | None = None):
    account = current_account()
    if account.kind != AccountKind.AGENT or account.unit is None:
        raise NotFound(_("No unit is bound to this account."))
    sections = record_sections(account)
    if not sections or (section is not None and section not in sections):
        # as a case of an item the agent does not hold (organisations.permissions.record_sections)
        raise NotFound(_("Your unit's administrator has not given you the items these records belong to."))
    return account.unit


class BenefitOut(BaseModel):
    """One benefit record: a filing or a recognition, its validity and where it came from."""

    kind: str = Field(description="remote_care_filing, chronic_disease, special_drug, maternity, long_term_care, other")
    label: str
    status: str = Field(description="The standing today: active, expired (past its last day), cancelled, ...")
    item_code: str | None = Field(description="The code of what was recognised (disease or drug), if any")
    name: str | None = Field(default=None, description="What was recognised (病种, 药品), as filed")
    level: str | None = Field(default=None, description="A graded benefit's grade (长期护理 失能等级)")
    institutions: list[str] = Field(default_factory=list, description="The designated institutions")
    valid_from: str | None
    valid_until: str | None = Field(description="The last day; null when open or ended by an event (``until``)")
    until: str | None = Field(default=None, description="An end that is an event: end_of_this_childbirth")
    application_number: str | None = Field(default=None, description="The 受理编号 of the case that granted it")
    renew_item: str | None = Field(default=None, description="Within a month of its last day or past it: the "
                                                             "catalog item to apply for again")


class MyRecords(BaseModel):
    person: dict
    enrolments: list[dict]
    contributions: list[dict]
    account_balance: str | None
    benefits: list[BenefitOut]


def _benefits(person) -> list[dict]:
    from flask import current_app

    from ..core import clock
    from ..services.benefits.records import shown

    today = clock.today()
    rows = shown(person.id, today, current_app.extensions["portal_catalog"], kinds=tuple(BenefitKind))
    return [{"kind": r.record.kind.value, "label": str(r.record.kind.label), "status": r.standing.value,
             "item_code": r.record.item_code, "name": r.what, "level": r.record.level,
             "institutions": list(r.institutions), "valid_from": _day(r.record.valid_from),
             "valid_until": _day(r.record.valid_until), "until": r.until, "application_number": r.case_number,
             "renew_item": r.item.code if r.renew else None} for r in rows]


@endpoint("/records/me", summary="My insurance records: identity (masked), enrolments with history, totals, "
          "balance and benefits (filings and recognitions with their validity and source case)", tags=TAGS,
          response=MyRecords, errors=(401, 404))
def my_records() -> dict:
    person = _person()
    history = queries.enrolment_history(person)
    overview = queries.person_overview(person, history=history)
    return {
        "person": {"name": mask_name(person.name), "id_number": mask_id_number(person.id_number),
                   "phone": mask_phone(person.phone), "insured_no": person.insured_no,
                   "category": person.category.value, "category_label": str(person.category.label)},
        "enrolments": [
            {"insurance_type": h.line.insurance_type.value, "label": str(h.line.insurance_type.label),
             "status": h.line.status.value, "start_date": _day(h.line.start_date), "end_date": _day(h.line.end_date),
             "unit_name": h.line.unit_name,
             "events": [{"kind": k.value, "label": str(k.label), "effective_date": _day(d)} for k, d, _n in h.events]}
            for h in history
        ],
        "contributions": [
            {"insurance_type": c.insurance_type.value, "months_paid": c.months_paid,
             "arrears_periods": c.arrears_periods, "first_paid_month": _day(c.first_paid_month),
             "last_paid_month": _day(c.last_paid_month), "paid_amount": _money(c.paid_amount)}
            for c in overview.contributions
        ],
        "account_balance": _money(overview.account_balance),
        "benefits": _benefits(person),
    }


@endpoint("/records/me/contributions", summary="My contributions: totals per year and type, and one year's months",
          tags=TAGS, query=YearQuery, errors=(401, 404, 422))
def my_contributions(query: YearQuery) -> dict:
    person = _person()
    years = queries.contribution_years(person)
    year = query.year or (years[0].year if years else None)
    months = queries.contribution_months(person, year) if year else ()
    return {
        "years": [{"year": y.year, "insurance_type": y.insurance_type.value, "months_paid": y.months_paid,
                   "months_in_arrears": y.months_in_arrears, "unit_amount": _money(y.unit_amount),
                   "personal_amount": _money(y.personal_amount), "paid_amount": _money(y.paid_amount),
                   "arrears_amount": _money(y.arrears_amount)} for y in years],
        "year": year,
        "months": [{"month": m.period_month.strftime("%Y-%m"), "insurance_type": m.insurance_type.value,
                    "base": _money(m.base), "unit_amount": _money(m.unit_amount),
                    "personal_amount": _money(m.personal_amount), "status": m.status.value} for m in months],
    }


@endpoint("/records/me/account", summary="My personal account: balance and one page of movements",
          tags=TAGS, query=PageQuery, errors=(401, 404, 422))
def my_account(query: PageQuery) -> dict:
    person = _person()
    page = queries.account_transactions(person, page=query.page, per_page=query.per_page)
    return {"balance": _money(queries.person_overview(person).account_balance), **_paging(page),
            "items": [{"occurred_on": _day(t.occurred_on), "kind": t.kind.value, "label": str(t.kind.label),
                       "amount": _money(t.amount), "balance_after": _money(t.balance_after), "note": t.note}
                      for t in page.rows]}


@endpoint("/records/unit", summary="My unit: identity, headcounts by category, insured by type, arrears",
          tags=TAGS, errors=(401, 404))
def unit_records() -> dict:
    overview = queries.unit_overview(_unit())
    unit = overview.unit
    sections = record_sections(current_account())  # a limited agent: the parts their items cover, no others
    out: dict = {"unit": {"name": unit.name, "credit_code": unit.credit_code, "code": unit.code,
                          "nature": unit.nature.value, "status": unit.status.value}}
    if STAFF_RECORDS in sections:
        out |= {"headcount": overview.headcount,
                "headcounts": [{"category": c.value, "label": str(c.label), "count": n}
                               for c, n in overview.headcounts],
                "insured_by_type": {t.value: n for t, n in overview.insured_by_type.items()}}
    if CONTRIBUTION_RECORDS in sections:
        out |= {"contribution_periods": [{"insurance_type": p.insurance_type.value, "first_month": _day(p.first_month),
                                          "last_month": _day(p.last_month)} for p in overview.contribution_periods],
                "arrears_months": overview.arrears_months, "arrears_amount": _money(overview.arrears_amount)}
    return out


@endpoint("/records/unit/staff", summary="My unit's insured staff, masked, one page", tags=TAGS, query=PageQuery,
          errors=(401, 404, 422))
def unit_staff(query: PageQuery) -> dict:
    page = queries.unit_staff(_unit(STAFF_RECORDS), page=query.page, per_page=query.per_page)
    return {**_paging(page),
            "items": [{"insured_no": s.insured_no, "name": s.name, "id_number": s.id_number, "gender": s.gender,
                       "category": s.category.value, "insurance_type": s.insurance_type.value,
                       "status": s.status.value, "start_date": _day(s.start_date), "end_date": _day(s.end_date)}
                      for s in page.rows]}


@endpoint("/records/unit/contributions", summary="My unit's contributions and arrears by month, newest first",
          tags=TAGS, query=PageQuery, errors=(401, 404, 422))
def unit_contributions(query: PageQuery) -> dict:
    page = queries.unit_contribution_months(_unit(CONTRIBUTION_RECORDS), page=query.page, per_page=query.per_page)
    return {**_paging(page),
            "items": [{"month": m.month.strftime("%Y-%m"), "persons": m.persons, "paid_amount": _money(m.paid_amount),
                       "arrears_persons": m.arrears_persons, "arrears_amount": _money(m.arrears_amount)}
                      for m in page.rows]}
