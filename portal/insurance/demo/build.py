"""Building the plan: who lives in the demo region (the logins, then a realistic mix by category)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from ..constants import BenefitKind, BenefitStatus, HealthCareLevel, InsuranceType, PersonCategory
from .benefits import Benefits
from .common import DEMO_FIRST_MONTH, WINDOW, DemoPlan, local_time, months, years_before
from .lives import Lives
from .logins import demo_citizens
from .persons import Persons
from .regions import CATEGORY_SHARES, CHRONIC, REMOTE_DESTINATIONS, SPECIAL_DRUGS


class Builder(Lives, Persons, Benefits):
    """All the entity builders over one random stream."""


def _category_counts(total: int) -> list[tuple[PersonCategory, int]]:
    counts = [(c, max(3, round(total * share))) for c, share in CATEGORY_SHARES]
    counts[0] = (counts[0][0], counts[0][1] + total - sum(n for _c, n in counts))  # the rest are employees
    return counts


def build_demo_plan(seed: int = 20261122, persons: int = 2000, units: int = 100, region: str = "jilin") -> DemoPlan:
    """The demo rows for ``seed``, in memory. ``persons`` and ``units`` include the fixed demo ones."""
    return next(demo_plans(seed, persons, units, region, chunk=None))


def demo_plans(seed: int = 20261122, persons: int = 2000, units: int = 100, region: str = "jilin", *,
               chunk: int | None = 2000) -> Iterator[DemoPlan]:
    """The demo rows for ``seed`` in plans of about ``chunk`` persons each (all in one when None), so any number
    of persons is built and written in bounded memory. The rows are the same whatever the chunk: one random
    stream, drawn in the same order; the units and the documented logins are in the first plan."""
    logins = demo_citizens(region)
    if persons < len(logins) + 10 or units < 2:
        raise ValueError(f"need at least {len(logins) + 10} persons and 2 units")
    b = Builder(seed, region)
    b.add_units(units)
    _add_demo_citizens(b)
    r = b.rng
    for category, count in _category_counts(persons - len(logins)):
        for _ in range(count):
            _add_random_person(b, category, r)
            if chunk and len(b.plan.persons) >= chunk:
                yield b.take()
    if b.plan.persons or not b.persons_before:
        yield b.take()


def _add_demo_citizens(b: Builder) -> None:
    """The documented logins, with histories drawn from their own fixed seed so they never change."""
    main_rng, demo_unit = b.rng, b.units[0]
    b.rng = random.Random("portal-demo-citizens")
    by_key = {c.key: c for c in b.logins.citizens}
    p = b.add_person(PersonCategory.EMPLOYEE, citizen=by_key["employee"], unit=demo_unit)
    b.employee_life(p, demo_unit, enrolled_on=date(2008, 7, 1), base=8600, carried=Decimal("6234.50"))
    p = b.add_person(PersonCategory.RETIREE, citizen=by_key["retiree"], unit=demo_unit, is_model_worker=True)
    b.employee_life(p, demo_unit, enrolled_on=date(1999, 1, 1), retire_on=date(2013, 6, 20), base=4200,
                    carried=Decimal("3120.00"))
    b.benefit(p, BenefitKind.CHRONIC_DISEASE, CHRONIC[1], date(2023, 3, 1), date(2028, 2, 29))
    p = b.add_person(PersonCategory.RESIDENT, citizen=by_key["resident"])
    b.resident_life(p, enrolled_on=date(2016, 1, 1), birth=by_key["resident"].birth_date)
    p = b.add_person(PersonCategory.FLEXIBLE, citizen=by_key["flexible"])
    b.flexible_life(p, enrolled_on=date(2017, 4, 1), gap=(date(2023, 5, 1), date(2023, 9, 1)))
    b.rng = main_rng


def _add_random_person(b: Builder, category: PersonCategory, r: random.Random) -> None:
    C = PersonCategory
    window_start = DEMO_FIRST_MONTH
    if category is C.EMPLOYEE:
        unit = b.pick_unit()
        birth = b.birth_date(1967, 2003)
        p = b.add_person(category, birth=birth, unit=unit, is_model_worker=r.random() < 0.01)
        joined_late = r.random() < 0.25 or birth.year + 19 > 2021
        enrolled_on = (r.choice(months(max(window_start, date(birth.year + 19, 1, 1)), date(2026, 6, 1))) if joined_late
                       else date(r.randint(max(birth.year + 19, 1995), 2021), r.randint(1, 12), 1))
        leave_on = (r.choice(WINDOW[12:-1]) + timedelta(days=r.randint(0, 27))
                    if not joined_late and r.random() < 0.04 else None)
        b.employee_life(p, unit, enrolled_on=enrolled_on, leave_on=leave_on, transfer=r.random() < 0.06)
        if b.plan.persons[p]["gender"] == "F" and 1986 <= birth.year <= 2000 and r.random() < 0.06:
            born = date(r.randint(2022, 2026), r.randint(1, 9), r.randint(1, 28))
            b.benefit(p, BenefitKind.MATERNITY, ("L10118", "生育津贴"), born, born + timedelta(days=157),
                      BenefitStatus.EXPIRED if born < date(2026, 5, 1) else BenefitStatus.ACTIVE,
                      delivery_date=born.isoformat(), leave_days=158)
    elif category is C.RETIREE:
        gender = r.choice("MF")
        within = r.random() < 0.25
        retire_on = (r.choice(WINDOW[1:-1]) + timedelta(days=r.randint(0, 27)) if within
                     else date(r.randint(1995, 2021), r.randint(1, 12), r.randint(1, 28)))
        age = 60 if gender == "M" else r.choice((50, 55))
        birth = years_before(retire_on, age)
        unit = b.pick_unit() if within or r.random() < 0.7 else None  # long retired: managed by the community
        p = b.add_person(category, gender=gender, birth=birth, unit=unit,
                         is_model_worker=r.random() < 0.04, is_disabled_veteran=r.random() < 0.01,
                         health_care_level=r.choice(list(HealthCareLevel)[1:]) if r.random() < 0.03 else None)
        die_on = (r.choice(WINDOW[6:-3]) + timedelta(days=r.randint(0, 27))
                  if not within and r.random() < 0.03 else None)
        b.employee_life(p, unit or b.pick_unit(), enrolled_on=date(max(birth.year + 20, 1995), 1, 1),
                        retire_on=retire_on, die_on=die_on)
        if unit is None:
            b.plan.persons[p]["unit_id"] = None
            for row in b.plan.enrolments[b.rows_of_last_person(b.plan.enrolments, p):]:
                row["unit_id"] = None
        if r.random() < 0.15:
            start = date(r.randint(2022, 2026), r.randint(1, 9), 1)
            b.benefit(p, BenefitKind.CHRONIC_DISEASE, r.choice(CHRONIC), start, years_before(start, -5))
        if r.random() < 0.05:
            code, place = r.choice(REMOTE_DESTINATIONS)
            b.benefit(p, BenefitKind.REMOTE_CARE_FILING, ("002036004001", "异地安置退休人员备案"),
                      date(r.randint(2022, 2026), r.randint(1, 9), 1), None, destination_code=code,
                      destination=place, category="resettled_retiree")
        if r.random() < 0.01:
            start = date(r.randint(2024, 2026), r.randint(1, 9), 1)
            b.benefit(p, BenefitKind.SPECIAL_DRUG, r.choice(SPECIAL_DRUGS), start, start + timedelta(days=364))
    elif category is C.RETIRED_CADRE:
        gender = r.choice("MF")
        unit = b.pick_unit()
        p = b.add_person(category, gender=gender, birth=b.birth_date(1926, 1932), unit=unit,
                         health_care_level=r.choice(list(HealthCareLevel)[:2]))
        b.enrol(p, InsuranceType.EMPLOYEE_MEDICAL, date(1995, 1, 1), unit)
    elif category is C.FLEXIBLE:
        birth = b.birth_date(1968, 2000)
        p = b.add_person(category, birth=birth)
        enrolled_on = (date(r.randint(max(birth.year + 20, 2005), 2021), r.randint(1, 12), 1)
                       if r.random() < 0.8 else r.choice(WINDOW[:-6]))
        gap = None
        if r.random() < 0.2:
            start = r.choice(WINDOW[12:-6])
            gap = (start, months(start, date(2030, 1, 1))[r.randint(2, 10)])
        arrears = frozenset(r.sample(WINDOW[-6:], r.randint(1, 3))) if r.random() < 0.12 else frozenset()
        b.flexible_life(p, enrolled_on=max(enrolled_on, date(2005, 1, 1)), gap=gap, arrears=arrears)
    elif category in (C.RESIDENT, C.STUDENT):
        birth = b.birth_date(1946, 2004) if category is C.RESIDENT else b.birth_date(2005, 2020)
        roll = r.random()
        p = b.add_person(category, birth=birth, is_extreme_poverty=roll < 0.02,
                         is_subsistence_allowance=0.02 <= roll < 0.08,
                         is_severely_disabled=0.08 <= roll < 0.10)
        enrolled_on = date(max(birth.year + 1, 2010), 1, 1) if r.random() < 0.9 else date(r.randint(2022, 2026), 1, 1)
        skip = [r.randint(2023, 2025)] if r.random() < 0.08 else []
        b.resident_life(p, enrolled_on=enrolled_on, birth=birth, skip_years=skip)
    elif category is C.NEWBORN:
        birth = date(2026, 1, 1) + timedelta(days=r.randrange(0, 272))
        p = b.add_person(category, birth=birth)
        enrolled_on = birth + timedelta(days=r.randint(1, min(89, (date(2026, 10, 31) - birth).days)))
        b.resident_life(p, enrolled_on=enrolled_on, birth=birth)
        b.plan.enrolments[-1]["start_date"] = birth  # coverage from birth when enrolled within 90 days
        b.plan.events[-1].update(effective_date=birth, recorded_at=local_time(enrolled_on, 9),
                                 note="新生儿出生90日内参保，自出生之日起享受待遇")
