"""Changes to persons' records: 职工 / 城乡居民基本信息变更, one row of the change table onto the person it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ...core.db import db
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import id_birth_date, id_gender, normalize_id_number, normalize_mobile
from ...insurance.constants import EnrolmentStatus
from ...insurance.models import Person, id_number_index, phone_index
from ..base import FilingContext, Handler, case_table, register
from ..effects import EffectConflict, EffectRefused, Ledger, effect_of, opened, revert
from ..enrolment.records import find_person, refusal

Problem = tuple[str, str]

# 变更项目 (free text in the published forms) → the Person attribute; the first word found wins, so the more
# specific words come first (户籍地址 is the 户籍, not the 居住地址)
PERSON_ITEMS = (
    ("身份证", "id_number"), ("证件号码", "id_number"), ("身份号码", "id_number"),
    ("姓名", "name"), ("名字", "name"),
    ("户籍", "hukou_place"), ("户口", "hukou_place"),
    ("手机", "phone"), ("电话", "phone"),
    ("地址", "address"), ("住址", "address"), ("居住地", "address"),
    ("民族", "ethnicity"),
)
# 变更项目 the records do not keep: the row passes, nothing to write
KEPT_ITEMS = "姓名、身份证件号码、联系电话、居住地址、民族、户籍地"  # record data, quoted as the forms name them
NOT_KEPT = ("工资", "学历", "文化程度", "职务", "职称", "工种", "用工形式", "婚姻", "政治面貌", "邮箱", "邮编")
PERSON_LIMITS = {"name": 64, "address": 200, "hukou_place": 200, "ethnicity": 20}
CHECKED_BEFORE = frozenset({"name", "id_number", "phone"})  # key values whose 变更前 must match the records
ITEM_KEYS = ("change_item", "item")


@dataclass(frozen=True)
class ChangeRow:
    number: int  # 1-based, for messages
    id_number: str
    name: str
    attribute: str
    before: str
    after: str


def _item_attribute(item: str) -> str | None:
    compact = re.sub(r"\s", "", item)
    return next((attribute for word, attribute in PERSON_ITEMS if word in compact), None)


def _normalised(attribute: str, text: str) -> str:
    """The value as the records keep it; raises ValidationFailed when it cannot be one."""
    text = text.strip()
    if attribute == "id_number":
        return normalize_id_number(text)
    if attribute == "phone":
        return normalize_mobile(text)
    if not text:
        raise ValidationFailed([(None, _("the new value is empty."))])
    if len(text) > PERSON_LIMITS[attribute]:
        raise ValidationFailed([(None, _("the new value is longer than the records keep (%(limit)d characters).",
                                         limit=PERSON_LIMITS[attribute]))])
    return text


def error_message(error: ValidationFailed) -> str:
    return error.reasons[0][1] if error.reasons else error.message


@register("enrolment.staff_change")
class StaffChange(Handler):
    """职工基本信息变更: the change table's rows, each onto the person it names."""

    name = "staff_change"

    # --- reading the case --------------------------------------------------------------------------------

    def rows(self, case: Any) -> tuple[list[ChangeRow], list[Problem]]:
        """The rows that change something the records keep, and the problems of the rows that cannot."""
        rows, problems = [], []
        for index, raw in enumerate(case_table(case), start=1):
            number = raw.get("_row", index)  # an uploaded roster's rows say where they stand in the sheet
            item = str(next((raw[k] for k in ITEM_KEYS if raw.get(k)), "") or "").strip()
            if not item and not raw.get("after"):
                continue  # an empty line of the table
            attribute = _item_attribute(item)
            if attribute is None:
                if not any(word in item for word in NOT_KEPT):
                    problems.append((f"row.{number}", _(
                        "Row %(n)d: the portal cannot place the change item “%(item)s”; name one of %(items)s, or "
                        "have the agency change it at the counter.", n=number, item=item[:40], items=KEPT_ITEMS)))
                continue
            rows.append(ChangeRow(number, str(raw.get("id_number") or "").strip(), str(raw.get("name") or "").strip(),
                                  attribute, str(raw.get("before") or "").strip(), str(raw.get("after") or "")))
        return rows, problems

    # --- the effect --------------------------------------------------------------------------------------

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Check every row, then write them all; refuse with every problem at once."""
        rows, problems = self.rows(case)
        changes: dict[int, dict[str, Any]] = {}  # person id → attribute → new value
        persons: dict[int, Person] = {}
        new_ids: dict[str, int] = {}
        for row in rows:
            person, value, problem = self.check(case, row)
            if problem is None and row.attribute in changes.get(person.id, {}):
                problem = _("Row %(n)d: the same item of the same person is changed twice.", n=row.number)
            if problem is None and row.attribute == "id_number" and new_ids.setdefault(value, person.id) != person.id:
                problem = _("Row %(n)d: two persons cannot take the same identity number.", n=row.number)
            if problem:
                problems.append((f"row.{row.number}", problem))
                continue
            persons[person.id] = person
            changes.setdefault(person.id, {})[row.attribute] = value
        if problems:
            raise EffectRefused(refusal(problems))
        ledger = Ledger()
        for person_id, values in changes.items():
            self.write(persons[person_id], values, ledger)
        ledger.save(case, case.handler)

    def revoke_effect(self, case: Any, reason: str) -> None:
        """Undo the changes; refused (``EffectConflict``) when an old 身份证 number now belongs to someone else,
        which putting it back would duplicate."""
        effect = effect_of(case)
        for step in effect.steps if effect is not None and effect.revoked_at is None else []:
            old = step.get("before", {}).get("id_number_index") if step["table"] == "person" else None
            holder = old and db.session.execute(
                select(Person.id).where(Person.id_number_index == opened(old))).scalar_one_or_none()
            if holder and holder != step["id"]:
                raise EffectConflict(_("The old identity number now belongs to another insured person; undo "
                                       "this change by hand."))
        revert(case, reason)

    def check(self, case: Any, row: ChangeRow) -> tuple[Person | None, Any, str | None]:
        """(person, new value, None) when the records can take ``row``; otherwise a message as the third item."""
        label = _("Row %(n)d (%(name)s)", n=row.number, name=row.name)
        try:
            id_number = normalize_id_number(row.id_number)
        except ValidationFailed as error:
            return None, None, f"{label}: {error_message(error)}"
        person = find_person(id_number)
        if person is None and row.attribute == "id_number" and row.before:
            try:  # the row may name the person by the number they are changing to
                person = find_person(normalize_id_number(row.before))
            except ValidationFailed:
                person = None
        if person is None:
            return None, None, _("%(row)s: this person is not in the insurance records.", row=label)
        if not self.may_change(case, person):
            return person, None, self.not_yours(label)
        if row.name and row.name not in {person.name, row.after.strip()}:
            return person, None, _("%(row)s: the name does not match the records for this identity number.",
                                   row=label)
        try:
            value = _normalised(row.attribute, row.after)
        except ValidationFailed as error:
            return person, None, f"{label}: {error_message(error)}"
        if row.attribute in CHECKED_BEFORE and row.before and not self._same(row.attribute, row.before,
                                                                             getattr(person, row.attribute)):
            return person, None, _("%(row)s: the value before the change does not match the records.", row=label)
        if row.attribute == "id_number":
            other = find_person(value)
            if other is not None and other.id != person.id:
                return person, None, _("%(row)s: the new identity number belongs to another insured person.",
                                       row=label)
            if person.death_date and id_birth_date(value) > person.death_date:
                return person, None, _("%(row)s: the new identity number's birth date is after the date of death.",
                                       row=label)
        return person, value, None

    @staticmethod
    def _same(attribute: str, before: str, current: str | None) -> bool:
        try:
            return _normalised(attribute, before) == (current or "")
        except ValidationFailed:
            return False

    def may_change(self, case: Any, person: Person) -> bool:
        """A unit changes its own staff (insured through it); an insured person changes their own record."""
        if case.audience == "unit":
            return case.unit_id is not None and (person.unit_id == case.unit_id or any(
                e.unit_id == case.unit_id and e.status is not EnrolmentStatus.TERMINATED for e in person.enrolments))
        return case.person is not None and case.person.id == person.id

    def not_yours(self, label: str) -> str:
        return _("%(row)s: an insured person changes only their own record; a unit changes its own staff's.",
                 row=label)

    def write(self, person: Person, values: dict[str, Any], ledger: Ledger) -> None:
        """One ledger step per person: the values that differ, with the blind indexes and what an id implies."""
        out: dict[str, Any] = {}
        for attribute, value in values.items():
            if getattr(person, attribute) == value:
                continue
            out[attribute] = value
            if attribute == "id_number":
                out |= {"id_number_index": id_number_index(value), "gender": id_gender(value),
                        "birth_date": id_birth_date(value)}
            elif attribute == "phone":
                out["phone_index"] = phone_index(value)
        out = {k: v for k, v in out.items() if getattr(person, k) != v}
        if out:
            ledger.changed(person, **out)


@register("enrolment.resident_change")
class ResidentChange(StaffChange):
    """城乡居民基本信息变更: the resident changes their own record (a unit has no residents to change)."""

    name = "resident_change"

    def may_change(self, case: Any, person: Person) -> bool:
        return case.audience != "unit" and case.person is not None and case.person.id == person.id

    def not_yours(self, label: str) -> str:
        return _("%(row)s: a resident changes only their own record; family members file for themselves or at "
                 "the counter.", row=label)
