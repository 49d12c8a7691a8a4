"""Deterministic demo data for the system of record: persons, units, enrolments, contributions, accounts.

Everything is drawn from ``random.Random(seed)``: the same seed and region give the same people, the same
身份证 numbers and 统一社会信用代码, and the same histories (ciphertexts differ, the plaintexts do not).
The data are built in two steps: ``build_demo_plan`` makes plain rows in memory (pure, testable without
a database), ``generate_demo_data`` inserts them in bulk. The documented demo logins (``DEMO_CITIZENS``,
``DEMO_UNIT``: Jilin's; ``demo_citizens(region)``, ``demo_unit(region)``) are the same for every seed, and each
region has its own people and unit, plausible for that region.

Histories cover ``DEMO_FIRST_MONTH`` … ``DEMO_LAST_MONTH``: monthly employee contributions (unit 6–8 %,
personal 2 %, credited to the personal account), annual resident contributions, retirees who stop paying
and get a fixed monthly account credit, flexible workers without a unit, newborns of the current year
enrolled within 90 days of birth, arrears, transfers, interruptions and deaths.
"""

from __future__ import annotations

from .build import build_demo_plan, demo_plans
from .common import DEMO_FIRST_MONTH, DEMO_LAST_MONTH, WINDOW, DemoPlan, months
from .identities import organisation_code
from .loading import DemoSummary, ensure_demo_data, generate_demo_data, has_persons, insert_plan
from .logins import (
    DEMO_CITIZENS,
    DEMO_UNIT,
    DEMO_UNIT_AGENT_PHONE,
    LOGINS,
    DemoCitizen,
    DemoUnit,
    all_demo_citizens,
    demo_citizens,
    demo_unit,
)
from .regions import REGIONS, DemoRegion, demo_region

__all__ = [
    "DEMO_CITIZENS",
    "DEMO_FIRST_MONTH",
    "DEMO_LAST_MONTH",
    "DEMO_UNIT",
    "DEMO_UNIT_AGENT_PHONE",
    "LOGINS",
    "REGIONS",
    "WINDOW",
    "DemoCitizen",
    "DemoPlan",
    "DemoRegion",
    "DemoSummary",
    "DemoUnit",
    "all_demo_citizens",
    "build_demo_plan",
    "demo_citizens",
    "demo_plans",
    "demo_region",
    "demo_unit",
    "ensure_demo_data",
    "generate_demo_data",
    "has_persons",
    "insert_plan",
    "months",
    "organisation_code",
]
