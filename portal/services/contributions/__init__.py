"""Contributions that count: 缴费基数申报 stores each person's declared base for the year, and the unit's contribution
statement (应缴核定单) is computed from it.

- The handler (``enrolment.contribution_base``: 吉林 单位/职工缴费基数申报, 四川 参保单位缴费基数申报,
  林口 缴费基数核定) takes, besides the item's published form, a table of the unit's staff with each one's monthly
  base — a table this service adds (its label says so; optional, since the published form has none), which a unit
  fills by typing or from a spreadsheet roster (``portal.rosters``).
  Completion checks every row (the person insured through the filing unit, the same person not twice) and writes
  one ``DeclaredBase`` per person and year, all or none, through the case's ledger (so 事后核查 can revoke it).
- ``statement``: per person insured through the unit in a month, the declared base × the region's rates
  (``data/rates.yaml``; demo values until the agency sets its own, and marked so), the unit's and the person's share,
  and the totals; persons without a declared base are listed as such, and the unit's months in arrears follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from ...catalog.schema import FieldType, Name
from ...core import clock
from ...core.db import db
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import normalize_id_number
from ...insurance.constants import EnrolmentStatus, InsuranceType
from ...insurance.models import Enrolment, Person
from ..base import FilingContext, Handler, case_table, register
from ..effects import EffectRefused, Ledger, revert
from ..enrolment.records import find_person, persons_prefetched, refusal
from .models import DeclaredBase

TABLE = "bases"
CENT = Decimal("0.01")


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


@register("enrolment.contribution_base")
class ContributionBase(Handler):
    """缴费基数申报: the staff's monthly bases for the year, stored at completion."""

    name = "contribution_base"

    def form_specs(self, item: Any, audience: str) -> list[Any] | None:
        from ...applications.fields import FieldSpec, published_specs

        if audience != "unit":
            return None
        specs = published_specs(item, audience)
        if not any(s.key == "year" for s in specs):
            specs.append(FieldSpec("year", _n("申报年度（本服务增设）", "Year declared (added by this service)"),
                                   FieldType.number, True))
        columns = (FieldSpec("name", _n("姓名", "Name"), FieldType.text, True),
                   FieldSpec("id_number", _n("身份证件号码", "ID number"), FieldType.id_number, True),
                   FieldSpec("base", _n("月缴费基数(元)", "Monthly base (yuan)"), FieldType.money, True))
        specs.append(FieldSpec(TABLE, _n("职工缴费基数明细（本服务增设）", "Staff contribution bases (added by this "
                                                                 "service)"),
                               FieldType.table, False, max_rows=50, columns=columns))
        return specs

    def year(self, case: Any) -> int:
        raw = str(case.form_data.get("year") or "").split(".")[0]
        year = int(raw) if raw.isdigit() else clock.today().year
        return year if 2000 <= year <= 2100 else clock.today().year

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Check every row, then store every base; refuse with every problem at once."""
        rows = case_table(case)
        year = self.year(case)
        problems: list[tuple[str, str]] = []
        wanted: list[tuple[Person, Decimal]] = []
        numbers = []
        for raw in rows:
            try:
                numbers.append(normalize_id_number(raw.get("id_number")))
            except ValidationFailed:
                numbers.append("")
        seen: dict[str, int] = {}
        with persons_prefetched(n for n in numbers if n):
            for index, (raw, number) in enumerate(zip(rows, numbers, strict=True), start=1):
                row = raw.get("_row", index)
                person = find_person(number) if number else None
                base = Decimal(str(raw.get("base") or "0"))
                if person is None:
                    problems.append((f"row.{row}", _("Row %(n)d: this person is not in the insurance records.", n=row)))
                elif not insured_through(person, case.unit_id):
                    problems.append((f"row.{row}", _("Row %(n)d: not insured through this unit.", n=row)))
                elif seen.setdefault(number, row) != row:
                    problems.append((f"row.{row}", _("Row %(n)d: the same person as row %(first)d.", n=row,
                                                     first=seen[number])))
                elif base <= 0:
                    problems.append((f"row.{row}", _("Row %(n)d: the base must be more than zero.", n=row)))
                else:
                    wanted.append((person, base))
            if problems:
                raise EffectRefused(refusal(problems))
            if not wanted:
                return
            ledger = Ledger()
            existing = {d.person_id: d for d in db.session.execute(select(DeclaredBase).where(
                DeclaredBase.year == year, DeclaredBase.person_id.in_([p.id for p, _b in wanted]))).scalars()}
            new = []
            for person, base in wanted:
                row = existing.get(person.id)
                if row is None:
                    new.append(DeclaredBase(person_id=person.id, unit_id=case.unit_id, year=year, base=base,
                                            application_id=case.id, declared_at=clock.now()))
                elif (row.base, row.unit_id, row.application_id) != (base, case.unit_id, case.id):
                    ledger.changed(row, base=base, unit_id=case.unit_id, application_id=case.id)
            ledger.created_all(new)
            ledger.save(case, case.handler)

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


def insured_through(person: Person, unit_id: int | None) -> bool:
    """The person has an open employee-scheme enrolment through the unit."""
    return unit_id is not None and any(
        e.unit_id == unit_id and e.insurance_type is InsuranceType.EMPLOYEE_MEDICAL
        and e.status is not EnrolmentStatus.TERMINATED for e in person.enrolments)


# --- rates and the statement -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    unit_rate: Decimal
    personal_rate: Decimal
    demo: bool
    source: str | None


@cache
def _rates_data() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).parent / "data" / "rates.yaml").read_text(encoding="utf-8"))


def rates(region: str) -> Rates:
    data = _rates_data()[region]
    return Rates(Decimal(data["unit_rate"]), Decimal(data["personal_rate"]), bool(data.get("demo")),
                 data.get("source"))


@dataclass(frozen=True)
class StatementLine:
    insured_no: str
    name: str
    id_number: str
    base: Decimal | None  # None: no base declared for the year
    unit_amount: Decimal
    personal_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_amount + self.personal_amount


@dataclass(frozen=True)
class Statement:
    month: date
    rates: Rates
    lines: list[StatementLine]

    @property
    def unit_total(self) -> Decimal:
        return sum((line.unit_amount for line in self.lines), Decimal("0.00"))

    @property
    def personal_total(self) -> Decimal:
        return sum((line.personal_amount for line in self.lines), Decimal("0.00"))

    @property
    def undeclared(self) -> int:
        return sum(1 for line in self.lines if line.base is None)


def statement(unit: Any, month: date, region: str) -> Statement:
    """应缴核定单 of ``unit`` for ``month``: every person with an active employee enrolment through the unit, the base
    declared for the month's year × the region's rates (rounded to the fen), names and numbers masked."""
    from ...core.masking import mask_id_number, mask_name

    rate = rates(region)
    enrolled = db.session.execute(
        select(Person).join(Enrolment, Enrolment.person_id == Person.id).where(
            Enrolment.unit_id == unit.id, Enrolment.insurance_type == InsuranceType.EMPLOYEE_MEDICAL,
            Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.start_date < _next_month(month))
        .order_by(Person.insured_no)).scalars().all()
    bases = dict(db.session.execute(select(DeclaredBase.person_id, DeclaredBase.base).where(
        DeclaredBase.year == month.year, DeclaredBase.person_id.in_([p.id for p in enrolled]))).all()) \
        if enrolled else {}
    lines = []
    for person in enrolled:
        base = bases.get(person.id)
        unit_amount = (base * rate.unit_rate).quantize(CENT, ROUND_HALF_UP) if base else Decimal("0.00")
        personal_amount = (base * rate.personal_rate).quantize(CENT, ROUND_HALF_UP) if base else Decimal("0.00")
        lines.append(StatementLine(person.insured_no, mask_name(person.name), mask_id_number(person.id_number), base,
                                   unit_amount, personal_amount))
    return Statement(month, rate, lines)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


from . import back_payment  # noqa: E402,F401 (registers 补缴's handler; it uses the rates above)
