"""The calculation engine: properties that hold for any input, and worked examples per kind and region.

Properties (hypothesis): an amount is never negative, never above what is left of the year's cap, never falls when
an invoice total rises, and is exact Decimal with two places. Worked examples: each line of the working names its
source, or is marked demo.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.claims import calculation
from portal.services.claims.calculation import Invoice
from portal.services.claims.policy import LEVELS, policy_on, regions

pytestmark = pytest.mark.no_db

CENTS = st.integers(min_value=0, max_value=50_000_000).map(lambda c: Decimal(c) / 100)
POLICY = policy_on("jilin", date(2026, 6, 1))
RULES = list(POLICY.reimbursement.values())


def invoice(total: Decimal, self_pay: Decimal = Decimal("0"), self_funded: Decimal = Decimal("0")) -> Invoice:
    return Invoice("N1", date(2026, 6, 1), total, self_pay, self_funded)


@settings(max_examples=300, deadline=None)
@given(total=CENTS, self_pay=CENTS, self_funded=CENTS, used=CENTS, rule=st.sampled_from(RULES),
       level=st.sampled_from(LEVELS))
def test_reimbursement_is_never_negative_never_above_the_cap_left_and_exact(total, self_pay, self_funded, used, rule,
                                                                              level):
    result = calculation.reimbursement([invoice(total, self_pay, self_funded)], rule, level, used_this_year=used)
    assert result.amount >= 0
    assert result.amount <= max(Decimal("0"), rule.annual_cap - used)
    assert result.amount <= total
    assert result.amount == result.amount.quantize(Decimal("0.01")) and result.amount.as_tuple().exponent == -2


@settings(max_examples=300, deadline=None)
@given(total=CENTS, more=CENTS, self_pay=CENTS, used=CENTS, rule=st.sampled_from(RULES), level=st.sampled_from(LEVELS))
def test_reimbursement_never_falls_when_an_invoice_total_rises(total, more, self_pay, used, rule, level):
    low = calculation.reimbursement([invoice(total, self_pay)], rule, level, used_this_year=used)
    high = calculation.reimbursement([invoice(total + more, self_pay)], rule, level, used_this_year=used)
    assert high.amount >= low.amount


@settings(max_examples=200, deadline=None)
@given(wage=CENTS, difficult=st.booleans(), babies=st.integers(min_value=1, max_value=9))
def test_maternity_allowance_is_exact_and_grows_with_days(wage, difficult, babies):
    result = calculation.maternity_allowance(wage, POLICY.allowance, difficult_birth=difficult, babies=babies)
    more = calculation.maternity_allowance(wage, POLICY.allowance, difficult_birth=True, babies=babies + 1)
    assert Decimal("0") <= result.amount <= more.amount
    assert result.amount.as_tuple().exponent == -2


def test_split_invoices_pay_what_one_invoice_of_their_sum_pays():
    rule = POLICY.reimbursement[("employee_medical", "in_area")]
    one = calculation.reimbursement([invoice(Decimal("3000.10"), Decimal("200.05"))], rule, "2",
                                    used_this_year=Decimal("0"))
    two = calculation.reimbursement([invoice(Decimal("1000.05"), Decimal("100.00")),
                                     invoice(Decimal("2000.05"), Decimal("100.05"))], rule, "2",
                                    used_this_year=Decimal("0"))
    assert one.amount == two.amount == Decimal("2040.04")  # (3000.10 − 200.05 − 400) × 85 ％ = 2040.0425


# --- worked examples: every region, every kind; each line cites its source or is marked demo --------------------

REIMBURSEMENTS = [
    # scheme, area, level, total, self_pay, self_funded, used, expected, why
    ("employee_medical", "in_area", "3", "10000.00", "1000.00", "500.00", "0", "6320.00",
     "(10000 − 1500 − 600) × 80 ％"),
    ("employee_medical", "in_area", "1", "150.00", "0", "0", "0", "0.00", "below the 200 deductible"),
    ("employee_medical", "in_area", "3", "300000.00", "0", "0", "100000.00", "50000.00", "cap 150000, 100000 used"),
    ("employee_medical", "out_of_area", "2", "5000.00", "0", "0", "0", "3150.00", "(5000 − 800) × 75 ％"),
    ("resident_medical", "in_area", "2", "2000.00", "100.00", "0", "0", "1120.00", "(2000 − 100 − 300) × 70 ％"),
    ("resident_medical", "out_of_area", "3", "8000.00", "0", "0", "120000.00", "0.00", "the year's cap is used up"),
    ("maternity", "in_area", "3", "4321.09", "21.09", "0", "0", "4300.00", "100 ％ of the covered part"),
]


@pytest.mark.parametrize("region", regions())
@pytest.mark.parametrize(("scheme", "area", "level", "total", "self_pay", "self_funded", "used", "expected", "why"),
                         REIMBURSEMENTS)
def test_reimbursement_worked_examples(region, scheme, area, level, total, self_pay, self_funded, used, expected, why):
    rule = policy_on(region, date(2026, 6, 1)).reimbursement[(scheme, area)]
    result = calculation.reimbursement([invoice(Decimal(total), Decimal(self_pay), Decimal(self_funded))], rule, level,
                                       used_this_year=Decimal(used))
    assert result.amount == Decimal(expected), why
    policy_lines = [line for line in result.lines if line.key in {"minus_deductible", "times_rate", "within_cap"}]
    assert policy_lines and all(line.is_demo or line.source for line in policy_lines)
    assert result.uses_demo_values  # nobody here knows these agencies' 起付线 and 比例: the demo says so


ALLOWANCES = [
    # wage, difficult birth, babies, days, expected
    ("6000.00", False, 1, 158, "31600.00"),  # 6000 ÷ 30 × (98 + 60 extended)
    ("6000.00", True, 1, 173, "34600.00"),  # + 15 for a difficult birth
    ("6000.00", False, 2, 173, "34600.00"),  # + 15 for the second baby
    ("7321.55", True, 3, 203, "49542.49"),  # 7321.55 × 203 ÷ 30 = 49542.4883…, rounded once at the end
]


@pytest.mark.parametrize("region", regions())
@pytest.mark.parametrize(("wage", "difficult", "babies", "days", "expected"), ALLOWANCES)
def test_maternity_allowance_worked_examples(region, wage, difficult, babies, days, expected):
    rule = policy_on(region, date(2026, 6, 1)).allowance
    result = calculation.maternity_allowance(Decimal(wage), rule, difficult_birth=difficult, babies=babies)
    assert result.amount == Decimal(expected)
    assert result.lines[-1].days == days
    statutory = next(line for line in result.lines if line.key == "statutory_days")
    assert statutory.days == 98 and "国务院令第619号" in statutory.source and not statutory.is_demo
    extended = next(line for line in result.lines if line.key == "extended_days")
    assert extended.is_demo  # the province's extension is data the agency must confirm
    assert "社会保险法" in result.lines[-1].source


@pytest.mark.parametrize(("balance", "expected"), [("1234.56", "1234.56"), ("0.00", "0.00"), ("-3.00", "0.00")])
def test_withdrawal_is_the_balance_on_the_day(balance, expected):
    assert calculation.withdrawal(Decimal(balance)).amount == Decimal(expected)


def test_the_policy_in_force_is_the_one_of_the_day_of_care():
    assert policy_on("yueyang", date(2026, 6, 1)).effective_from == date(2024, 1, 1)
    assert policy_on("yueyang", date(2020, 1, 1)).ref == "yueyang@2024-01-01"  # before any: the earliest
