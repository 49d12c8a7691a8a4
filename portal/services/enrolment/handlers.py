"""The registered enrolment items of persons: staff (职工) roster items and the residents' (城乡居民) items."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...insurance.constants import EnrolmentStatus, InsuranceType, PersonCategory
from ...insurance.models import Enrolment, Person
from ..base import register
from ..effects import Ledger
from .effect import EnrolmentEffect
from .records import K, Row, find_person


@register("enrolment.staff_register")
class StaffRegister(EnrolmentEffect):
    """职工参保登记: the roster of additions and changes, every category its form offers."""

    name = "staff_register"


@register("enrolment.staff_suspend")
class StaffSuspend(EnrolmentEffect):
    """职工停保 / 减员 / 中断."""

    name = "staff_suspend"
    kinds = frozenset({K.INTERRUPTED, K.TERMINATED})
    default_kind = K.INTERRUPTED


@register("enrolment.staff_terminate")
class StaffTerminate(EnrolmentEffect):
    """职工退保 (终止参保)."""

    name = "staff_terminate"
    kinds = frozenset({K.TERMINATED})
    default_kind = K.TERMINATED


@register("enrolment.staff_resume")
class StaffResume(EnrolmentEffect):
    """职工续保 / 恢复."""

    name = "staff_resume"
    kinds = frozenset({K.RESUMED})
    default_kind = K.RESUMED


@register("enrolment.staff_retire")
class StaffRetire(EnrolmentEffect):
    """职工在职转退休."""

    name = "staff_retire"
    kinds = frozenset({K.RETIRED})
    default_kind = K.RETIRED


@register("enrolment.staff_transfer")
class StaffTransfer(EnrolmentEffect):
    """职工统筹区内转移: the receiving unit files; the person's enrolments move to it."""

    name = "staff_transfer"
    kinds = frozenset({K.TRANSFERRED})
    default_kind = K.TRANSFERRED


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

    def enrolment_for(self, case: Any, person: Person, today: date, ledger: Ledger) -> Enrolment:
        if person.category.is_employee_scheme:
            ledger.changed(person, category=PersonCategory.RESIDENT)
        return Enrolment(person_id=person.id, insurance_type=self.scheme, unit_id=None,
                         status=EnrolmentStatus.ACTIVE, start_date=today)


@register("enrolment.resident_suspend")
class ResidentSuspend(EnrolmentEffect):
    """城乡居民停保."""

    name = "resident_suspend"
    kinds = frozenset({K.INTERRUPTED})
    default_kind = K.INTERRUPTED
    scheme = InsuranceType.RESIDENT_MEDICAL


@register("enrolment.resident_terminate")
class ResidentTerminate(EnrolmentEffect):
    """居民死亡退保 (or leaving the scheme): the resident enrolment ends."""

    name = "resident_terminate"
    kinds = frozenset({K.TERMINATED})
    default_kind = K.TERMINATED
    scheme = InsuranceType.RESIDENT_MEDICAL
