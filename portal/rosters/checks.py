"""The check of a roster: the sheet's columns matched to the form's table, then every row, cell by cell and against
the records.

A row's errors are (column key, code, params): the cell's format (the form's own rules: ID check digit, phone,
money, the options of a choice), a required cell left empty, a formula (never evaluated), an ID number Excel stored
as a number, the same person twice, and what the records say — not in the records, already insured, not insured
through this unit, a status the change does not apply to, a name that does not match the ID number. Each row also
says whether its person is in the records (``found``) or will be created (``new``). No value is kept in a check;
``describe`` writes the message in the reader's language, re-reading the cell for a format error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..applications import fields
from ..applications.fields import FieldSpec
from ..catalog.schema import FieldType
from ..core.errors import ValidationFailed
from ..core.sheets import Sheet, SheetRefused, column_letter
from ..core.translation import gettext as _
from ..insurance.constants import EnrolmentStatus, PersonCategory
from ..insurance.models import Person, id_number_index, normalize_name
from ..services.enrolment.effect import EnrolmentEffect
from ..services.enrolment.records import CATEGORY_KEYS, CATEGORY_KINDS, K, find_persons, has_open_enrolment

Error = tuple[str | None, str, dict[str, Any]]
HEADER_SCAN = 5  # the header is one of the first rows (a title row above it is common)
REQUIRED_MARK = re.compile(r"[\s*＊]|[(（]必填[)）]|[(（]required[)）]", re.IGNORECASE)


@dataclass
class Checked:
    """What the check found: the rows as read, each row's check, and the counts."""

    rows: list[tuple[int, dict[str, str]]]
    checks: list[tuple[int, str, list[Error]]]
    new_count: int = 0
    error_count: int = 0
    persons: dict[str, Person] = field(default_factory=dict)


def _norm(text: str) -> str:
    return REQUIRED_MARK.sub("", str(text)).casefold()


def header_labels(spec: FieldSpec) -> dict[str, str]:
    """Each way a column may be headed (its Chinese and English label, its key) → the column's key."""
    out: dict[str, str] = {}
    for column in spec.columns:
        for text in (column.label.zh, column.label.en, column.key):
            if text:
                out.setdefault(_norm(text), column.key)
    return out


def sheet_rows(sheet: Sheet, spec: FieldSpec) -> tuple[list[tuple[int, dict[str, str]]], set[tuple[int, str]],
                                                           set[tuple[int, str]]]:
    """The sheet's data rows keyed by column, with the formula cells and the number cells as (row, column key).

    Raises ``SheetRefused`` naming the missing and the unknown columns when the header is not the form's."""
    labels = header_labels(spec)
    header_at = next((i for i, row in enumerate(sheet.rows[:HEADER_SCAN])
                      if any(_norm(c) in labels for c in row if c)), None)
    if header_at is None:
        raise SheetRefused(_("The first rows of the file do not head the columns of this form. Download the "
                             "template and keep its header row: %(columns)s.",
                             columns="、".join(fields.label_of(c) for c in spec.columns)))
    header = sheet.rows[header_at]
    keys: dict[int, str] = {}
    unknown = []
    for index, text in enumerate(header, start=1):
        if not text:
            continue
        key = labels.get(_norm(text))
        if key is None or key in keys.values():
            unknown.append(f"{column_letter(index)}（{text[:20]}）" if key is None else text[:20])
            continue
        keys[index] = key
    missing = [fields.label_of(c) for c in spec.columns if c.required and c.key not in keys.values()]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(_("missing columns: %(columns)s", columns="、".join(missing)))
        if unknown:
            parts.append(_("columns this form does not have (or named twice): %(columns)s",
                           columns="、".join(unknown)))
        raise SheetRefused(_("The columns of the file are not those of the form (%(problems)s). Download the "
                             "template and keep its header row.", problems="；".join(parts)))
    rows, formulas, numbers = [], set(), set()
    for number, cells in enumerate(sheet.rows[header_at + 1:], start=header_at + 2):
        values = {keys[i]: cells[i - 1] for i in keys if i - 1 < len(cells) and cells[i - 1] != ""}
        marks = {(r, keys[c]) for r, c in sheet.formulas if r == number and c in keys}
        if not values and not marks:
            continue  # an empty line
        rows.append((number, values))
        formulas |= marks
        numbers |= {(r, keys[c]) for r, c in sheet.number_cells if r == number and c in keys}
    return rows, formulas, numbers


def check(case: Any, handler: Any, spec: FieldSpec, rows: list[tuple[int, dict[str, str]]], *,
          formulas: frozenset[tuple[int, str]] | set[tuple[int, str]] = frozenset(),
          numbers: frozenset[tuple[int, str]] | set[tuple[int, str]] = frozenset()) -> Checked:
    """Check every row of ``rows`` (sheet row number, cells as text) for the unit's ``case``."""
    columns = {c.key: c for c in spec.columns}
    cleaned: dict[int, dict[str, Any]] = {}
    errors: dict[int, list[Error]] = {}
    for number, values in rows:
        row_errors = errors.setdefault(number, [])
        clean: dict[str, Any] = {}
        for key, column in columns.items():
            raw = values.get(key, "")
            if (number, key) in formulas:
                row_errors.append((key, "formula", {}))
                continue
            if column.type is FieldType.id_number and (number, key) in numbers and len(raw) > 11:
                row_errors.append((key, "id_as_number", {}))
                continue
            if raw == "":
                if column.required:
                    row_errors.append((key, "required", {}))
                continue
            value, problem = fields.clean_cell(column, raw)
            if problem:
                row_errors.append((key, "cell", {}))
            elif value not in (None, "", []):
                clean[key] = value
        cleaned[number] = clean
    id_numbers = {n: c["id_number"] for n, c in cleaned.items() if c.get("id_number")}
    persons_by_index = find_persons(id_numbers.values())
    persons = {idn: persons_by_index.get(id_number_index(idn)) for idn in id_numbers.values()}
    first: dict[str, int] = {}
    checks, new_count, error_count = [], 0, 0
    for number, _values in rows:
        row_errors = errors[number]
        id_number = id_numbers.get(number)
        person = persons.get(id_number) if id_number else None
        if id_number:
            seen = first.setdefault(id_number, number)
            if seen != number:
                row_errors.append(("id_number", "duplicate", {"row": seen}))
            elif not row_errors:
                row_errors += record_errors(case, handler, cleaned[number], person)
        status = "error" if row_errors else ("found" if person is not None else "new")
        new_count += status == "new"
        error_count += status == "error"
        checks.append((number, status, row_errors))
    return Checked(rows=rows, checks=checks, new_count=new_count, error_count=error_count,
                   persons={k: v for k, v in persons.items() if v is not None})


def record_errors(case: Any, handler: Any, row: dict[str, Any], person: Person | None) -> list[Error]:
    """What the records say against one well-formed row (see the module's note)."""
    if not isinstance(handler, EnrolmentEffect):
        return _change_errors(case, row, person)
    category_key = next((k for k in CATEGORY_KEYS if row.get(k)), None)
    category = row.get(category_key) if category_key else None
    kind = CATEGORY_KINDS.get(category) if category else handler.default_kind
    if kind is None or kind not in handler.kinds:
        return [(category_key, "category_not_here", {"category": category or ""})]
    out = _name_errors(row, person)
    if kind is K.ADDED:
        if person is not None and has_open_enrolment(person, handler.scheme):
            here = any(e.unit_id == case.unit_id and e.status is not EnrolmentStatus.TERMINATED
                       for e in person.enrolments)
            out.append(("id_number", "already_here" if here else "insured_elsewhere", {}))
        return out
    if person is None:
        return [("id_number", "not_found", {})]
    enrolments = handler._enrolments(case, person, kind)
    if kind is K.TRANSFERRED:
        if not enrolments:
            out.append(("id_number", "not_insured", {}))
        elif all(e.unit_id == case.unit_id for e in enrolments):
            out.append(("id_number", "already_here", {}))
        return out
    if not enrolments:
        out.append(("id_number", "not_in_unit", {}))
        return out
    statuses = {e.status for e in enrolments}
    wanted = {K.INTERRUPTED: EnrolmentStatus.ACTIVE, K.RESUMED: EnrolmentStatus.SUSPENDED}.get(kind)
    if wanted is not None and wanted not in statuses:
        out.append((category_key, "status", {"status": enrolments[0].status.value}))
    if kind is K.RETIRED and person.category is not PersonCategory.EMPLOYEE:
        out.append((category_key, "not_employee", {}))
    return out


def _name_errors(row: dict[str, Any], person: Person | None) -> list[Error]:
    if person is not None and row.get("name") and normalize_name(row["name"]) != normalize_name(person.name):
        return [("name", "name_mismatch", {})]
    return []


def _change_errors(case: Any, row: dict[str, Any], person: Person | None) -> list[Error]:
    """基本信息变更: the person must be the unit's; the name, when given, is theirs (before or after the change)."""
    if person is None:
        return [("id_number", "not_found", {})]
    insured_here = person.unit_id == case.unit_id or any(
        e.unit_id == case.unit_id and e.status is not EnrolmentStatus.TERMINATED for e in person.enrolments)
    if not insured_here:
        return [("id_number", "not_in_unit", {})]
    names = {normalize_name(person.name), normalize_name(str(row.get("after") or ""))}
    if row.get("name") and normalize_name(row["name"]) not in names:
        return [("name", "name_mismatch", {})]
    return []


def clean_rows(spec: FieldSpec, rows: list[tuple[int, dict[str, str]]]) -> list[dict[str, Any]]:
    """The rows as the form keeps a table's (values cleaned), each with its sheet row number as ``_row``.

    Only for a roster that passed its check; a cell that no longer cleans raises ``ValidationFailed``."""
    columns = {c.key: c for c in spec.columns}
    out = []
    for number, values in rows:
        clean: dict[str, Any] = {"_row": number}
        for key, raw in values.items():
            column = columns.get(key)
            if column is None or raw == "":
                continue
            value, problem = fields.clean_cell(column, raw)
            if problem:
                raise ValidationFailed([(f"{spec.key}.{number}.{key}", problem)])
            clean[key] = value
        out.append(clean)
    return out


# --- messages ------------------------------------------------------------------------------------------------------

STATUS_WORDS = {s.value: s for s in EnrolmentStatus}


def describe(spec: FieldSpec, error: Error, values: dict[str, str]) -> str:
    """The message of one error in the reader's language (a format error re-reads its cell: the message names the
    rule the value breaks)."""
    key, code, params = error
    column = next((c for c in spec.columns if c.key == key), None)
    label = fields.label_of(column) if column is not None else ""
    if code == "cell" and column is not None:
        _value, problem = fields.clean_cell(column, values.get(key, ""))
        return problem or _("“%(label)s” is not valid.", label=label)
    messages = {
        "required": lambda: _("“%(label)s” is required.", label=label),
        "formula": lambda: _("The cell holds a formula. Formulas are never calculated here: type the value itself."),
        "id_as_number": lambda: _("The ID number is stored as a number, so Excel may have changed its last digits. "
                                  "Format the column as text and type the number again."),
        "duplicate": lambda: _("The same person as row %(row)d.", row=params.get("row", 0)),
        "not_found": lambda: _("This person is not in the insurance records."),
        "already_here": lambda: _("Already insured through this unit."),
        "insured_elsewhere": lambda: _("Already insured in this scheme through another unit or on their own; file a "
                                       "transfer within the pooling area (统筹区内转移) instead."),
        "not_insured": lambda: _("This person has no open enrolment to transfer."),
        "not_in_unit": lambda: _("Not insured through this unit."),
        "status": lambda: _("The enrolment is “%(status)s”, so this change does not apply.",
                            status=STATUS_WORDS[params["status"]].label if params.get("status") in STATUS_WORDS
                            else params.get("status", "")),
        "not_employee": lambda: _("Only an in-service employee can retire."),
        "category_not_here": lambda: _("This item does not handle “%(category)s”; file the item for that change.",
                                       category=params.get("category", "")),
        "name_mismatch": lambda: _("The name does not match the records for this ID number."),
    }
    return messages[code]() if code in messages else code


def cell_name(spec: FieldSpec, number: int, key: str | None) -> str:
    """Where an error is: “第 7 行 C 列（身份证件号码）” / “Row 7, column C (ID number)”."""
    keys = [c.key for c in spec.columns]
    if key is None or key not in keys:
        return _("Row %(n)d", n=number)
    column = spec.columns[keys.index(key)]
    return _("Row %(n)d, column %(letter)s (%(label)s)", n=number, letter=column_letter(keys.index(key) + 1),
             label=fields.label_of(column))

