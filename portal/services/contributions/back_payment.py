"""补缴: contributions paid late for months a person owes (岳阳 法定断档补缴, 002036001007; filed by a unit for its
staff or by a flexible worker for themself).

The published form (参考样表8) lists per person the 补缴工资 (monthly base), the 参保险种, and the months from
补缴开始年月 to 补缴结束年月. ``working`` turns that into what is owed: for each person and insurance, each month of
the span that is not already paid (a month in arrears, or with no contribution at all), at base × the region's rates
(``data/rates.yaml`` — demo values, marked so, until the agency sets its own), the unit's and the person's share per
month rounded to the fen, and the totals. A flexible worker pays both shares (this service's reading of 灵活就业:
no employer pays a share for them; the page says so). Rates exist only for 职工基本医疗保险, so a row naming another
insurance is refused with that reason.

滞纳金 (late fees) are not computed: neither the seeds nor a regulation they cite gives the rule, and the pages say
the agency assesses any separately.

The filer sees the working on the draft, staff on the case; completion writes every owed month as paid with its
base and amounts (arrears rows change to paid, missing months are created), all or none, through the case's ledger
(revocable), and keeps the working on the case's effect; the unit's statement then shows those months resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import select

from ...core import clock
from ...core.db import db
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import normalize_id_number
from ...insurance.constants import ContributionStatus, InsuranceType
from ...insurance.models import Contribution, Person
from ..base import FilingContext, Finding, Handler, Severity, case_table, register
from ..effects import MODELS, EffectRefused, Ledger, revert
from ..enrolment.records import find_person, refusal
from . import Rates, rates

CENT = Decimal("0.01")
MAX_MONTHS = 600  # fifty years: a longer span is a typing mistake
EMPLOYEE_NAMES = frozenset({"", "职工基本医疗（生育）保险", "职工基本医疗保险", "职工医保", "职工医疗保险",
                            "基本医疗保险", "职工基本医疗"})  # how the form's 参保险种 names it (blank: the same)

MODELS.setdefault(Contribution.__tablename__, Contribution)  # the ledger can undo what completion writes


@dataclass(frozen=True)
class Line:
    """One row of the form, worked out (``problem`` set when it cannot be)."""

    row: int
    name: str
    id_number: str
    base: Decimal | None
    first: date | None
    last: date | None
    owed: tuple[date, ...] = ()
    already_paid: int = 0
    in_arrears: int = 0  # of ``owed``: months the records hold as 欠缴 (the others have no record)
    unit_monthly: Decimal = Decimal("0.00")
    personal_monthly: Decimal = Decimal("0.00")
    problem: str | None = None
    person_id: int | None = None

    @property
    def months(self) -> int:
        return len(self.owed)

    @property
    def unit_total(self) -> Decimal:
        return self.unit_monthly * self.months

    @property
    def personal_total(self) -> Decimal:
        return self.personal_monthly * self.months

    @property
    def total(self) -> Decimal:
        return self.unit_total + self.personal_total


@dataclass(frozen=True)
class Working:
    rates: Rates
    flexible: bool  # a flexible worker pays both shares
    lines: tuple[Line, ...]

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(f"row.{line.row}", line.problem) for line in self.lines if line.problem]

    @property
    def months(self) -> int:
        return sum(line.months for line in self.lines)

    @property
    def unit_total(self) -> Decimal:
        return sum((line.unit_total for line in self.lines), Decimal("0.00"))

    @property
    def personal_total(self) -> Decimal:
        return sum((line.personal_total for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.unit_total + self.personal_total


def months_of(first: date, last: date) -> list[date]:
    """The first days of the months ``first``..``last``, both included."""
    out, month = [], date(first.year, first.month, 1)
    while month <= last:
        out.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def _month(value: Any) -> date | None:
    text = str(value or "").strip()
    try:
        year, month = text[:7].split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount.quantize(CENT, ROUND_HALF_UP) if amount.is_finite() else None


def working(case: Any, data: dict[str, Any] | None = None) -> Working:
    """What the case's rows owe now, against the records (read only); ``data``: the form being submitted."""
    rate = rates(current_app.config["PORTAL_REGION"])
    form = case.form_data if data is None else data
    flexible = case.audience != "unit" or form.get("flexible_worker") in (True, "true", "1", "y")
    this_month = clock.today().replace(day=1)
    rows = case_table(case) if data is None else [r for r in data.get("persons") or [] if isinstance(r, dict)]
    lines, seen = [], {}
    for index, raw in enumerate(rows, start=1):
        row = int(raw.get("_row", index))
        name = str(raw.get("name") or "")
        try:
            number = normalize_id_number(raw.get("id_number"))
        except ValidationFailed:
            number = ""
        base, first, last = _money(raw.get("back_pay_wage")), _month(raw.get("start_month")), _month(
            raw.get("end_month"))
        line = Line(row, name, number, base, first, last)

        def refused(message: str, line: Line = line) -> Line:
            return Line(line.row, line.name, line.id_number, line.base, line.first, line.last, problem=message)

        kind = str(raw.get("insurance_type") or "").strip()
        person = find_person(number) if number else None
        if not number:
            line = refused(_("Row %(n)d: the ID number is missing or not valid.", n=row))
        elif base is None or base <= 0:
            line = refused(_("Row %(n)d: the monthly wage for the back-payment must be an amount above zero.", n=row))
        elif first is None or last is None or first > last:
            line = refused(_("Row %(n)d: the back-payment months must run from a start month to an end month no "
                             "earlier than it.", n=row))
        elif last >= this_month:
            line = refused(_("Row %(n)d: only months before this one can be back-paid.", n=row))
        elif len(months_of(first, last)) > MAX_MONTHS:
            line = refused(_("Row %(n)d: the span is longer than %(max)d months.", n=row, max=MAX_MONTHS))
        elif kind not in EMPLOYEE_NAMES:
            line = refused(_("Row %(n)d: this service computes back-payments of 职工基本医疗保险 only (the only "
                             "insurance whose rates are in the region's data), not “%(kind)s”.", n=row, kind=kind))
        elif person is None:
            line = refused(_("Row %(n)d: this person is not in the insurance records.", n=row))
        elif seen.setdefault(person.id, row) != row:
            line = refused(_("Row %(n)d: the same person as row %(first)d.", n=row, first=seen[person.id]))
        elif not _may_pay_for(case, person):
            line = refused(_("Row %(n)d: this person is not insured through this unit.", n=row)
                           if case.audience == "unit" else _("Row %(n)d: you may back-pay only for yourself.", n=row))
        else:
            line = _owed(line, person, rate, flexible)
        lines.append(line)
    return Working(rate, flexible, tuple(lines))


def _may_pay_for(case: Any, person: Person) -> bool:
    if case.audience == "unit":
        return case.unit_id is not None and any(
            e.unit_id == case.unit_id and e.insurance_type is InsuranceType.EMPLOYEE_MEDICAL for e in person.enrolments)
    return case.person_id == person.id


def _owed(line: Line, person: Person, rate: Rates, flexible: bool) -> Line:
    span = months_of(line.first, line.last)
    held = dict(db.session.execute(select(Contribution.period_month, Contribution.status).where(
        Contribution.person_id == person.id, Contribution.insurance_type == InsuranceType.EMPLOYEE_MEDICAL,
        Contribution.period_month >= span[0], Contribution.period_month <= span[-1])).all())
    owed = tuple(m for m in span if held.get(m) != ContributionStatus.PAID)
    unit = (line.base * rate.unit_rate).quantize(CENT, ROUND_HALF_UP)
    personal = (line.base * rate.personal_rate).quantize(CENT, ROUND_HALF_UP)
    return Line(line.row, line.name, line.id_number, line.base, line.first, line.last, owed=owed,
                already_paid=len(span) - len(owed), in_arrears=sum(1 for m in owed if m in held), unit_monthly=unit,
                personal_monthly=personal, person_id=person.id)


@register("enrolment.back_payment")
class BackPayment(Handler):
    """法定断档补缴: the months owed, worked out for the filer and staff, paid into the records at completion."""

    name = "back_payment"

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        if context.case is not None:
            for _key, message in working(context.case).problems:
                findings.append(Finding(Severity.WARNING, message, "back_payment"))
        return findings

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        if not complete or context.case is None:
            return []
        return [("persons", message) for _key, message in working(context.case, context.data).problems]

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Every owed month paid at its base and amounts, all or none; refused with every problem at once."""
        found = working(case)
        if found.problems:
            raise EffectRefused(refusal(found.problems))
        ledger, now = Ledger(), clock.now()
        unit_id = None if found.flexible else case.unit_id
        for line in found.lines:
            held = {c.period_month: c for c in db.session.execute(select(Contribution).where(
                Contribution.person_id == line.person_id,
                Contribution.insurance_type == InsuranceType.EMPLOYEE_MEDICAL,
                Contribution.period_month.in_(line.owed))).scalars()}
            new = []
            for month in line.owed:
                values = {"base": line.base, "unit_amount": line.unit_monthly,
                          "personal_amount": line.personal_monthly, "status": ContributionStatus.PAID, "paid_at": now}
                if month in held:
                    ledger.changed(held[month], **values)
                else:
                    new.append(Contribution(person_id=line.person_id, unit_id=unit_id,
                                            insurance_type=InsuranceType.EMPLOYEE_MEDICAL, period_month=month,
                                            **values))
            ledger.created_all(new)
        ledger.note(working=summary(found))
        ledger.save(case, case.handler)

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


def summary(found: Working) -> dict[str, Any]:
    """The working as kept on the case's effect (no names or numbers: rows, months, amounts)."""
    return {"unit_rate": str(found.rates.unit_rate), "personal_rate": str(found.rates.personal_rate),
            "demo": found.rates.demo, "flexible": found.flexible, "months": found.months,
            "unit_total": str(found.unit_total), "personal_total": str(found.personal_total),
            "total": str(found.total),
            "lines": [{"row": line.row, "base": str(line.base), "owed": [m.isoformat()[:7] for m in line.owed],
                       "unit_monthly": str(line.unit_monthly), "personal_monthly": str(line.personal_monthly)}
                      for line in found.lines]}


def _ranges(months: list[date]) -> str:
    """``2024-01—2024-03、2024-05``: runs of consecutive months."""
    runs: list[list[date]] = []
    for month in months:
        if runs and months_of(runs[-1][-1], month)[1:] == [month]:
            runs[-1].append(month)
        else:
            runs.append([month])
    return "、".join(f"{r[0]:%Y-%m}" + (f"—{r[-1]:%Y-%m}" if len(r) > 1 else "") for r in runs)


def panel(case: Any) -> dict[str, Any] | None:
    """The working as the pages show it: live while the case is open, as kept at completion once completed (the
    records then hold those months as paid); names masked. None for other items."""
    from ...core.masking import mask_name
    from ..effects import effect_of

    if case is None or case.handler != "enrolment.back_payment":
        return None
    effect = effect_of(case) if case.state == "completed" else None
    kept = next((s["working"] for s in (effect.steps if effect else []) if s["op"] == "note"), None)
    rows = dict(enumerate(case_table(case), start=1))
    if kept is not None:
        lines = [{"row": k["row"], "name": mask_name(str(rows.get(k["row"], {}).get("name") or "")),
                  "base": Decimal(k["base"]), "months": len(k["owed"]),
                  "owed": _ranges([_month(m) for m in k["owed"]]), "already_paid": None,
                  "unit_monthly": Decimal(k["unit_monthly"]), "personal_monthly": Decimal(k["personal_monthly"]),
                  "unit_total": Decimal(k["unit_monthly"]) * len(k["owed"]),
                  "personal_total": Decimal(k["personal_monthly"]) * len(k["owed"]), "problem": None}
                 for k in kept["lines"]]
        return {"stored": True, "demo": kept["demo"], "unit_rate": Decimal(kept["unit_rate"]),
                "personal_rate": Decimal(kept["personal_rate"]), "flexible": kept["flexible"], "lines": lines,
                "months": kept["months"], "unit_total": Decimal(kept["unit_total"]),
                "personal_total": Decimal(kept["personal_total"]), "total": Decimal(kept["total"])}
    found = working(case)
    lines = [{"row": line.row, "name": mask_name(line.name), "base": line.base, "months": line.months,
              "owed": _ranges(list(line.owed)), "already_paid": line.already_paid,
              "unit_monthly": line.unit_monthly, "personal_monthly": line.personal_monthly,
              "unit_total": line.unit_total, "personal_total": line.personal_total, "problem": line.problem}
             for line in found.lines]
    return {"stored": False, "demo": found.rates.demo, "unit_rate": found.rates.unit_rate,
            "personal_rate": found.rates.personal_rate, "flexible": found.flexible, "lines": lines,
            "months": found.months, "unit_total": found.unit_total, "personal_total": found.personal_total,
            "total": found.total}
