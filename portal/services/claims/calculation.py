"""The calculation engine: amounts from policy data, each with its working, in ``Decimal`` yuan.

Pure functions (no database, no request): a ``Calculation`` is the amount and the lines that lead to it; every
line names its base, what it deducts, the rate or cap it applies, where the number comes from and whether that
number is a demo value. Invariants (tests/services/claims/test_calculation.py checks them as properties):

- an amount is never negative and has exactly two places (fen, rounded half up once, at the end);
- a reimbursement never exceeds what is left of the year's cap (封顶线 minus what was paid before);
- a reimbursement never falls when an invoice total rises (everything else equal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .policy import AllowanceRule, CareRule, ReimbursementRule

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def yuan(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """One step of the working. ``key`` names the step (its words come from ``working.describe``)."""

    key: str
    amount: Decimal  # the running amount after this step
    base: Decimal | None = None
    deduction: Decimal | None = None
    rate: Decimal | None = None
    cap: Decimal | None = None
    days: int | None = None
    source: str = ""
    is_demo: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Line:
        decimals = {"amount", "base", "deduction", "rate", "cap"}
        return cls(**{k: (Decimal(v) if k in decimals else v) for k, v in raw.items()})


@dataclass(frozen=True)
class Calculation:
    amount: Decimal | None  # None: no published rule; the reviewer sets the amount
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def uses_demo_values(self) -> bool:
        return any(line.is_demo for line in self.lines)


@dataclass(frozen=True)
class Invoice:
    """The money of one invoice row: 总金额, and the parts the fund does not pay (个人自付, 个人自费)."""

    number: str
    issued_on: date
    total: Decimal
    self_pay: Decimal = ZERO
    self_funded: Decimal = ZERO


def reimbursement(invoices: list[Invoice], rule: ReimbursementRule, level: str, *, used_this_year: Decimal,
                  ) -> Calculation:
    """零星报销: (票据合计 − 个人自付 − 个人自费 − 起付线) × 支付比例, within what is left of the 封顶线."""
    total = sum((i.total for i in invoices), ZERO)
    excluded = sum((min(i.total, i.self_pay + i.self_funded) for i in invoices), ZERO)
    eligible = total - excluded
    deductible = rule.deductible[level]
    rate = rule.rate[level]
    above = max(ZERO, eligible - deductible)
    raw = above * rate
    left = max(ZERO, rule.annual_cap - max(ZERO, used_this_year))
    amount = yuan(min(raw, left))
    return Calculation(amount, (
        Line("invoices_total", total, base=total),
        Line("minus_excluded", eligible, base=total, deduction=excluded),
        Line("minus_deductible", above, base=eligible, deduction=min(eligible, deductible), source=rule.source,
             is_demo=rule.is_demo),
        Line("times_rate", yuan(raw), base=above, rate=rate, source=rule.source, is_demo=rule.is_demo),
        Line("within_cap", amount, base=yuan(raw), cap=rule.annual_cap, deduction=max(ZERO, used_this_year),
             source=rule.source, is_demo=rule.is_demo),
    ))


def care_reimbursement(invoices: list[Invoice], rule: CareRule, level: str, *, used_this_year: Decimal,
                       ) -> Calculation:
    """长护费用 零星报销: (票据合计 − 个人自付 − 个人自费) × the rate of the person's 失能等级, within what is left
    of that level's yearly cap. ``level`` names the 失能等级 in the working."""
    total = sum((i.total for i in invoices), ZERO)
    excluded = sum((min(i.total, i.self_pay + i.self_funded) for i in invoices), ZERO)
    eligible = total - excluded
    raw = eligible * rule.rate
    left = max(ZERO, rule.annual_cap - max(ZERO, used_this_year))
    amount = yuan(min(raw, left))
    source = f"{level}：{rule.source}"
    return Calculation(amount, (
        Line("invoices_total", total, base=total),
        Line("minus_excluded", eligible, base=total, deduction=excluded),
        Line("care_rate", yuan(raw), base=eligible, rate=rule.rate, source=source, is_demo=rule.is_demo),
        Line("within_cap", amount, base=yuan(raw), cap=rule.annual_cap, deduction=max(ZERO, used_this_year),
             source=source, is_demo=rule.is_demo),
    ))


def allowance_days(rule: AllowanceRule, *, difficult_birth: bool, babies: int) -> list[Line]:
    """产假天数: statutory days, plus the difficult-birth and extra-baby days, plus the province's extension."""
    lines = [Line("statutory_days", ZERO, days=rule.statutory_days, source=rule.days_source)]
    if difficult_birth:
        lines.append(Line("difficult_birth_days", ZERO, days=rule.difficult_birth_days, source=rule.days_source))
    if babies > 1:
        lines.append(Line("extra_baby_days", ZERO, days=rule.per_extra_baby_days * (babies - 1), base=Decimal(babies),
                          source=rule.days_source))
    if rule.extended_days:
        lines.append(Line("extended_days", ZERO, days=rule.extended_days, source=rule.extended_source,
                          is_demo=rule.extended_is_demo))
    return lines


def maternity_allowance(monthly_wage: Decimal, rule: AllowanceRule, *, difficult_birth: bool, babies: int,
                        ) -> Calculation:
    """生育津贴 = 单位上年度职工月平均工资 ÷ 30 × 产假天数 (rounded once, at the end)."""
    day_lines = allowance_days(rule, difficult_birth=difficult_birth, babies=max(1, babies))
    days = sum(line.days or 0 for line in day_lines)
    wage = max(ZERO, monthly_wage)
    amount = yuan(wage * days / rule.day_divisor)  # multiply first: one division, one rounding
    return Calculation(amount, (
        *day_lines,
        Line("allowance", amount, base=wage, rate=Decimal(1) / rule.day_divisor, days=days,
             source=rule.wage_source, is_demo=rule.divisor_is_demo),
    ))


def withdrawal(balance: Decimal) -> Calculation:
    """个人账户一次性支取: the balance of the account on the day."""
    amount = yuan(max(ZERO, balance))
    return Calculation(amount, (Line("account_balance", amount, base=amount),))


def no_rule() -> Calculation:
    """An item whose amount no published rule gives: the reviewer sets it from the materials."""
    return Calculation(None, ())
