"""特殊人员身份标记: the marks the records keep (保健 level, 劳模, 残疾军人, 离休, 特困, 低保, 重度残疾)
set on a person."""

from __future__ import annotations

from typing import Any

from ...catalog.schema import FieldType, Name
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import normalize_id_number
from ...insurance.constants import HealthCareLevel, PersonCategory
from ...insurance.models import Person
from ..base import FilingContext, register
from ..effects import EffectRefused, Ledger
from ..enrolment.records import find_person, refusal
from .persons import ChangeRow, Problem, StaffChange, error_message

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
        from ...applications.fields import UNIT_DEFAULT, FieldSpec

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
            person = find_person(normalize_id_number(row.id_number))
        except ValidationFailed as error:
            return None, None, f"{label}: {error_message(error)}"
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
            raise EffectRefused(refusal(problems))
        ledger = Ledger()
        for person_id, values in marks.items():
            person = persons[person_id]
            if out := {k: v for k, v in values.items() if getattr(person, k) != v}:
                ledger.changed(person, **out)
        ledger.save(case, case.handler)
