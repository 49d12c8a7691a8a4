"""The claim's own checks, each saying at the field what is wrong: the payee account, the invoices, the dates,
and the seed's claim deadline.

- A bank card number of 16 to 19 digits (银联 debit and credit cards) carries a Luhn check digit: a card whose
  digit does not match is refused (a typo would send the money nowhere). Other account numbers (passbooks,
  company accounts) have no common check and are taken as typed.
- The account holder must be the person the claim is about, or someone the form names: the agent filing on
  their behalf (with the authorisation the item lists), the heir of a deceased insured person, or the unit.
- Invoices: none issued in the future, no number twice, nothing deducted beyond the total, and no invoice
  already claimed in another case that is still open or was paid.
- The seeds' claim deadline (``claim_deadline`` rule: "次年3月31日前…逾期视为自动放弃") is enforced from the
  date of the care, in the seed's own words.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ...core import clock
from ...core.translation import gettext as _
from ..base import FilingContext, Finding, Severity
from .kinds import ClaimKind, is_inpatient, kind_of, role_key

CARD_RE = re.compile(r"^\d{16,19}$")


def luhn_ok(number: str) -> bool:
    """The Luhn (mod 10) check of a card number."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_problem(number: str) -> str | None:
    if CARD_RE.match(number) and not luhn_ok(number):
        return _("This bank card number does not pass the card's check digit: please compare it with the card.")
    return None


def _plain_name(name: Any) -> str:
    return re.sub(r"[\s·•．.]", "", str(name or ""))


def allowed_payees(context: FilingContext) -> set[str]:
    """Whose account the claim may be paid to (normalised names)."""
    case, data = context.case, context.data
    names = {getattr(context.person, "name", None)}
    if case is not None:
        names |= {case.principal_name}
        if case.on_behalf:
            names.add(case.applicant_name)  # the agent (代办人), with the authorisation letter the item lists
        if case.audience == "unit" and context.unit is not None:
            names.add(context.unit.name)
    names |= {data.get(k) for k in ("heir_name", "claimant_name", "insured_name", "member_name", "name")}
    return {_plain_name(n) for n in names if n}


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def check_form(context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
    """Problems of a claim form, each at its field (an empty list when there are none)."""
    kind = kind_of(context.item)
    if kind is None:
        return []
    data, today = context.data, clock.today()
    problems: list[tuple[str, str]] = []
    keys = set(data)
    for role in ("payee_account", "heir_account"):
        key = role_key(keys, role)
        if key and data.get(key):
            problem = card_problem(str(data[key]))
            if problem:
                problems.append((key, problem))
    if data.get("payee_name"):
        allowed = allowed_payees(context)
        if allowed and _plain_name(data["payee_name"]) not in allowed:
            problems.append(("payee_name", _(
                "The account holder must be the insured person, or the agent or heir named in this application.")))
    problems += _invoice_problems(context, today)
    for key in ("admitted_on", "discharged_on", "delivery_date"):
        day = _date(data.get(key))
        if day and day > today:
            problems.append((key, _("This date is in the future.")))
    admitted, discharged = _date(data.get("admitted_on")), _date(data.get("discharged_on"))
    if admitted and discharged and discharged < admitted:
        problems.append(("discharged_on", _("The discharge date is before the admission date.")))
    if kind is ClaimKind.ALLOWANCE and data.get("babies") not in (None, ""):
        babies = Decimal(str(data["babies"]))
        if babies != babies.to_integral_value() or not 1 <= babies <= 9:
            problems.append(("babies", _("Enter the number of babies as a whole number from 1 to 9.")))
    return problems


def _invoice_problems(context: FilingContext, today: date) -> list[tuple[str, str]]:
    rows = context.data.get("invoices") or []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    numbers: dict[str, int] = {}
    for index, row in enumerate(rows, start=1):
        issued = _date(row.get("issued_on"))
        if issued and issued > today:
            problems.append((f"invoices.{index}.issued_on", _("This invoice date is in the future.")))
        number = _invoice_number(row.get("number"))
        if number:
            if number in seen:
                problems.append((f"invoices.{index}.number", _("This invoice is listed twice.")))
            seen.add(number)
            numbers[number] = index
        total = Decimal(str(row.get("total") or "0"))
        deducted = Decimal(str(row.get("self_pay") or "0")) + Decimal(str(row.get("self_funded") or "0"))
        if deducted > total:
            problems.append((f"invoices.{index}.self_pay",
                             _("Co-payment and out-of-pocket together are more than the invoice total.")))
    if numbers:
        from .operations import claimed_elsewhere

        for number in claimed_elsewhere(list(numbers), context.case):
            problems.append((f"invoices.{numbers[number]}.number", _(
                "This invoice has already been claimed in another application. An invoice can be reimbursed "
                "once; ask the agency if you think this is wrong.")))
    return problems


def _invoice_number(value: Any) -> str:
    return re.sub(r"\s", "", str(value or "")).upper()


# --- the claim deadline --------------------------------------------------------------------------------------


def care_date(context: FilingContext, params: dict[str, Any]) -> date | None:
    """The day the deadline counts from: the newborn's birth where the rule says so, else the (last) day of care."""
    data = context.data
    if params.get("counted_from") == "newborn_birth_date":
        return _date(data.get("delivery_date") or data.get("birth_date"))
    if is_inpatient(context.item) and _date(data.get("discharged_on")):
        return _date(data.get("discharged_on"))
    days = [d for d in (_date(r.get("issued_on")) for r in data.get("invoices") or []) if d]
    return min(days) if days else None


def claim_deadline(day: date, params: dict[str, Any]) -> date | None:
    try:
        return date(day.year + int(params.get("year_offset", 1)), int(params["month"]), int(params["day"]))
    except (KeyError, TypeError, ValueError):
        return None  # a rule we cannot read is not held against the claimant


def missed_deadline(context: FilingContext) -> tuple[date, Any] | None:
    """The seed's claim deadline this claim has missed today, with its rule; None when it is in time."""
    for rule in context.item.rules:
        if rule.key != "claim_deadline":
            continue
        day = care_date(context, rule.params)
        last = claim_deadline(day, rule.params) if day else None
        if last is not None and clock.today() > last:
            return last, rule
    return None


def deadline_findings(context: FilingContext) -> list[Finding]:
    """A finding, in the seed's words, for care whose claim deadline has passed: blocking, unless the claimant
    states force majeure (``late_reason``), which the agency then accepts or refuses (``operations.accept_late``)."""
    from ...core.formatting import local_date
    from ...core.translation import get_locale

    missed = missed_deadline(context)
    if missed is None:
        return []
    last, rule = missed
    text = rule.text.get(str(get_locale() or "zh"))
    said = _("The deadline for claiming these costs was %(date)s. %(rule)s", date=local_date(last), rule=text)
    if str(context.data.get("late_reason") or "").strip():
        return [Finding(Severity.WARNING, said + " " + _(
            "You give a reason for claiming late: the agency decides whether to accept it as force majeure "
            "(不可抗力)."), "claim_deadline_passed")]
    return [Finding(Severity.BLOCKING, said + " " + _(
        "If force majeure (不可抗力) kept you from claiming in time, say what happened under “Why the claim is "
        "late”: the agency decides whether to accept it."), "claim_deadline_passed")]
