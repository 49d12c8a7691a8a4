"""Information changes (信息变更): what their completion writes onto a unit's or a person's record.

- 单位信息变更 (``enrolment.unit_change``): the form's "new" column (``new_*`` / ``changed_*``: name, address,
  unit type, legal representative and their 身份证 and phone, bank and account) goes onto the unit that filed.
- 职工 / 城乡居民基本信息变更 (``enrolment.staff_change``, ``enrolment.resident_change``): each row of the
  change table names a person (身份证件号码, 姓名), a change item (变更项目), the value before and after. The items
  the records keep (姓名, 身份证件号码, 联系电话, 居住地址, 民族, 户籍地) are written; items the records do not keep
  (工资, 学历...) pass; an item the portal cannot place is refused, so a case never reads 办结 while the change it
  asked for was silently dropped. A new 身份证 number must be valid and not belong to anyone else.
- 单位合并、分立或注销 (``enrolment.unit_close``): 暂停登记 and 注销登记 as 单位参保登记 does them.

Items whose published form carries no structured change (only a free description) complete without touching
the records: the agency makes the change at the counter. As with the roster items, everything is checked before
anything is written, every problem is reported at once (``EffectRefused``), and each change is recorded in the
case's ``CaseEffect`` (values sealed) so post-hoc checking can undo it, or refuse when the record moved on since.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..catalog.schema import FieldType, Name
from ..core.db import db
from ..core.errors import ValidationFailed
from ..core.validators import id_birth_date, id_gender, normalize_id_number, normalize_mobile
from ..insurance.constants import EnrolmentStatus, HealthCareLevel, PersonCategory, UnitNature, UnitStatus
from ..insurance.models import Person, id_number_index, phone_index
from .base import FilingContext, Handler, register
from .effects import EffectConflict, EffectRefused, Ledger, effect_of, opened, revert
from .enrolment import NATURE_WORDS, UnitRegister, _refusal

Problem = tuple[str, str]

# --- units ---------------------------------------------------------------------------------------------

NEW_PREFIXES = ("new_", "changed_")  # 吉林/商洛: new_…; 岳阳: changed_…
# Unit attribute ← the suffixes of the form keys that carry its new value, in the published forms
UNIT_KEYS = {
    "name": ("name", "unit_name"),
    "address": ("address",),
    "nature": ("unit_type",),
    "legal_rep_name": ("legal_rep_name",),
    "legal_rep_id_number": ("legal_rep_id", "legal_rep_id_number"),
    "legal_rep_phone": ("legal_rep_phone",),
    "bank_name": ("bank_name",),
    "bank_account": ("bank_account",),
}
TEXT_LIMITS = {"name": 200, "address": 200, "legal_rep_name": 64, "bank_name": 100}
UNIT_TYPES = "机关、事业单位、企业、社会团体、民办非企业单位、个体工商户"  # record data, as the forms name them
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
BANK_ACCOUNT_RE = re.compile(r"^\d{8,30}$")


def _new_value(data: dict[str, Any], suffixes: tuple[str, ...]) -> str | None:
    """The form's new value for one attribute, stripped; None when the form leaves it empty."""
    for prefix in NEW_PREFIXES:
        for suffix in suffixes:
            value = data.get(prefix + suffix)
            if value not in (None, "") and str(value).strip():
                return str(value).strip()
    return None


def _unit_nature(text: str) -> UnitNature | None:
    """The 单位类型 the form names, or None when it names none the records know."""
    nature = next((n for word, n in NATURE_WORDS if word in text), None)
    if nature is None and any(word in text for word in ("企业", "公司")):
        nature = UnitNature.ENTERPRISE
    return nature or next((n for n in UnitNature if text in {n.value, n.label}), None)


def _contact_phone(text: str) -> str:
    """A mobile number (normalised) or a landline; raises ValidationFailed otherwise."""
    if LANDLINE_RE.match(text.replace(" ", "")):
        return text.replace(" ", "")
    return normalize_mobile(text)


def _unit_problem(attribute: str, text: str) -> tuple[Any, str | None]:
    """(value for the record, None) or (None, why the value cannot go onto the record)."""
    if attribute in TEXT_LIMITS:
        if len(text) > TEXT_LIMITS[attribute]:
            return None, _("“%(value)s” is longer than the records keep (%(limit)d characters).", value=text[:20],
                           limit=TEXT_LIMITS[attribute])
        return text, None
    if attribute == "nature":
        nature = _unit_nature(text)
        return (nature, None) if nature else (None, _("the unit type “%(value)s” is not one the records know "
                                                      "(%(types)s).", value=text[:40], types=UNIT_TYPES))
    try:
        if attribute == "legal_rep_id_number":
            return normalize_id_number(text), None
        if attribute == "legal_rep_phone":
            return _contact_phone(text), None
    except ValidationFailed as error:
        return None, error.reasons[0][1]
    account = re.sub(r"[\s-]", "", text)
    if not BANK_ACCOUNT_RE.match(account):
        return None, _("a bank account number has 8 to 30 digits.")
    return account, None


UNIT_LABELS = {
    "name": "单位名称", "address": "住所(地址)", "nature": "单位类型", "legal_rep_name": "法定代表人姓名",
    "legal_rep_id_number": "法定代表人身份证件号码", "legal_rep_phone": "法定代表人联系电话",
    "bank_name": "开户银行", "bank_account": "银行账号",
}  # the published Chinese names of the form's fields, quoted in messages as the form shows them


@register("enrolment.unit_change")
class UnitChange(Handler):
    """单位信息变更: the form's new values go onto the filing unit; each is checked first."""

    name = "unit_change"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        wanted = {a: v for a, keys in UNIT_KEYS.items() if (v := _new_value(case.form_data, keys)) is not None}
        if not wanted:
            return  # a form without the structured "new" column: the counter makes the change
        unit = case.unit
        if unit is None:
            raise EffectRefused(_refusal([("unit", _("a unit's information is changed by the unit itself."))]))
        problems: list[Problem] = []
        if unit.status is UnitStatus.CANCELLED:
            problems.append(("unit", _("the unit's registration is cancelled.")))
        values: dict[str, Any] = {}
        for attribute, text in wanted.items():
            value, problem = _unit_problem(attribute, text)
            if problem:
                problems.append((attribute, f"{UNIT_LABELS[attribute]}：{problem}"))
            elif getattr(unit, attribute) != value:
                values[attribute] = value
        if problems:
            raise EffectRefused(_refusal(problems))
        if "legal_rep_id_number" in values:
            values["legal_rep_id_index"] = id_number_index(values["legal_rep_id_number"])
        ledger = Ledger()
        if values:
            ledger.changed(unit, **values)
        ledger.save(case, case.handler)

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


@register("enrolment.unit_close")
class UnitClose(UnitRegister):
    """单位合并、分立或注销: 暂停登记 and 注销登记 change the unit's status; 拆分合并分立 carries no change of its own
    (the staff move by the roster items); a 新参保登记 belongs to 单位参保登记 and is refused here."""

    name = "unit_close"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        purpose = next((case.form_data[k] for k in ("purpose", "registration_type") if case.form_data.get(k)), None)
        if purpose == "新参保登记":
            problem = _("a new registration is filed as %(item)s, not here.", item="单位参保登记")
            raise EffectRefused(_refusal([("purpose", problem)]))
        if purpose in {"暂停登记", "注销登记"}:
            super().apply_effect(case, context)


# --- persons -------------------------------------------------------------------------------------------

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


def _person_by_id(id_number: str) -> Person | None:
    return db.session.execute(
        select(Person).where(Person.id_number_index == id_number_index(id_number))).scalar_one_or_none()


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


def _message(error: ValidationFailed) -> str:
    return error.reasons[0][1] if error.reasons else error.message


@register("enrolment.staff_change")
class StaffChange(Handler):
    """职工基本信息变更: the change table's rows, each onto the person it names."""

    name = "staff_change"

    # --- reading the case --------------------------------------------------------------------------------

    def rows(self, case: Any) -> tuple[list[ChangeRow], list[Problem]]:
        """The rows that change something the records keep, and the problems of the rows that cannot."""
        table = next((v for v in case.form_data.values() if isinstance(v, list) and v and isinstance(v[0], dict)
                      and "id_number" in v[0]), [])
        rows, problems = [], []
        for number, raw in enumerate(table, start=1):
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
            raise EffectRefused(_refusal(problems))
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
            return None, None, f"{label}: {_message(error)}"
        person = _person_by_id(id_number)
        if person is None and row.attribute == "id_number" and row.before:
            try:  # the row may name the person by the number they are changing to
                person = _person_by_id(normalize_id_number(row.before))
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
            return person, None, f"{label}: {_message(error)}"
        if row.attribute in CHECKED_BEFORE and row.before and not self._same(row.attribute, row.before,
                                                                             getattr(person, row.attribute)):
            return person, None, _("%(row)s: the value before the change does not match the records.", row=label)
        if row.attribute == "id_number":
            other = _person_by_id(value)
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


# --- 特殊人员身份标记 ---------------------------------------------------------------------------------------------

# 特殊人员标识 (record data, as the published forms word them) → the Person attributes that mark it
FLAGS: dict[str, dict[str, Any]] = {
    "一级保健": {"health_care_level": HealthCareLevel.LEVEL_1},
    "二级保健": {"health_care_level": HealthCareLevel.LEVEL_2},
    "三级保健": {"health_care_level": HealthCareLevel.LEVEL_3},
    "劳模": {"is_model_worker": True},
    "六级及以上残疾军人": {"is_disabled_veteran": True},
    "离休": {"category": PersonCategory.RETIRED_CADRE, "is_retired_cadre": True},
    "特困供养": {"is_extreme_poverty": True},
    "低保": {"is_subsistence_allowance": True},
    "重度残疾": {"is_severely_disabled": True},
}
# what the unit's online form offers: the marks of the published business (特殊人员身份标记(二级保健、劳模、六级及
# 以上残疾军人、离休、建国前)) that the records keep; 建国前 is not kept, so the counter marks it
UNIT_FLAG_OPTIONS = (Name(zh="二级保健", en="Level-2 health-care object"), Name(zh="劳模", en="Model worker"),
                     Name(zh="六级及以上残疾军人", en="Disabled serviceman (grade 6 or above)"),
                     Name(zh="离休", en="Veteran retiree (lixiu)"))
FLAG_COLUMNS = ("id_number", "name", "status_flag")  # of the published 明细表, the columns the applicant fills


def _flag_table(item: Any) -> Any:
    """The published 特殊人员身份标记业务明细表 (a table with a ``status_flag`` column), if the item has one."""
    for form in item.forms:
        for field in form.fields:
            if field.type is FieldType.table and any(c.key == "status_flag" for c in field.columns):
                return field
    return None


@register("enrolment.special_flag")
class SpecialFlag(StaffChange):
    """特殊人员身份标记: the unit lists its staff and the mark each takes (保健对象, 劳模, 残疾军人, 离休...).

    The published forms of the item are the agency's slip and its 明细表; the applicant's form is that 明细表's
    person columns with the mark as a choice, so the mark arrives as a value the records can hold.
    """

    name = "special_flag"

    def form_specs(self, item: Any, audience: str) -> list[Any] | None:
        table = _flag_table(item)
        if table is None or audience != "unit":
            return None
        from ..applications.fields import UNIT_DEFAULT, FieldSpec

        columns = {c.key: c for c in table.columns}
        specs = tuple(
            FieldSpec(key, columns[key].label, FieldType.choice if key == "status_flag" else columns[key].type,
                      required=True, options=UNIT_FLAG_OPTIONS if key == "status_flag" else ())
            for key in FLAG_COLUMNS)
        rows = FieldSpec(table.key, table.label, FieldType.table, required=True, columns=specs)
        return [*UNIT_DEFAULT[:-1], rows, UNIT_DEFAULT[-1]]

    def rows(self, case: Any) -> tuple[list[ChangeRow], list[Problem]]:
        table = next((v for v in case.form_data.values() if isinstance(v, list) and v and isinstance(v[0], dict)
                      and "status_flag" in v[0]), [])
        rows, problems = [], []
        for number, raw in enumerate(table, start=1):
            flag = str(raw.get("status_flag") or "").strip()
            if flag not in FLAGS:
                problems.append((f"row.{number}", _("Row %(n)d: the records keep no mark “%(flag)s”; the agency "
                                                    "marks it at the counter.", n=number, flag=flag[:40])))
                continue
            rows.append(ChangeRow(number, str(raw.get("id_number") or "").strip(),
                                  str(raw.get("name") or "").strip(), "status_flag", "", flag))
        return rows, problems

    def check(self, case: Any, row: ChangeRow) -> tuple[Person | None, Any, str | None]:
        label = _("Row %(n)d (%(name)s)", n=row.number, name=row.name)
        try:
            person = _person_by_id(normalize_id_number(row.id_number))
        except ValidationFailed as error:
            return None, None, f"{label}: {_message(error)}"
        if person is None:
            return None, None, _("%(row)s: this person is not in the insurance records.", row=label)
        if not self.may_change(case, person):
            return person, None, self.not_yours(label)
        if row.name and row.name != person.name:
            return person, None, _("%(row)s: the name does not match the records for this identity number.",
                                   row=label)
        if person.is_deceased:
            return person, None, _("%(row)s: the records show this person as deceased.", row=label)
        if row.after == "离休" and person.category not in {PersonCategory.RETIREE, PersonCategory.RETIRED_CADRE}:
            return person, None, _("%(row)s: only a retiree can be marked as a veteran retiree (%(mark)s).", row=label,
                                   mark=row.after)
        return person, FLAGS[row.after], None

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Check every row, then mark them all; two marks of one person are merged (保健 levels must agree)."""
        rows, problems = self.rows(case)
        marks: dict[int, dict[str, Any]] = {}
        persons: dict[int, Person] = {}
        for row in rows:
            person, values, problem = self.check(case, row)
            if problem is None and any(marks.get(person.id, {}).get(k, v) != v for k, v in values.items()):
                problem = _("Row %(n)d: the person is given two different health-care levels.", n=row.number)
            if problem:
                problems.append((f"row.{row.number}", problem))
                continue
            persons[person.id] = person
            marks.setdefault(person.id, {}).update(values)
        if problems:
            raise EffectRefused(_refusal(problems))
        ledger = Ledger()
        for person_id, values in marks.items():
            person = persons[person_id]
            if out := {k: v for k, v in values.items() if getattr(person, k) != v}:
                ledger.changed(person, **out)
        ledger.save(case, case.handler)
