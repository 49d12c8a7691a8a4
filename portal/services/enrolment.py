"""Enrolment items (参保登记 and its changes): what their completion writes into the system of record.

- 单位参保登记 (``enrolment.unit_register``): a new registration creates the unit (or reinstates a cancelled
  one); 暂停登记 suspends it; 注销登记 cancels it once none of its staff is still insured through it.
- The staff roster (《职工参保登记表》/《人员增减变动表》) lists persons with a change category each:
  增加 adds an employee-scheme enrolment (and the person, when the records do not know them yet), 中断
  suspends, 终止 terminates, 恢复 resumes, 在职转退休 makes the person a retiree, 统筹区内转移 moves them to
  the filing unit. 职工参保登记 (``enrolment.staff_register``) takes every category, as its published form
  does; the specialised items take only theirs (停保 ``staff_suspend``, 续保 ``staff_resume``, 在职转退休
  ``staff_retire``, 统筹区内转移 ``staff_transfer``, 退保 ``staff_terminate``).
- Residents (城乡居民): registration or renewal adds or resumes the resident enrolment, 停保 suspends it,
  死亡退保 terminates it.

An item filed by the insured person without a roster in its form concerns the case's person alone. Every row
is checked before anything is written, and all problems are reported at once (``EffectRefused``): the case
then stays uncompleted and the records unchanged. Each change keeps its history (``EnrolmentEvent``) and is
recorded in the case's ``CaseEffect`` so post-hoc checking can revoke it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import clock
from ..core.db import db
from ..core.errors import ValidationFailed
from ..core.validators import id_birth_date, id_gender, normalize_id_number
from ..insurance.constants import (
    EnrolmentEventKind,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
    UnitNature,
    UnitStatus,
)
from ..insurance.models import Enrolment, EnrolmentEvent, Person, Unit, id_number_index
from .base import FilingContext, Handler, register
from .effects import EffectRefused, Ledger, revert

K = EnrolmentEventKind
# the change categories of the published roster forms
CATEGORY_KINDS = {"增加": K.ADDED, "中断": K.INTERRUPTED, "终止": K.TERMINATED, "恢复": K.RESUMED,
                  "在职转退休": K.RETIRED, "统筹区内转移": K.TRANSFERRED,
                  # 《退休人员医保管理》 (岳阳): a death ends the enrolment; a new managing unit takes the retiree over
                  "死亡停保": K.TERMINATED, "医保管理责任单位变更": K.TRANSFERRED}
CATEGORY_KEYS = ("change_category", "change_type")


@dataclass(frozen=True)
class Row:
    """One person of the roster and the change asked for them."""

    number: int  # row number in the form (1-based), for messages
    name: str
    id_number: str
    kind: EnrolmentEventKind
    phone: str | None = None
    death_date: date | None = None


def _note(case: Any) -> str:
    """The history row's note: record data, written in Chinese whatever the language of the staff member."""
    return f"办件 {case.number or case.id}"


class EnrolmentEffect(Handler):
    """Roster changes of the employee scheme (or, for residents, of the resident scheme)."""

    name = "enrolment"
    kinds: frozenset[EnrolmentEventKind] = frozenset(CATEGORY_KINDS.values())
    default_kind: EnrolmentEventKind = K.ADDED
    scheme = InsuranceType.EMPLOYEE_MEDICAL
    ignored_categories: frozenset[str] = frozenset()  # rows that change nothing the records hold

    # --- reading the case --------------------------------------------------------------------------------

    def rows(self, case: Any) -> list[Row]:
        """The roster rows of the form; without a roster, the case's own person with the item's change."""
        data = case.form_data
        table = next((v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)
                      and "id_number" in v[0]), None)
        if table is None:
            person = case.person
            if person is None:
                return []
            return [Row(1, person.name, person.id_number, self.default_kind)]
        rows, reasons = [], []
        for number, raw in enumerate(table, start=1):
            category = next((raw.get(k) for k in CATEGORY_KEYS if raw.get(k)), None)
            if category in self.ignored_categories:
                continue
            kind = CATEGORY_KINDS.get(category) if category else self.default_kind
            try:
                id_number = normalize_id_number(raw.get("id_number"))
            except ValidationFailed as error:
                reasons.append((f"row.{number}", error.reasons[0][1]))
                continue
            if kind is None or kind not in self.kinds:
                reasons.append((f"row.{number}", _("Row %(n)d asks for “%(category)s”, which this item does not "
                                                   "handle; file the item for that change.", n=number,
                                                   category=category)))
                continue
            died = date.fromisoformat(raw["death_date"]) if raw.get("death_date") else None
            rows.append(Row(number, str(raw.get("name") or "").strip(), id_number, kind, raw.get("mobile"), died))
        if reasons:
            raise EffectRefused(_refusal(reasons))
        return rows

    # --- the effect --------------------------------------------------------------------------------------

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Check every row, then write them all; refuse with every problem at once."""
        rows = self.rows(case)
        problems = [p for row in rows if (p := self.problem(case, row))]
        if problems:
            raise EffectRefused(_refusal(problems))
        ledger = Ledger()
        for row in rows:
            self.apply_row(case, row, ledger)
        ledger.save(case, case.handler)

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)

    def problem(self, case: Any, row: Row) -> tuple[str, str] | None:
        """Why the records cannot take ``row``, as (row key, message); None when they can."""
        person = _person(row.id_number)
        label = _("Row %(n)d (%(name)s)", n=row.number, name=row.name or "")
        key = f"row.{row.number}"
        if case.audience != "unit" and (case.person is None or case.person.id_number != row.id_number):
            return key, _("%(row)s: an insured person files only for themselves; a unit files for its staff.",
                          row=label)
        if row.kind is K.ADDED:
            if person is not None and _open(person, self.scheme):
                return key, _("%(row)s: already insured in this scheme; file a transfer or a change instead.",
                              row=label)
            if person is None and not row.name:
                return key, _("%(row)s: the name is needed to register a new person.", row=label)
            return None
        if person is None:
            return key, _("%(row)s: this person is not in the insurance records.", row=label)
        enrolments = self._enrolments(case, person, row.kind)
        if not enrolments:
            return key, _("%(row)s: no open enrolment of this person that the filer may change.", row=label)
        statuses = {e.status for e in enrolments}
        wanted = {K.INTERRUPTED: EnrolmentStatus.ACTIVE, K.RESUMED: EnrolmentStatus.SUSPENDED}.get(row.kind)
        if wanted is not None and wanted not in statuses:
            return key, _("%(row)s: the enrolment is “%(status)s”, so this change does not apply.", row=label,
                          status=enrolments[0].status.label)
        if row.death_date and not person.birth_date <= row.death_date <= clock.today():
            return key, _("%(row)s: the date of death is not possible.", row=label)
        if row.kind is K.RETIRED and person.category is not PersonCategory.EMPLOYEE:
            return key, _("%(row)s: only an in-service employee can retire.", row=label)
        if row.kind is K.TRANSFERRED:
            if case.unit_id is None:
                return key, _("%(row)s: a transfer within the pooling area is filed by the receiving unit.",
                              row=label)
            if all(e.unit_id == case.unit_id for e in enrolments):
                return key, _("%(row)s: the person is already insured through this unit.", row=label)
        return None

    def _enrolments(self, case: Any, person: Person, kind: EnrolmentEventKind) -> list[Enrolment]:
        """The person's open enrolments in the scheme the filer may change: a unit changes its own staff only,
        except that a transfer is filed by the receiving unit about staff insured through another."""
        rows = [e for e in person.enrolments if e.status is not EnrolmentStatus.TERMINATED
                and _scheme_of(e.insurance_type) is self.scheme]
        if case.audience != "unit":
            return rows
        if kind is K.TRANSFERRED:
            return [e for e in rows if e.unit_id is not None]
        return [e for e in rows if e.unit_id is not None and e.unit_id == case.unit_id]

    def apply_row(self, case: Any, row: Row, ledger: Ledger) -> None:
        today = clock.today()
        note = _note(case)
        if row.kind is K.ADDED:
            person = _person(row.id_number) or _new_person(row, ledger)
            self._add(case, person, today, note, ledger)
            return
        person = _person(row.id_number)
        enrolments = self._enrolments(case, person, row.kind)
        if row.kind is K.RETIRED:
            ledger.changed(person, category=PersonCategory.RETIREE)
        if row.kind is K.TRANSFERRED:
            ledger.changed(person, unit_id=case.unit_id)
        if row.death_date:
            ledger.changed(person, death_date=row.death_date)
        for enrolment in enrolments:
            _change(enrolment, row.kind, row.death_date or today, note, ledger, to_unit=case.unit_id)

    def _add(self, case: Any, person: Person, today: date, note: str, ledger: Ledger) -> None:
        unit_id = case.unit_id if case.audience == "unit" else person.unit_id
        category = PersonCategory.EMPLOYEE if unit_id else PersonCategory.FLEXIBLE
        if person.category is not category:
            ledger.changed(person, category=category)
        if person.unit_id != unit_id:
            ledger.changed(person, unit_id=unit_id)
        enrolment = ledger.created(Enrolment(person_id=person.id, insurance_type=self.scheme, unit_id=unit_id,
                                             status=EnrolmentStatus.ACTIVE, start_date=today))
        ledger.created(EnrolmentEvent(enrolment_id=enrolment.id, kind=K.ADDED, effective_date=today, note=note))
        db.session.expire(person, ["enrolments"])


def _change(enrolment: Enrolment, kind: EnrolmentEventKind, day: date, note: str, ledger: Ledger, *,
            to_unit: int | None) -> None:
    """One status change of one enrolment, with its history row."""
    event = EnrolmentEvent(enrolment_id=enrolment.id, kind=kind, effective_date=day, note=note)
    if kind is K.INTERRUPTED and enrolment.status is EnrolmentStatus.ACTIVE:
        ledger.changed(enrolment, status=EnrolmentStatus.SUSPENDED)
    elif kind is K.RESUMED and enrolment.status is EnrolmentStatus.SUSPENDED:
        ledger.changed(enrolment, status=EnrolmentStatus.ACTIVE)
    elif kind is K.TERMINATED:
        ledger.changed(enrolment, status=EnrolmentStatus.TERMINATED, end_date=max(day, enrolment.start_date))
    elif kind is K.TRANSFERRED:
        if enrolment.unit_id == to_unit or enrolment.unit_id is None:
            return
        event.from_unit_id, event.to_unit_id = enrolment.unit_id, to_unit
        ledger.changed(enrolment, unit_id=to_unit)
    elif kind is not K.RETIRED:
        return  # nothing to change on this enrolment (e.g. a supplementary one already suspended)
    ledger.created(event)


def _refusal(reasons: list[tuple[str, str]]) -> str:
    return _("The records cannot take this change: %(problems)s", problems="；".join(m for _k, m in reasons))


def _person(id_number: str) -> Person | None:
    return db.session.execute(
        select(Person).where(Person.id_number_index == id_number_index(id_number))).scalar_one_or_none()


def _open(person: Person, scheme: InsuranceType) -> bool:
    return any(e.insurance_type is scheme and e.status is not EnrolmentStatus.TERMINATED for e in person.enrolments)


def _scheme_of(insurance_type: InsuranceType) -> InsuranceType:
    """Supplementary and long-term-care enrolments follow the employee enrolment they hang on."""
    return InsuranceType.RESIDENT_MEDICAL if insurance_type is InsuranceType.RESIDENT_MEDICAL \
        else InsuranceType.EMPLOYEE_MEDICAL


def _new_person(row: Row, ledger: Ledger) -> Person:
    person = Person(insured_no=_unique(Person, Person.insured_no, "P"), name=row.name[:64],
                    gender=id_gender(row.id_number), birth_date=id_birth_date(row.id_number))
    person.set_id_number(row.id_number)
    if row.phone:
        person.set_phone(row.phone)
    return ledger.created(person)


def _unique(model: type, column: Any, prefix: str) -> str:
    """A new record number (个人编号, 单位编号) the records do not use yet."""
    for _attempt in range(20):
        value = f"{prefix}{clock.today():%Y}{secrets.randbelow(10**8):08d}"
        if db.session.execute(select(model.id).where(column == value)).first() is None:
            return value
    raise EffectRefused(_("Could not give the record a number; please try again."))


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
            person = _person(row.id_number)
            suspended = person is not None and any(
                e.insurance_type is self.scheme and e.status is EnrolmentStatus.SUSPENDED for e in person.enrolments)
            out.append(Row(row.number, row.name, row.id_number, K.RESUMED if suspended else K.ADDED, row.phone))
        return out

    def problem(self, case: Any, row: Row) -> tuple[str, str] | None:
        return super().problem(case, row) if row.kind is K.ADDED else None

    def _add(self, case: Any, person: Person, today: date, note: str, ledger: Ledger) -> None:
        if person.category.is_employee_scheme:
            ledger.changed(person, category=PersonCategory.RESIDENT)
        enrolment = ledger.created(Enrolment(person_id=person.id, insurance_type=self.scheme, unit_id=None,
                                             status=EnrolmentStatus.ACTIVE, start_date=today))
        ledger.created(EnrolmentEvent(enrolment_id=enrolment.id, kind=K.ADDED, effective_date=today, note=note))
        db.session.expire(person, ["enrolments"])


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


# --- units ---------------------------------------------------------------------------------------------

PURPOSE_KEYS = ("purpose", "registration_type")
NATURE_WORDS = (("机关", UnitNature.GOVERNMENT), ("事业", UnitNature.PUBLIC_INSTITUTION),
                ("社会团体", UnitNature.SOCIAL_ORGANISATION), ("民办非企业", UnitNature.PRIVATE_NON_ENTERPRISE),
                ("个体", UnitNature.INDIVIDUAL_BUSINESS))


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next((data[k] for k in keys if data.get(k)), None)


def _nature(text: str | None) -> UnitNature:
    return next((n for word, n in NATURE_WORDS if text and word in text), UnitNature.ENTERPRISE)


@register("enrolment.unit_register")
class UnitRegister(Handler):
    """单位参保登记: 新参保登记 creates the unit (or reinstates a cancelled one); 暂停 and 注销 change its status."""

    name = "unit_register"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        data = case.form_data
        purpose = _first(data, *PURPOSE_KEYS) or "新参保登记"
        code = _first(data, "credit_code") or getattr(case.unit, "credit_code", None)
        if not code:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("the unified social credit code is missing.")))
        unit = db.session.execute(select(Unit).where(Unit.credit_code == code)).scalar_one_or_none()
        ledger = Ledger()
        if purpose == "新参保登记":
            self._register(unit, data, code, ledger)
        elif purpose in {"暂停登记", "注销登记"}:
            self._stop(unit, UnitStatus.SUSPENDED if purpose == "暂停登记" else UnitStatus.CANCELLED, ledger)
        ledger.save(case, case.handler)  # 拆分合并分立: staff carry the staff over by the roster items

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)

    def _register(self, unit: Unit | None, data: dict[str, Any], code: str, ledger: Ledger) -> None:
        if unit is not None and unit.status is not UnitStatus.CANCELLED:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("a unit with this credit code is already registered.")))
        if unit is not None:
            ledger.changed(unit, status=UnitStatus.ACTIVE)
            return
        name = _first(data, "unit_name")
        if not name:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("the unit's name is missing.")))
        unit = Unit(code=_unique(Unit, Unit.code, "U"), credit_code=code, name=str(name)[:200],
                    nature=_nature(_first(data, "unit_type", "unit_nature")), status=UnitStatus.ACTIVE,
                    legal_rep_name=_first(data, "legal_rep_name"), legal_rep_phone=_first(data, "legal_rep_phone"),
                    bank_name=_first(data, "bank_name"), bank_account=_first(data, "bank_account"),
                    address=_first(data, "address", "mailing_address"), established_on=None)
        unit.set_legal_rep_id_number(_first(data, "legal_rep_id", "legal_rep_id_number"))
        ledger.created(unit)

    def _stop(self, unit: Unit | None, status: UnitStatus, ledger: Ledger) -> None:
        if unit is None or unit.status is UnitStatus.CANCELLED:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("no registered unit has this credit code.")))
        if status is UnitStatus.CANCELLED:
            insured = db.session.execute(select(Enrolment.id).where(
                Enrolment.unit_id == unit.id, Enrolment.status != EnrolmentStatus.TERMINATED).limit(1)).first()
            if insured is not None:
                raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                      problems=_("staff are still insured through the unit; end their enrolments "
                                                 "first.")))
        if unit.status is not status:
            ledger.changed(unit, status=status)
