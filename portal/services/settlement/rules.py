"""The declaration's own checks, each said at its field: nothing is stored while one fails.

- The period is a month (YYYY-MM) or a year (YYYY) as the kind of settlement needs, and it has ended: a month or
  a year still running (or to come) cannot be settled.
- Money: the form already takes only yuan with at most two places and never negative (``applications.fields``);
  here the parts must add up — 医疗总费用 = 统筹基金支付 + 个人账户支付 + 个人自付 — and something must be left to
  pay once 拒付/扣款 are taken off (统筹基金 + 个人账户 − 拒付扣款 > 0). 结算人次 is a whole number.
- The account is the institution's own: its name must be the institution's name.
- One declaration per institution, item, period and 险种: a second one while the first stands is refused, naming
  the first case (``operations.standing_declaration``; the database's unique ``live_key`` backs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import format_currency

from ...core import clock
from ...core.translation import gettext as _
from ..base import FilingContext
from .forms import ANNUAL, MONTHLY, period_kind

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
YEAR_RE = re.compile(r"^(\d{4})$")
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    kind: str  # month or year
    value: str  # YYYY-MM or YYYY

    @property
    def label_zh(self) -> str:
        if self.kind == "year":
            return f"{self.value}年度"
        year, month = self.value.split("-")
        return f"{year}年{int(month)}月"


def kind_of(context_item: Any, data: dict[str, Any]) -> str | None:
    """'month' or 'year': fixed by the item, else as the institution chose (结算类型); None before it chooses."""
    fixed = period_kind(context_item)
    if fixed is not None:
        return fixed
    chosen = data.get("settlement_kind")
    return {MONTHLY.zh: "month", ANNUAL.zh: "year"}.get(chosen)


def parse_period(item: Any, data: dict[str, Any]) -> tuple[Period | None, str | None]:
    """The period filed, or the message saying what is wrong with it (None, None when nothing is filed yet)."""
    text = "".join(str(data.get("period") or "").split())
    kind = kind_of(item, data)
    if not text or kind is None:
        return None, None
    today = clock.today()
    if kind == "month":
        match = MONTH_RE.match(text)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < FIRST_YEAR:
            return None, _("Enter the month settled as year and month, such as 2026-05.")
        if (int(match.group(1)), int(match.group(2))) >= (today.year, today.month):
            return None, _("This month has not ended yet: only a month that has ended can be settled.")
        return Period("month", text), None
    match = YEAR_RE.match(text)
    if not match or int(text) < FIRST_YEAR:
        return None, _("Enter the year settled, such as 2025.")
    if int(text) >= today.year:
        return None, _("This year has not ended yet: only a year that has ended can be settled.")
    return Period("year", text), None


def money(data: dict[str, Any], key: str) -> Decimal:
    try:
        return Decimal(str(data.get(key) or "0"))
    except ArithmeticError:
        return Decimal("0")


def _plain(name: Any) -> str:
    return re.sub(r"[\s·•．.()（）]", "", str(name or ""))


def check_form(context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
    data = context.data
    problems: list[tuple[str, str]] = []
    _period, problem = parse_period(context.item, data)
    if problem:
        problems.append(("period", problem))
    parts = [k for k in ("total_cost", "fund_paid", "account_paid", "self_paid") if data.get(k) not in (None, "")]
    if len(parts) == 4:
        total = money(data, "total_cost")
        summed = money(data, "fund_paid") + money(data, "account_paid") + money(data, "self_paid")
        if total != summed:
            problems.append(("total_cost", _(
                "The total medical costs (%(total)s) must equal the fund's part, the personal accounts' part and the "
                "patients' own part together (%(sum)s).", total=format_currency(total, "CNY"),
                sum=format_currency(summed, "CNY"))))
        advanced = money(data, "fund_paid") + money(data, "account_paid")
        if money(data, "deducted") >= advanced:
            problems.append(("deducted", _(
                "The amounts refused or deducted (%(deducted)s) leave nothing to pay of the %(advanced)s the fund and "
                "the personal accounts paid.", deducted=format_currency(money(data, "deducted"), "CNY"),
                advanced=format_currency(advanced, "CNY"))))
    if data.get("visits") not in (None, ""):
        visits = Decimal(str(data["visits"]))
        if visits != visits.to_integral_value():
            problems.append(("visits", _("Enter the number of visits as a whole number.")))
    institution = getattr(context.case, "institution", None) if context.case is not None else None
    if institution is not None and data.get("payee_name") and _plain(data["payee_name"]) != _plain(institution.name):
        problems.append(("payee_name", _("The account must be the institution's own: its name must be %(name)s.",
                                         name=institution.name)))
    if complete and _period is not None and context.case is not None:
        from .operations import standing_declaration

        other = standing_declaration(context.case, context.item, _period, data.get("category") or "")
        if other is not None:
            problems.append(("period", _(
                "Your institution has already declared %(period)s (%(category)s) for this item in case %(number)s. "
                "A period is declared once: withdraw that case first, or ask the agency to correct it.",
                period=_period.value, category=category_label(context.item, data.get("category")), number=other)))
    return problems


def category_label(item: Any, value: Any) -> str:
    """The 险种 as the page's language says it (the form keeps the Chinese option)."""
    from ...core.translation import get_locale
    from .forms import categories

    name = next((o for o in categories(item) if o.zh == value), None)
    return name.get(str(get_locale() or "zh")) if name is not None else str(value or "")
