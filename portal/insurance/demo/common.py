"""The demo window, money and time helpers, the plan (plain rows), and the state the builders share."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ...core.clock import LOCAL_TZ
from .logins import DEMO_UNIT_AGENT_PHONE, all_demo_citizens, demo_logins
from .regions import SURNAMES, demo_region

if TYPE_CHECKING:
    from .units import UnitTraits


DEMO_FIRST_MONTH = date(2022, 1, 1)
DEMO_LAST_MONTH = date(2026, 10, 1)
CENT = Decimal("0.01")


def months(first: date, last: date) -> list[date]:
    """First days of the months from ``first`` to ``last``, both included."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


WINDOW = months(DEMO_FIRST_MONTH, DEMO_LAST_MONTH)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=4096)  # the same few thousand days and hours, hundreds of thousands of times at scale
def local_time(day: date, hour: int = 10) -> datetime:
    """A local (Asia/Shanghai) time on ``day``, as UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(UTC)


# --------------------------------------------------------------------------------------------------
# The plan: plain rows, foreign keys given as list positions until insertion


@dataclass
class DemoPlan:
    """Rows to insert. In these rows ``unit_id``/``person_id``/``enrolment_id``/``account_id`` and the
    event's unit columns hold positions in the lists below; ``insert_plan`` replaces them with database ids."""

    region: str
    units: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    enrolments: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    contributions: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    benefits: list[dict[str, Any]] = field(default_factory=list)


def cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class BuilderState:
    """What every entity's builder shares: the one random stream (so the order of draws fixes the data), the
    region's parameters, the plan being filled, and the identities already given out (kept unique)."""

    def __init__(self, seed: int, region_id: str):
        self.rng = random.Random(seed)
        self.region = demo_region(region_id)
        self.plan = DemoPlan(region=region_id)
        self.persons_before = 0  # persons of the chunks already handed out (``Builder.take``)
        self.logins = demo_logins(region_id)
        self.id_numbers: set[str] = {c.id_number for c in all_demo_citizens()}
        self.phones: set[str] = {c.phone for c in all_demo_citizens()} | {DEMO_UNIT_AGENT_PHONE}
        self.credit_codes: set[str] = {self.logins.unit.credit_code}
        self.unit_names: set[str] = {self.logins.unit.name}
        self.units: list[UnitTraits] = []
        self._surnames = [s for s, _w in SURNAMES]
        self._surname_cum = cumulative(w for _s, w in SURNAMES)
        self._ethnicities = [e for e, _w in self.region.ethnicities]
        self._ethnicity_cum = cumulative(w for _e, w in self.region.ethnicities)

    def take(self) -> DemoPlan:
        """The rows built so far, as a plan of their own; building goes on into a new, empty plan (positions in
        each plan start at 0; units are in the first plan only, and the positions of units stay valid)."""
        plan, self.plan = self.plan, DemoPlan(region=self.plan.region)
        self.persons_before += len(plan.persons)
        return plan

    def rows_of_last_person(self, rows: list[dict[str, Any]], person: int) -> int:
        """Where the rows of ``person`` start in ``rows`` (a person's rows are written together, so only the
        latest person is looked for, from the end)."""
        start = len(rows)
        while start and rows[start - 1]["person_id"] == person:
            start -= 1
        return start
