"""Payment policy as data (``data/policy.yaml``): per region, effective-dated, each number with its source.

``policy_on(region, day)`` is the policy in force on ``day`` (the day of care: a claim is paid by the rules of
the day the costs arose). Values marked ``demo`` are placeholders the agency must replace; the working shown to
staff says so on every line that uses one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

POLICY_FILE = Path(__file__).with_name("data") / "policy.yaml"
LEVELS = ("1", "2", "3")  # 一级, 二级, 三级 hospitals
SCHEMES = ("employee_medical", "resident_medical", "maternity")
AREAS = ("in_area", "out_of_area")


@dataclass(frozen=True)
class ReimbursementRule:
    """起付线, 支付比例 and 封顶线 of one scheme for care in or out of the insured area."""

    deductible: dict[str, Decimal]
    rate: dict[str, Decimal]
    annual_cap: Decimal
    is_demo: bool
    source: str


@dataclass(frozen=True)
class AllowanceRule:
    statutory_days: int
    difficult_birth_days: int
    per_extra_baby_days: int
    days_source: str
    extended_days: int
    extended_is_demo: bool
    extended_source: str
    day_divisor: int
    divisor_is_demo: bool
    wage_source: str


@dataclass(frozen=True)
class CareRule:
    """长期护理保险 费用 of one 失能等级 (band key of the ADL scale): the rate paid and the yearly cap."""

    rate: Decimal
    annual_cap: Decimal
    is_demo: bool
    source: str


@dataclass(frozen=True)
class Policy:
    region: str
    effective_from: date
    reimbursement: dict[tuple[str, str], ReimbursementRule]
    allowance: AllowanceRule
    care: dict[str, CareRule] = field(default_factory=dict)  # by 失能等级 (band key); empty: no 长护 here

    @property
    def ref(self) -> str:
        """Names the policy version a calculation used (kept with the claim)."""
        return f"{self.region}@{self.effective_from.isoformat()}"


def _rule(raw: dict[str, Any]) -> ReimbursementRule:
    return ReimbursementRule(
        deductible={k: Decimal(str(raw["deductible"][k])) for k in LEVELS},
        rate={k: Decimal(str(raw["rate"][k])) for k in LEVELS},
        annual_cap=Decimal(str(raw["annual_cap"])),
        is_demo=bool(raw.get("demo", False)), source=str(raw.get("source", "")),
    )


def _allowance(raw: dict[str, Any]) -> AllowanceRule:
    return AllowanceRule(
        statutory_days=int(raw["statutory_days"]), difficult_birth_days=int(raw["difficult_birth_days"]),
        per_extra_baby_days=int(raw["per_extra_baby_days"]), days_source=str(raw["days_source"]),
        extended_days=int(raw["extended_days"]), extended_is_demo=bool(raw.get("extended_demo", False)),
        extended_source=str(raw["extended_source"]), day_divisor=int(raw["day_divisor"]),
        divisor_is_demo=bool(raw.get("divisor_demo", False)), wage_source=str(raw["wage_source"]),
    )


def _care(raw: dict[str, Any] | None) -> dict[str, CareRule]:
    if not raw:
        return {}
    demo, source = bool(raw.get("demo", False)), str(raw.get("source", ""))
    return {level: CareRule(Decimal(str(v["rate"])), Decimal(str(v["annual_cap"])), demo, source)
            for level, v in raw["levels"].items()}


@cache
def _load() -> dict[str, list[Policy]]:
    raw = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    out: dict[str, list[Policy]] = {}
    for region, entries in raw.items():
        if region == "default":
            continue
        versions = []
        for entry in entries:
            rules = {(scheme, area): _rule(entry["reimbursement"][scheme][area])
                     for scheme in SCHEMES for area in AREAS}
            start = entry["effective_from"]
            start = start if isinstance(start, date) else date.fromisoformat(str(start))
            versions.append(Policy(region, start, rules, _allowance(entry["maternity_allowance"]),
                                   _care(entry.get("long_term_care"))))
        out[region] = sorted(versions, key=lambda p: p.effective_from)
    return out


def policy_on(region: str, day: date) -> Policy:
    """The policy of ``region`` in force on ``day``; the earliest one for a day before any (never none)."""
    versions = _load()[region]
    current = versions[0]
    for version in versions:
        if version.effective_from <= day:
            current = version
    return current


def regions() -> list[str]:
    return sorted(_load())
