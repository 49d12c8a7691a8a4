"""The yearly cap (封顶线) as the claimant sees it on 我的参保记录 (/me/records): per year and policy table, the cap,
what counts against it, what is left, and the working.

What counts is what the calculation counts (``approval.cap_used``): the payments of the person's claims of that
year of care and that table which are waiting, sent to the bank or paid. The cap is the one the latest of those
claims was computed with (its working's ``within_cap`` line), so the page and the calculation agree; for a year
without such a claim (the current year is always shown for the person's medical scheme) it is the cap of the
policy in force (``policy.yaml``, the day itself or the year's last day), and a demo value says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select

from ...applications.models import Application
from ...catalog.schema import Name
from ...core.db import db
from .approval import LIVE_PAYMENTS
from .calculation import ZERO
from .constants import PAYMENT_LABELS
from .models import Claim, Payment
from .policy import policy_on

SCHEME_NAMES = {
    "employee_medical": Name(zh="职工基本医疗保险", en="Employee medical insurance"),
    "resident_medical": Name(zh="城乡居民基本医疗保险", en="Resident medical insurance"),
    "maternity": Name(zh="生育保险（生育医疗费用）", en="Maternity insurance (medical costs)"),
    "long_term_care": Name(zh="长期护理保险", en="Long-term care insurance"),
}


@dataclass(frozen=True)
class Counted:
    """One payment that counts against the cap."""

    case_id: int
    case_number: str
    item_name: str
    amount: Decimal
    state: str  # pending, exported, paid
    state_label: Any


@dataclass(frozen=True)
class CapYear:
    year: int
    scheme: str
    name: Name
    cap: Decimal
    used: Decimal
    counted: tuple[Counted, ...]
    from_policy: bool  # no claim of the year: the cap is the policy's in force, not one a calculation used
    is_demo: bool

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.cap - self.used)

    @property
    def over(self) -> bool:
        return self.used > self.cap


def _medical_scheme(person: Any, enrolled: Iterable[Any] | None = None) -> str:
    from ...insurance.constants import InsuranceType

    types = set(enrolled) if enrolled is not None else {e.insurance_type for e in getattr(person, "enrolments", None)
                                                        or []}
    return "resident_medical" if types and InsuranceType.EMPLOYEE_MEDICAL not in types else "employee_medical"


# built once: the person's records page reads it on every visit
_COUNTED = (select(Claim, Payment, Application.number, Application.item_name)
            .join(Payment, Payment.claim_id == Claim.id).join(Application, Application.id == Claim.application_id)
            .where(Claim.person_id == bindparam("person_id"), Claim.benefit_year.is_not(None),
                   Claim.scheme.is_not(None), Payment.state.in_(LIVE_PAYMENTS))
            .order_by(Claim.benefit_year, Claim.id, Payment.id))


def cap_years(person: Any, region: str, today: date, *, enrolled: Iterable[Any] | None = None) -> list[CapYear]:
    """The person's cap usage, newest year first; the current year of their medical scheme always among them.
    ``enrolled``: the insurance types of the person's enrolments when the page has read them already."""
    rows = db.session.execute(_COUNTED, {"person_id": person.id}).all()
    groups: dict[tuple[int, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row[0].benefit_year, row[0].scheme), []).append(row)
    groups.setdefault((today.year, _medical_scheme(person, enrolled)), [])
    out = []
    for (year, scheme), found in groups.items():
        cap, demo, from_policy = _cap_of([r[0] for r in found], region, year, scheme, today)
        if cap is None:
            continue
        counted = tuple(Counted(claim.application_id, number, name, payment.amount, payment.state,
                                PAYMENT_LABELS[payment.state]) for claim, payment, number, name in found)
        out.append(CapYear(year, scheme, SCHEME_NAMES.get(scheme, Name(zh=scheme, en=scheme)), cap,
                           sum((c.amount for c in counted), ZERO), counted, from_policy, demo))
    return sorted(out, key=lambda c: (-c.year, c.scheme))


def _cap_of(claims: list[Claim], region: str, year: int, scheme: str, today: date,
            ) -> tuple[Decimal | None, bool, bool]:
    """The cap (and whether it is a demo value, and whether it comes from the policy rather than a claim)."""
    for claim in reversed(claims):  # the latest claim's calculation
        line = next((x for x in claim.working if x.get("key") == "within_cap"), None)
        if line is not None:
            return Decimal(line["cap"]), bool(line.get("is_demo")), False
    rule = policy_on(region, min(today, date(year, 12, 31))).reimbursement.get((scheme, "in_area"))
    if rule is None:  # 长护: the cap depends on the disability level, known only from a claim
        return None, False, True
    return rule.annual_cap, rule.is_demo, True
