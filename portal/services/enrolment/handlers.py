"""The registered enrolment items of persons: staff (职工) roster items and the residents' (城乡居民) items."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...applications.operations.base import catalog_item
from ...core import clock
from ...core.formatting import local_date
from ...core.translation import gettext as _
from ...core.validators import id_birth_date
from ...insurance.constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType, PersonCategory
from ...insurance.models import Enrolment, Person
from ..base import FilingContext, Finding, Severity, register
from ..effects import Ledger
from .effect import EnrolmentEffect
from .records import K, Row, find_person, has_open_enrolment


@register("enrolment.staff_register")
class StaffRegister(EnrolmentEffect):
    """职工参保登记: the roster of additions and changes, every category its form offers."""

    name = "staff_register"


def _roster_change(name: str, what: str, *kinds: EnrolmentEventKind,
                   scheme: InsuranceType = InsuranceType.EMPLOYEE_MEDICAL) -> type[EnrolmentEffect]:
    """An enrolment item that records one roster change and differs from the others in nothing else: registered as
    ``enrolment.<name>``, allowing ``kinds`` (a row naming none gets the first) on ``scheme``."""
    cls = type("".join(part.title() for part in name.split("_")), (EnrolmentEffect,), {
        "__doc__": what, "__module__": __name__, "name": name, "kinds": frozenset(kinds), "default_kind": kinds[0],
        "scheme": scheme})
    return register(f"enrolment.{name}")(cls)


StaffSuspend = _roster_change("staff_suspend", "职工停保 / 减员 / 中断.", K.INTERRUPTED, K.TERMINATED)
StaffTerminate = _roster_change("staff_terminate", "职工退保 (终止参保).", K.TERMINATED)
StaffResume = _roster_change("staff_resume", "职工续保 / 恢复.", K.RESUMED)
StaffRetire = _roster_change("staff_retire", "职工在职转退休.", K.RETIRED)
StaffTransfer = _roster_change(
    "staff_transfer", "职工统筹区内转移: the receiving unit files; the person's enrolments move to it.", K.TRANSFERRED)
ResidentSuspend = _roster_change("resident_suspend", "城乡居民停保.", K.INTERRUPTED,
                                 scheme=InsuranceType.RESIDENT_MEDICAL)
ResidentTerminate = _roster_change("resident_terminate",
                                   "居民死亡退保 (or leaving the scheme): the resident enrolment ends.", K.TERMINATED,
                                   scheme=InsuranceType.RESIDENT_MEDICAL)


@register("enrolment.retiree_manage")
class RetireeManage(EnrolmentEffect):
    """退休人员医保管理 (岳阳): 死亡停保 ends the retiree's enrolments at the date of death; 医保管理责任单位变更
    moves them to the filing unit; 退休工资变更 changes nothing the records hold (the pension is not kept here)."""

    name = "retiree_manage"
    kinds = frozenset({K.TERMINATED, K.TRANSFERRED})
    default_kind = K.TERMINATED
    ignored_categories = frozenset({"退休工资变更"})


@register("enrolment.flexible_register")
class FlexibleRegister(EnrolmentEffect):
    """灵活就业人员参保登记: the person's own employee-scheme enrolment, without a unit."""

    name = "flexible_register"
    kinds = frozenset({K.ADDED})


@register("enrolment.resident_register")
class ResidentRegister(EnrolmentEffect):
    """城乡居民参保登记 and 续保: a new resident enrolment, or the suspended one resumed."""

    name = "resident_register"
    kinds = frozenset({K.ADDED})
    scheme = InsuranceType.RESIDENT_MEDICAL

    def rows(self, case: Any) -> list[Row]:
        rows = super().rows(case)
        out = []
        for row in rows:
            person = find_person(row.id_number)
            suspended = person is not None and any(
                e.insurance_type is self.scheme and e.status is EnrolmentStatus.SUSPENDED for e in person.enrolments)
            out.append(Row(row.number, row.name, row.id_number, K.RESUMED if suspended else K.ADDED, row.phone))
        return out

    def problem(self, case: Any, row: Row) -> tuple[str, str] | None:
        return super().problem(case, row) if row.kind is K.ADDED else None

    def new_person_placement(self, case: Any) -> tuple[PersonCategory, int | None]:
        return PersonCategory.RESIDENT, None

    def new_enrolment_unit(self, case: Any) -> int | None:
        return None

    def enrolment_for(self, case: Any, person: Person, today: date, ledger: Ledger) -> Enrolment:
        if person.category.is_employee_scheme:
            ledger.changed(person, category=PersonCategory.RESIDENT)
        return Enrolment(person_id=person.id, insurance_type=self.scheme, unit_id=None,
                         status=EnrolmentStatus.ACTIVE, start_date=today)


@register("enrolment.newborn")
class NewbornRegister(ResidentRegister):
    """新生儿参保登记 (吉林 G002036001003_02): the parent files on the newborn's behalf (the item's ``proxy:
    required``: the newborn is the principal, named with their 身份证 number), within the seed's window (rule
    ``newborn_enrol_within_days``: "新生儿应在出生 90 天内…"). Completion enrols the newborn in the resident scheme,
    adding them to the records when new, and links them to the parent who filed (``Person.guardian_id``).

    The window is checked on the filing day: before filing (the rule's own words block it) and again when the
    case completes, against the day it was submitted, so a case filed in time completes even if staff finish it
    later. Outside the window the seed sends the family to the ordinary new-enrolment rules (城乡居民参保登记).
    """

    name = "newborn"

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        case = context.case
        if case is None or not case.on_behalf or not case.principal_id_number:
            return findings
        problem = newborn_problem(context.item, case.principal_id_number, clock.today())
        if problem:
            findings.append(Finding(Severity.BLOCKING, problem, "newborn_enrol_within_days"))
        return findings

    def rows(self, case: Any) -> list[Row]:
        if not case.on_behalf or not case.principal_id_number:
            return [Row(1, "", "", K.ADDED)]
        return [Row(1, case.principal_name or "", case.principal_id_number, K.ADDED)]

    def problem(self, case: Any, row: Row) -> tuple[str, str] | None:
        key = f"row.{row.number}"
        if not row.id_number:
            return key, _("A newborn's enrolment is filed by the parent on the newborn's behalf: name the newborn "
                          "and their ID number as the person you file for.")
        if case.applicant is None or case.applicant.person_id is None:
            return key, _("The parent who files must have bound their real name.")
        item = catalog_item(case)
        filed_on = clock.to_local(case.submitted_at).date() if case.submitted_at else clock.today()
        reason = newborn_problem(item, row.id_number, filed_on)
        if reason:
            return key, reason
        person = find_person(row.id_number)
        if person is not None and has_open_enrolment(person, self.scheme):
            return key, _("The newborn is already insured in the resident scheme.")
        return None

    def new_person_placement(self, case: Any) -> tuple[PersonCategory, int | None]:
        return PersonCategory.NEWBORN, None

    def new_person_extra(self, case: Any) -> dict[str, Any]:
        return {"guardian_id": case.applicant.person_id}

    def enrolment_for(self, case: Any, person: Person, today: date, ledger: Ledger) -> Enrolment:
        enrolment = super().enrolment_for(case, person, today, ledger)
        if person.category is not PersonCategory.NEWBORN:
            ledger.changed(person, category=PersonCategory.NEWBORN)
        parent_id = case.applicant.person_id
        if person.guardian_id != parent_id:
            ledger.changed(person, guardian_id=parent_id)
        return enrolment


def newborn_problem(item: Any, id_number: str, day: date) -> str | None:
    """Why a newborn with ``id_number`` cannot be enrolled as a newborn on ``day``; None inside the window.

    The window is the item's ``newborn_enrol_within_days`` rule (days after birth, the birth day being day 0);
    refused in the rule's published words (the seed's Chinese, whatever the page's language)."""
    rule = next((r for r in item.rules if r.key == "newborn_enrol_within_days"), None)
    birth = id_birth_date(id_number)
    if birth > day:
        return _("The date of birth in the newborn's ID number is after today.")
    if rule is None or (day - birth).days <= int(rule.params["days"]):
        return None
    return _("Born on %(birth)s, the child is more than %(days)d days old today. The guide says: “%(rule)s”",
             birth=local_date(birth), days=int(rule.params["days"]), rule=rule.text.zh)
