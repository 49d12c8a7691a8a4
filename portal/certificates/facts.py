"""What a certificate states, taken from the system of record when it is issued.

The facts are a plain JSON-able dict, kept with the certificate: the HTML page, the PDF and the verification
page are drawn from them, never from the live records, so a certificate says forever what was true when it
was issued. Identity numbers enter already masked (S12): the long style (first 6, last 4) on the holder's own
document, which is enough for a receiving agency to match it against the person's ID card. Money is a string
with two decimals; 人民币大写 comes from ``cn2an``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import cn2an
from flask import current_app
from sqlalchemy import func, select

from ..catalog.schema import Region
from ..core import clock
from ..core.db import db
from ..core.masking import mask_id_number
from ..insurance import queries
from ..insurance.constants import (
    EMPLOYEE_SCHEME_CATEGORIES,
    ContributionStatus,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
)
from ..insurance.models import Contribution, Enrolment, Person, Unit
from .constants import CertificateKind

BASIC_TYPES = (InsuranceType.EMPLOYEE_MEDICAL, InsuranceType.RESIDENT_MEDICAL)


def amount_in_words(amount: Decimal) -> str:
    """人民币大写 of a yuan amount (``壹仟贰佰叁拾肆元伍角陆分``, ``零元整``), from cn2an."""
    return cn2an.an2cn(f"{amount.quantize(Decimal('0.01'))}", "rmb")


def _month(value: date | None) -> str | None:
    return value.strftime("%Y-%m") if value else None


def region() -> Region:
    return current_app.extensions["portal_catalog"].region


def pool_code(person: Person | None = None, unit: Unit | None = None) -> str:
    """The 统筹区 of the number: the deployment's pooling area from its region data (``pooling_code``), else the
    agency's division code, else 000000 — never the holder's 户籍 or unit, which may lie anywhere."""
    data = region()
    return data.pooling_code or data.agency.division_code or "000000"


def agency_block(person: Person | None = None, unit: Unit | None = None) -> dict[str, str]:
    """The issuing agency (转出地医疗保险经办机构信息): what the region data and the holder's unit record say.

    The name is the agency that keeps the holder's unit record when it names one (for the demo data: the city
    agency), else the region's agency; what the seeds leave blank stays blank rather than invented.
    """
    data = region()
    agency = data.agency
    phone = agency.phone or next((c.phone for c in data.consultation if getattr(c, "phone", None)), "") or ""
    holder_unit = unit or (person.unit if person is not None else None)
    return {
        "name": (holder_unit.agency_name if holder_unit and holder_unit.agency_name else agency.name.zh),
        "address": agency.address or "",
        "division_code": agency.division_code or pool_code(person, unit),
        "postcode": agency.postcode or (holder_unit.postcode if holder_unit and holder_unit.postcode else ""),
        "contact": "",
        "phone": phone,
    }


def _basic_enrolment(person: Person) -> Enrolment | None:
    """The basic-insurance enrolment the voucher is about: the open one, else the latest."""
    rows = db.session.execute(
        select(Enrolment).where(Enrolment.person_id == person.id, Enrolment.insurance_type.in_(BASIC_TYPES))
        .order_by(Enrolment.start_date.desc(), Enrolment.id.desc())
    ).scalars().all()
    return next((e for e in rows if e.status != EnrolmentStatus.TERMINATED), rows[0] if rows else None)


def _person_identity(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "id_number": mask_id_number(person.id_number, "long"),
        "gender": person.gender,
        "insured_no": person.insured_no,
        "category": person.category.value,
        "hukou_place": person.hukou_place or "",
        "hukou_type": person.hukou_type.value if person.hukou_type else None,
    }


def person_voucher_facts(person: Person) -> dict[str, Any]:
    """参保凭证: insured period of the basic insurance, its months actually paid, the account balance."""
    overview = queries.person_overview(person)
    enrolment = _basic_enrolment(person)
    kind = InsuranceType(enrolment.insurance_type) if enrolment else (
        InsuranceType.EMPLOYEE_MEDICAL if person.category in EMPLOYEE_SCHEME_CATEGORIES
        else InsuranceType.RESIDENT_MEDICAL)
    totals = next((c for c in overview.contributions if c.insurance_type is kind), None)
    balance = overview.account_balance if overview.account_balance is not None else Decimal("0.00")
    end = enrolment.end_date if enrolment and enrolment.end_date else (totals.last_paid_month if totals else None)
    return {
        "person": _person_identity(person),
        "insurance_type": kind.value,
        "transfer_out_area": region().name.zh,
        "period_from": _month(enrolment.start_date if enrolment else None),
        "period_to": _month(end),
        "months_paid": totals.months_paid if totals else 0,
        "balance": f"{balance:.2f}",
        "balance_words": amount_in_words(balance),
        "has_account": overview.account_balance is not None,
        "agency": agency_block(person=person),
    }


def person_proof_facts(person: Person) -> dict[str, Any]:
    """参保证明 of a person: every enrolment with its period and status, months paid per type, as of today."""
    overview = queries.person_overview(person)
    months = overview.months_paid
    return {
        "person": _person_identity(person),
        "enrolments": [
            {"insurance_type": e.insurance_type.value, "status": e.status.value,
             "from": _month(e.start_date), "to": _month(e.end_date), "unit_name": e.unit_name or "",
             "months_paid": months.get(e.insurance_type, 0)}
            for e in overview.enrolments
        ],
        "latest_paid_month": _month(overview.latest_paid_month),
        "as_of": clock.today().isoformat(),
        "agency": agency_block(person=person),
    }


# 参保信息 of seed 000's unit certificate: the count rows in its order
UNIT_COUNTS = ("count_total", "count_active", "count_retired", "count_veteran_retired", "count_disabled_soldiers",
               "count_level2_care", "count_model_workers")


def unit_proof_facts(unit: Unit) -> dict[str, Any]:
    """Seed 000's unit certificate: identity, headcounts by category, each type's contribution period and status."""
    overview = queries.unit_overview(unit)
    living = (Person.unit_id == unit.id, Person.death_date.is_(None))
    flags = db.session.execute(
        select(func.count().filter(Person.is_disabled_veteran.is_(True)),
               func.count().filter(Person.health_care_level == "level_2"),
               func.count().filter(Person.is_model_worker.is_(True)))
        .where(*living)
    ).one()
    by_category = dict(overview.headcounts)
    arrears_types = set(db.session.execute(
        select(Contribution.insurance_type).where(Contribution.unit_id == unit.id,
                                                  Contribution.status == ContributionStatus.ARREARS).distinct()
    ).scalars())
    first = db.session.execute(select(func.min(Enrolment.start_date)).where(Enrolment.unit_id == unit.id)).scalar()
    insured = overview.insured_by_type
    return {
        "unit": {"name": unit.name, "credit_code": unit.credit_code, "code": unit.code,
                 "address": unit.address or "", "nature": unit.nature.value},
        "counts": {
            "count_total": overview.headcount,
            "count_active": by_category.get(PersonCategory.EMPLOYEE, 0) + by_category.get(PersonCategory.FLEXIBLE, 0),
            "count_retired": by_category.get(PersonCategory.RETIREE, 0),
            "count_veteran_retired": by_category.get(PersonCategory.RETIRED_CADRE, 0),
            "count_disabled_soldiers": flags[0],
            "count_level2_care": flags[1],
            "count_model_workers": flags[2],
        },
        "first_registration": first.isoformat() if first else None,
        "types": [
            {"insurance_type": p.insurance_type.value, "from": _month(p.first_month), "to": _month(p.last_month),
             "insured": insured.get(p.insurance_type, 0),
             "status": "arrears" if p.insurance_type in arrears_types
             else ("active" if insured.get(p.insurance_type) else "stopped")}
            for p in overview.contribution_periods
        ],
        "arrears_months": overview.arrears_months,
        "arrears_amount": f"{overview.arrears_amount:.2f}",
        "as_of": clock.today().isoformat(),
        "agency": agency_block(unit=unit),
    }


def facts_for(kind: CertificateKind, *, person: Person | None, unit: Unit | None) -> dict[str, Any]:
    if kind is CertificateKind.PERSON_VOUCHER:
        return person_voucher_facts(person)
    if kind is CertificateKind.PERSON_PROOF:
        return person_proof_facts(person)
    return unit_proof_facts(unit)
