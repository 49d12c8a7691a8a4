"""Filing forms, built at run time from the item's ``FieldSpec`` list.

The server-side truth is ``fields.clean_form`` inside the operations. The WTForms validators here only
give the same early messages for identity numbers (they call the same rules); the ``ValidationFailed``
reasons of an operation come back onto the fields through ``apply_reasons`` (table cells are keyed
``key.row.column``, materials ``materials.<id>``).

Personal numbers are never written into a page (S12): a locked field shows the masked record; an
identity number, phone or bank account typed earlier is shown masked beside an empty input, and an
empty input keeps what was saved.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..catalog.labels import REQUIREMENT, tr
from ..catalog.schema import FieldType, Item, Material, Requirement
from ..core.formatting import join_list
from ..core.masking import mask_name
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..core.validators import CreditCode, IdNumber
from . import fields, operations
from .constants import FORM_ENTRY, Defect, MaterialMode
from .fields import FieldSpec
from .models import Application, CorrectionNotice

FIELD, COLUMN, MATERIAL, CLEAR = "f_", "c_", "m_", "x_"
CHOICE_AS_RADIOS = 6  # up to this many options show as radio buttons (easy to tap); more as a list
IDEMPOTENCY_RE = r"^[A-Za-z0-9_\-]{16,64}$"

# What the applicant picks for each material, worded as their own choice (MaterialMode.label describes it).
MODE_CHOICES = {
    MaterialMode.DATA_SHARING: _l("The agency obtains it itself: I need not provide it"),
    MaterialMode.COMMITMENT: _l("I will sign the commitment instead"),
    MaterialMode.UPLOAD: _l("I upload it here (PDF, JPG or PNG)"),
    MaterialMode.AT_WINDOW: _l("I will bring it to the service window, or post it, on paper"),
    MaterialMode.NOT_APPLICABLE: _l("It does not apply to me"),
}
TYPE_HINTS = {
    FieldType.id_number: _l("18 characters; the last may be X."),
    FieldType.credit_code: _l("18 characters, printed on the business licence."),
    FieldType.phone: _l("A mobile number of 11 digits, or a landline such as 0431-88888888."),
    FieldType.date: _l("For example 2026-05-01."),
    FieldType.month: _l("Year and month, for example 2026-05."),
    FieldType.money: _l("In yuan, for example 1234.50."),
    FieldType.postcode: _l("6 digits."),
    FieldType.bank_account: _l("Digits only, as on the bank card or passbook."),
}
RELATION_CHOICES = fields.RELATIONS
GENDER_LABELS = {fields.GENDER_NAMES["M"]: _l("Male"), fields.GENDER_NAMES["F"]: _l("Female")}


def is_sensitive(spec: FieldSpec) -> bool:
    return spec.type in fields.SENSITIVE_TYPES


def shown_value(spec: FieldSpec, value: Any) -> str:
    """A stored value as a page shows it (S12): identity numbers, phones and accounts masked, names too; a choice
    by its option's label in the page's language."""
    if spec.prefill in {"person.name", "agent.name"} and value:
        return mask_name(str(value))
    if spec.options and not _blank(value):
        return option_labels(spec, value)
    if spec.prefill == "person.gender" and value in GENDER_LABELS:  # 男/女 as the forms print it
        return str(GENDER_LABELS[value])
    return fields.masked_value(spec, value)


def option_labels(spec: FieldSpec, value: Any) -> str:
    """A choice's stored value (the option's published Chinese) as its label in the page's language; several
    joined as a list of that language. A value no option has any more is shown as stored."""
    labels = {option.zh: tr(option) for option in spec.options}
    return join_list(labels.get(str(v), str(v)) for v in (value if isinstance(value, list) else [value]))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


# --- WTForms fields from specs -----------------------------------------------------------------------


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _validators(spec: FieldSpec) -> list:
    if spec.type is FieldType.id_number:
        return [Optional(), IdNumber()]
    if spec.type is FieldType.credit_code:
        return [Optional(), CreditCode(allow_bad_checksum=True)]  # the operation warns; staff decide
    return [Optional()]


def _scalar(spec: FieldSpec):
    label = tr(spec.label)
    options = [(o.zh, tr(o)) for o in spec.options]
    match spec.type:
        case FieldType.boolean:
            return BooleanField(label)
        case FieldType.choice if len(options) <= CHOICE_AS_RADIOS and not spec.searchable:
            return RadioField(label, choices=_choices(options), validate_choice=False)
        case FieldType.choice:
            return SelectField(label, choices=_choices([("", _("Choose one")), *options]), validate_choice=False)
        case FieldType.multichoice:
            return SelectMultipleField(label, choices=_choices(options), validate_choice=False,
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
        case FieldType.textarea:
            return TextAreaField(label, validators=[Optional()])
    return StringField(label, validators=_validators(spec))


def _row_form(spec: FieldSpec) -> type[Form]:
    attrs: dict[str, Any] = {COLUMN + c.key: _scalar(c) for c in spec.columns}
    attrs["remove"] = BooleanField(_l("Remove this row"))
    return type(f"Row_{spec.key}", (Form,), attrs)


def _table(spec: FieldSpec, rows: int):
    return FieldList(FormField(_row_form(spec)), tr(spec.label), min_entries=min(rows, spec.max_rows),
                     max_entries=spec.max_rows + 1)  # one more than allowed, so the operation can say so


def _material_choices(material: Material, *, correcting: bool) -> list[tuple[str, str]]:
    """The modes this material allows: uploading and paper always; a commitment or data sharing where the catalog
    says so; 'does not apply' for optional and conditional ones (never when answering a notice)."""
    modes = []
    if material.provided_without_upload:
        modes.append(MaterialMode.DATA_SHARING)
    if material.commitment is not None:
        modes.append(MaterialMode.COMMITMENT)
    modes += [MaterialMode.UPLOAD, MaterialMode.AT_WINDOW]
    if material.requirement is not Requirement.required and not correcting:
        modes.append(MaterialMode.NOT_APPLICABLE)
    return [(m.value, str(MODE_CHOICES[m])) for m in modes]


# --- the forms ---------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a runtime form was built from: the case, its item, field specs and record values."""

    case: Application
    item: Item
    specs: list[FieldSpec] = dc_field(default_factory=list)
    values: dict[str, Any] = dc_field(default_factory=dict)
    materials: list[Material] = dc_field(default_factory=list)
    principal: bool = False
    notice: CorrectionNotice | None = None


class CaseForm(FlaskForm):
    """Base of the filing and correction forms; the subclass carries the item's fields."""

    plan: Plan
    idempotency_key = HiddenField()

    # -- building --

    @classmethod
    def build(cls, case: Application, item: Item, *, specs: list[FieldSpec], materials: list[Material],
              principal: bool, notice: CorrectionNotice | None = None, extra_row: str | None = None) -> CaseForm:
        plan = Plan(case, item, specs, operations.record_values(case, item), materials, principal, notice)
        stored = case.form_data
        attrs: dict[str, Any] = {}
        for spec in specs:
            if fields.is_locked(spec, plan.values):
                continue
            if spec.type is FieldType.table:
                rows = len(stored.get(spec.key) or []) + 1 + (spec.key == extra_row)
                attrs[FIELD + spec.key] = _table(spec, rows)
                continue
            attrs[FIELD + spec.key] = _scalar(spec)
            if is_sensitive(spec) and not spec.required:
                attrs[CLEAR + spec.key] = BooleanField(_l("Delete the saved number"))
        for material in materials:
            modes = _material_choices(material, correcting=notice is not None)
            attrs[MATERIAL + material.id] = RadioField(tr(material.name), choices=_choices(modes),
                                                       validate_choice=False)
        if principal:
            attrs["on_behalf"] = BooleanField(_l("I am filing for someone else (entrusted)"))
            attrs["principal_name"] = StringField(_l("Their full name"), validators=[Optional()])
            attrs["principal_id_number"] = StringField(_l("Their ID card number"),
                                                       validators=[Optional(), IdNumber()])
            attrs["principal_relation"] = SelectField(
                _l("How you are related to them"), validate_choice=False,
                choices=_choices([("", _("Choose one")), *((k, str(v)) for k, v in RELATION_CHOICES.items())]))
        if notice is not None:
            attrs["note"] = TextAreaField(_l("Anything you want to tell the agency (optional)"),
                                          validators=[Optional()])
        form_class = type("FilingForm", (cls,), attrs)
        data = None if request.method == "POST" else _initial(plan, stored)
        form = form_class(data=data)
        form.plan = plan
        if not form.is_submitted():
            form.idempotency_key.data = secrets.token_urlsafe(16)  # a double click then submits once (S19)
        return form

    # -- reading --

    def form_values(self) -> dict[str, Any]:
        """The posted field values; an empty personal-number input keeps the value saved before."""
        stored = self.plan.case.form_data
        out: dict[str, Any] = {}
        for spec in self.plan.specs:
            input_field = self._fields.get(FIELD + spec.key)
            if input_field is None:
                continue  # locked: the operation fills it from the records, whatever was sent
            if spec.type is FieldType.table:
                out[spec.key] = _rows(spec, input_field, stored.get(spec.key) or [])
                continue
            value = input_field.data
            clear = self._fields.get(CLEAR + spec.key)
            if is_sensitive(spec) and _blank(value) and not (clear and clear.data):
                value = stored.get(spec.key)
            out[spec.key] = value
        return out

    def material_modes(self) -> dict[str, str]:
        out = {}
        for material in self.plan.materials:
            value = self._fields[MATERIAL + material.id].data
            if value:
                out[material.id] = value
        return out

    def principal(self) -> operations.Principal | None:
        if not self.plan.principal or not self.on_behalf.data:
            return None
        case = self.plan.case
        id_number = self.principal_id_number.data
        if _blank(id_number) and case.on_behalf:
            id_number = case.principal_id_number
        return operations.Principal(name=self.principal_name.data or "", id_number=id_number or "",
                                    relation=self.principal_relation.data or "")

    def submit_key(self) -> str | None:
        """The idempotency key the page was rendered with; anything else sent in its place is ignored."""
        key = self.idempotency_key.data or ""
        return key if re.fullmatch(IDEMPOTENCY_RE, key) else None

    def draft_input(self) -> operations.DraftInput:
        return operations.DraftInput(form=self.form_values(), materials=self.material_modes(),
                                     principal=self.principal())

    def resubmission(self) -> operations.Resubmission:
        listed = set(self.plan.notice.material_ids) if self.plan.notice else set()
        form = self.form_values() if FORM_ENTRY in listed else {}
        return operations.Resubmission(form=form, materials=self.material_modes(), note=self.note.data or "")

    # -- errors --

    def apply_reasons(self, error: Any) -> None:
        """Put a ValidationFailed's (field, message) pairs on the fields; the rest go to ``form_errors``."""
        replaced = set()
        for key, message in getattr(error, "reasons", [(None, getattr(error, "message", str(error)))]):
            target = self._target(key)
            if target is None:
                self.form_errors.append(message)
            elif isinstance(target, FieldList):
                target.table_errors = [*getattr(target, "table_errors", []), message]
            else:  # the operation's words replace the early check's on the same field: one message, not two
                before = [] if id(target) not in replaced else list(target.errors)
                replaced.add(id(target))
                target.errors = [*before, message]

    def _target(self, key: str | None) -> Any:
        if not key:
            return None
        if key.startswith("materials."):
            return self._fields.get(MATERIAL + key.removeprefix("materials."))
        if key.startswith("principal_") and self.plan.principal:
            return self._fields.get(key)
        head, _dot, rest = key.partition(".")
        target = self._fields.get(FIELD + head)
        if target is None or not rest:
            return target
        row, _dot, column = rest.partition(".")
        if isinstance(target, FieldList) and row.isdigit() and 0 < int(row) <= len(target.entries):
            return target.entries[int(row) - 1].form._fields.get(COLUMN + column, target)
        return target

    def error_list(self) -> list[tuple[str | None, str]]:
        """Every error on the page as (anchor id, message), in page order, for the error summary."""
        out: list[tuple[str | None, str]] = [(None, m) for m in self.form_errors]
        if self.csrf_token.errors:
            out.append((None, _("This form has expired. Please send it again.")))
        for name, input_field in self._fields.items():
            if name in {"csrf_token", "idempotency_key"}:
                continue
            if isinstance(input_field, FieldList):
                out += [(input_field.id, m) for m in getattr(input_field, "table_errors", [])]
                for row, entry in enumerate(input_field.entries, start=1):
                    for cell in entry.form:
                        out += [(cell.id, _("%(table)s, row %(row)d, %(column)s: %(message)s",
                                            table=input_field.label.text, row=row, column=cell.label.text,
                                            message=m)) for m in cell.errors]
            else:
                out += [(input_field.id, m) for m in input_field.errors]
        return out


def _initial(plan: Plan, stored: dict[str, Any]) -> dict[str, Any]:
    """The form's starting values: the saved draft, without personal numbers (they are shown masked)."""
    data: dict[str, Any] = {}
    for spec in plan.specs:
        value = stored.get(spec.key)
        if spec.type is FieldType.table:
            data[FIELD + spec.key] = [
                {COLUMN + c.key: ("" if is_sensitive(c) else row.get(c.key)) for c in spec.columns}
                for row in (value or []) if isinstance(row, dict)
            ]
        elif not is_sensitive(spec):
            data[FIELD + spec.key] = value
    modes = plan.case.materials
    for material in plan.materials:
        choices = [v for v, _label in _material_choices(material, correcting=plan.notice is not None)]
        mode = modes.get(material.id)
        if mode not in choices:
            mode = choices[0] if len(choices) == 1 else None  # the only way offered is already chosen
        data[MATERIAL + material.id] = mode
    if plan.principal:
        case = plan.case
        data |= {"on_behalf": case.on_behalf, "principal_name": case.principal_name or "",
                 "principal_relation": case.principal_relation or ""}
    return data


def _rows(spec: FieldSpec, table: FieldList, saved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The posted rows, in page order (the operation numbers cells by it); removed rows stay as empty rows."""
    rows: list[dict[str, Any]] = []
    for index, entry in enumerate(table.entries):
        if entry.form.remove.data:
            rows.append({})
            continue
        before = saved[index] if index < len(saved) and isinstance(saved[index], dict) else {}
        row = {}
        for column in spec.columns:
            value = entry.form[COLUMN + column.key].data
            if is_sensitive(column) and _blank(value):
                value = before.get(column.key)
            row[column.key] = value
        rows.append(row)
    return rows


# --- what the templates lay out ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    field: Any
    spec: FieldSpec
    saved: str  # the masked saved value of a personal number, shown beside its empty input


@dataclass(frozen=True)
class Entry:
    """One field of the page: locked (shown, not editable), an input, or a table of rows of cells."""

    spec: FieldSpec
    label: str
    group: str
    hint: str
    kind: str  # locked, input, table
    field: Any = None
    shown: str = ""
    saved: str = ""
    clear: Any = None
    rows: list[list[Cell]] = dc_field(default_factory=list)
    row_removers: list[Any] = dc_field(default_factory=list)
    row_saved: list[bool] = dc_field(default_factory=list)
    table_errors: list[str] = dc_field(default_factory=list)


def layout(form: CaseForm) -> list[Entry]:
    """The form's fields in catalog order, with what each shows; read at render time (after any save)."""
    plan = form.plan
    stored = plan.case.form_data
    out = []
    for spec in plan.specs:
        label, group = tr(spec.label), tr(spec.group)
        hint = " ".join(filter(None, [tr(spec.help), str(TYPE_HINTS.get(spec.type, ""))]))
        input_field = form._fields.get(FIELD + spec.key)
        if input_field is None:
            shown = shown_value(spec, plan.values.get(spec.prefill))
            out.append(Entry(spec, label, group, "", "locked", shown=shown))
        elif spec.type is FieldType.table:
            saved_rows = [r for r in (stored.get(spec.key) or []) if isinstance(r, dict)]
            rows, removers, row_saved = [], [], []
            for index, entry in enumerate(input_field.entries):
                before = saved_rows[index] if index < len(saved_rows) else {}
                rows.append([Cell(entry.form[COLUMN + c.key], c,
                                  shown_value(c, before.get(c.key)) if is_sensitive(c) else "")
                             for c in spec.columns])
                removers.append(entry.form.remove)
                row_saved.append(index < len(saved_rows))
            out.append(Entry(spec, label, group, hint, "table", field=input_field, rows=rows, row_removers=removers,
                             row_saved=row_saved, table_errors=list(getattr(input_field, "table_errors", []))))
        else:
            saved = shown_value(spec, stored.get(spec.key)) if is_sensitive(spec) else ""
            out.append(Entry(spec, label, group, hint, "input", field=input_field, saved=saved,
                             clear=form._fields.get(CLEAR + spec.key)))
    return out


@dataclass(frozen=True)
class MaterialEntry:
    material: Material
    field: Any
    requirement: str
    defect: str = ""
    note: str = ""


def material_layout(form: CaseForm) -> list[MaterialEntry]:
    notice_entries = {e["material"]: e for e in form.plan.notice.entries} if form.plan.notice else {}
    out = []
    for material in form.plan.materials:
        listed = notice_entries.get(material.id, {})
        out.append(MaterialEntry(material, form._fields[MATERIAL + material.id],
                                 str(REQUIREMENT[material.requirement]),
                                 Defect(listed["defect"]).label if listed else "", listed.get("note", "")))
    return out


def filing_form(case: Application, item: Item, *, extra_row: str | None = None) -> CaseForm:
    """The draft's form: every field, every material, and the 委托 section when the item allows it.

    Only a person's filing has the 委托 section: a unit's agent already files for the unit, and the unit's
    identity fields must stay locked (``operations.specs_for`` unlocks all but name and 身份证 when on behalf).
    """
    return CaseForm.build(case, item, specs=operations.shown_specs(case, item), materials=list(item.materials),
                          principal=item.proxy != "not_allowed" and case.audience == "individual", extra_row=extra_row)


def correction_form(case: Application, item: Item, notice: CorrectionNotice) -> CaseForm:
    """Only what the open notice lists: its materials, and the form's fields if it lists the form."""
    listed = set(notice.material_ids)
    specs = operations.shown_specs(case, item) if FORM_ENTRY in listed else []
    materials = [m for m in item.materials if m.id in listed]
    return CaseForm.build(case, item, specs=specs, materials=materials, principal=False, notice=notice)


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token (start a draft)."""


class WithdrawForm(FlaskForm):
    confirm = BooleanField(_l("Yes, withdraw this application"))
    reason = TextAreaField(_l("Why (optional)"), validators=[Optional()])

    def validate_confirm(self, confirm_field: BooleanField) -> None:
        from wtforms.validators import ValidationError

        if not confirm_field.data:
            raise ValidationError(_("Tick the box to confirm that you want to withdraw the application."))


class DiscardForm(FlaskForm):
    confirm = BooleanField(_l("Yes, delete this draft"))

    def validate_confirm(self, confirm_field: BooleanField) -> None:
        from wtforms.validators import ValidationError

        if not confirm_field.data:
            raise ValidationError(_("Tick the box to confirm that you want to delete the draft."))
