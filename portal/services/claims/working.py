"""The working of a calculation in words: one sentence per line, for staff and, in plain words, for the claimant.

Every line states its figures (base, deduction, rate, cap, days) and its source; a line that uses a demo value
says so, so nobody takes a demo figure for the agency's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal, format_percent

from ...core.translation import gettext as _


def _y(value: Any) -> str:
    return "¥" + format_decimal(Decimal(str(value)), format="#,##0.00")


def _pct(value: Any) -> str:
    return format_percent(Decimal(str(value)), format="#,##0.##%")


@dataclass(frozen=True)
class Step:
    text: str
    amount: str
    source: str
    is_demo: bool


def describe(line: dict[str, Any]) -> Step:
    key = line["key"]
    base, deduction = line.get("base", "0"), line.get("deduction", "0")
    if key == "invoices_total":
        text = _("Invoices in total: %(base)s", base=_y(base))
    elif key == "minus_excluded":
        text = _("Less the co-payment and out-of-pocket parts (%(deduction)s), which the fund does not pay",
                 deduction=_y(deduction))
    elif key == "minus_deductible":
        text = _("Less the deductible (起付线) of %(deduction)s", deduction=_y(deduction))
    elif key == "times_rate":
        text = _("%(base)s × the payment rate of %(rate)s", base=_y(base), rate=_pct(line.get("rate", "0")))
    elif key == "care_rate":
        text = _("%(base)s × the rate of the disability level (失能等级), %(rate)s", base=_y(base),
                 rate=_pct(line.get("rate", "0")))
    elif key == "within_cap":
        text = _("Within the yearly cap (封顶线) of %(cap)s, of which %(used)s was already paid this year",
                 cap=_y(line.get("cap", "0")), used=_y(deduction))
    elif key == "statutory_days":
        text = _("Statutory maternity leave: %(days)d days", days=line.get("days", 0))
    elif key == "difficult_birth_days":
        text = _("Difficult birth: %(days)d more days", days=line.get("days", 0))
    elif key == "extra_baby_days":
        text = _("%(babies)s babies: %(days)d more days", babies=format_decimal(Decimal(str(base))),
                 days=line.get("days", 0))
    elif key == "extended_days":
        text = _("The province's extended leave: %(days)d more days", days=line.get("days", 0))
    elif key == "allowance":
        divisor = int((1 / Decimal(str(line.get("rate", "1")))).to_integral_value())
        text = _("%(wage)s a month ÷ %(divisor)d × %(days)d days", wage=_y(base), divisor=divisor,
                 days=line.get("days", 0))
    elif key == "account_balance":
        text = _("The personal account's balance today: %(base)s", base=_y(base))
    elif key == "settlement_total":  # an institution's settlement declaration (services.settlement)
        text = _("Total medical costs declared: %(base)s", base=_y(base))
    elif key == "settlement_fund":
        text = _("Of which the pooled fund paid %(base)s", base=_y(base))
    elif key == "settlement_account":
        text = _("Plus what personal accounts paid, %(base)s", base=_y(base))
    elif key == "settlement_deducted":
        text = _("Less the amounts refused or deducted, %(deduction)s", deduction=_y(deduction))
    elif key == "settlement_payable":
        text = _("Amount applied for")
    else:
        text = key
    shows_amount = key not in {"statutory_days", "difficult_birth_days", "extra_baby_days", "extended_days"}
    return Step(text, _y(line.get("amount", "0")) if shows_amount else "", line.get("source", ""),
                bool(line.get("is_demo")))
