"""The fields an applicant fills for an item, and their validation: one definition for HTML and API.

The fields come from the item's application form in the catalog (only the applicant's own fields: the
agency's opinion, signatures, seals and printed declarations are not filled online). An item whose
seed publishes no form fields gets a short standard form for its audience. Identity fields that the
portal knows from the records (name, 身份证, unit, credit code, phone) are *locked*: shown masked,
never typed, and filled from the records at submission.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..catalog.schema import FieldType, FormField, Item, Name, Party
from ..core.errors import ValidationFailed
from ..core.masking import mask_bank_account, mask_id_number, mask_phone
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..core.validators import check_credit_code, normalize_id_number, normalize_mobile

SKIPPED_TYPES = frozenset({FieldType.signature, FieldType.seal, FieldType.static})
# Prefill sources whose value is locked to the records (S12: shown masked, never edited here).
LOCKED_SOURCES = frozenset({"person.name", "person.id_number", "person.phone", "person.gender",
                            "person.birth_date", "unit.name", "unit.credit_code", "unit.code",
                            "unit.bank_account", "agent.phone"})
SENSITIVE_TYPES = frozenset({FieldType.id_number, FieldType.phone, FieldType.bank_account})
MAX_TEXT = 500
MAX_TEXTAREA = 2000
DEFAULT_MAX_ROWS = 50
POSTCODE_RE = re.compile(r"^\d{6}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class FieldSpec:
    """One field of the online form."""

    key: str
    label: Name
    type: FieldType
    required: bool = False
    options: tuple[Name, ...] = ()
    columns: tuple[FieldSpec, ...] = ()
    max_rows: int = DEFAULT_MAX_ROWS
    prefill: str | None = None
    help: Any = None
    group: Any = None
    locked: bool = False
    searchable: bool = False  # a long list (e.g. a disease catalog): a select with a search box, whatever its length

    def option_values(self) -> list[str]:
        return [o.zh for o in self.options]


def label_of(spec: FieldSpec) -> str:
    """The field's label in the language of the request (the published Chinese when no request is active)."""
    from flask import has_request_context

    from ..core.translation import get_locale

    locale = str(get_locale() or "zh") if has_request_context() else "zh"
    return spec.label.get(locale)


def _spec(f: FormField) -> FieldSpec:
    return FieldSpec(
        key=f.key, label=f.label, type=f.type, required=f.required, options=f.options,
        columns=tuple(_spec(c) for c in f.columns if c.type not in SKIPPED_TYPES),
        max_rows=f.max_rows or DEFAULT_MAX_ROWS, prefill=f.prefill, help=f.help, group=f.group,
        locked=f.prefill in LOCKED_SOURCES,
    )


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


INDIVIDUAL_DEFAULT = (
    FieldSpec("name", _n("姓名", "Name"), FieldType.text, True, prefill="person.name", locked=True),
    FieldSpec("id_number", _n("公民身份号码", "ID number"), FieldType.id_number, True,
              prefill="person.id_number", locked=True),
    FieldSpec("phone", _n("联系电话", "Phone"), FieldType.phone, True, prefill="person.phone", locked=True),
    FieldSpec("address", _n("联系地址", "Address"), FieldType.address, False, prefill="person.address"),
    FieldSpec("description", _n("申请事项说明", "What you are applying for"), FieldType.textarea, False),
)
UNIT_DEFAULT = (
    FieldSpec("unit_name", _n("单位名称", "Unit name"), FieldType.text, True, prefill="unit.name", locked=True),
    FieldSpec("credit_code", _n("统一社会信用代码", "Unified social credit code"), FieldType.credit_code, True,
              prefill="unit.credit_code", locked=True),
    FieldSpec("agent_name", _n("经办人姓名", "Agent's name"), FieldType.text, True, prefill="agent.name"),
    FieldSpec("agent_phone", _n("经办人联系电话", "Agent's phone"), FieldType.phone, True,
              prefill="agent.phone", locked=True),
    FieldSpec("description", _n("申请事项说明", "What you are applying for"), FieldType.textarea, False),
)


def field_specs(item: Item, audience: str) -> list[FieldSpec]:
    """The applicant's fields of ``item`` as filed by ``audience`` ('individual' or 'unit')."""
    from ..services import handler_for

    own = handler_for(item).form_specs(item, audience)
    if own is not None:
        return list(own)
    return published_specs(item, audience)


def published_specs(item: Item, audience: str) -> list[FieldSpec]:
    """The applicant's fields of the item's published form, or the standard short form for ``audience``."""
    form = item.application_form
    specs = [] if form is None else [
        _spec(f) for f in form.fields if f.party is Party.applicant and f.type not in SKIPPED_TYPES
    ]
    if specs:
        return specs
    return list(UNIT_DEFAULT if audience in ("unit", "institution") else INDIVIDUAL_DEFAULT)


# --- prefill -----------------------------------------------------------------------------------------


GENDER_NAMES = {"M": "男", "F": "女"}


def record_values(*, person: Any = None, unit: Any = None, agent: Any = None, item: Item | None = None,
                  institution: Any = None) -> dict[str, Any]:
    """Values the records hold for each prefill source. A designated institution fills the unit's sources (its
    name, credit code, address, legal representative: the seeds' forms call it 单位/机构) and its own."""
    values: dict[str, Any] = {}
    if institution is not None:
        values |= {
            "unit.name": institution.name, "unit.credit_code": institution.credit_code,
            "unit.address": institution.address, "unit.legal_rep_name": institution.legal_rep_name,
            "institution.name": institution.name, "institution.code": institution.code,
            "institution.address": institution.address, "institution.legal_rep_name": institution.legal_rep_name,
            "institution.scope": institution.scope,
        }
    if person is not None:
        values |= {
            "person.name": person.name, "person.id_number": person.id_number, "person.phone": person.phone,
            "person.gender": GENDER_NAMES.get(person.gender, ""), "person.address": person.address,
            "person.birth_date": person.birth_date.isoformat() if person.birth_date else None,
        }
    if unit is not None:
        values |= {
            "unit.name": unit.name, "unit.code": unit.code, "unit.credit_code": unit.credit_code,
            "unit.address": unit.address, "unit.bank_name": unit.bank_name, "unit.bank_account": unit.bank_account,
            "unit.legal_rep_name": unit.legal_rep_name, "unit.type": getattr(unit.nature, "label", None),
        }
    if agent is not None:
        values |= {"agent.name": agent.display_name or None, "agent.phone": agent.phone}
    if item is not None:
        values["item.name"] = item.name.zh
    return {k: v for k, v in values.items() if v not in (None, "")}


def _shaped(spec: FieldSpec, value: Any) -> Any:
    """A record value in the shape its field takes: a birth date (YYYY-MM-DD) fills a month field as YYYY-MM."""
    if spec.type is FieldType.month and isinstance(value, str) and len(value) == 10:
        return value[:7]
    return value


def prefill(specs: list[FieldSpec], values: dict[str, Any]) -> dict[str, Any]:
    """Initial form data from the records."""
    return {s.key: _shaped(s, values[s.prefill]) for s in specs if s.prefill and s.prefill in values}


def is_locked(spec: FieldSpec, values: dict[str, Any]) -> bool:
    """A locked field whose value the records hold; when they hold none, the applicant types it."""
    return spec.locked and spec.prefill in values


def apply_locked(specs: list[FieldSpec], data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every locked field set from the records, whatever was sent for it."""
    out = dict(data)
    for s in specs:
        if is_locked(s, values):
            out[s.key] = _shaped(s, values[s.prefill])
    return out


def masked_value(spec: FieldSpec, value: Any) -> str:
    """How a stored value is shown on a page (S12): identity numbers, phones and bank accounts masked."""
    if value in (None, ""):
        return ""
    if spec.type is FieldType.id_number or spec.prefill == "person.id_number":
        return mask_id_number(str(value))
    if spec.type is FieldType.phone or spec.prefill in {"person.phone", "agent.phone"}:
        return mask_phone(str(value))
    if spec.type is FieldType.bank_account or spec.prefill == "unit.bank_account":
        return mask_bank_account(str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


# --- validation --------------------------------------------------------------------------------------


class _Label:
    """A field's label, read in the request's language when a message is written."""

    __slots__ = ("spec",)

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec

    def __str__(self) -> str:
        return label_of(self.spec)


def _clean_scalar(spec: FieldSpec, raw: Any, reasons: list[tuple[str | None, str]], key: str) -> Any:
    """The normalised value of one field, or None after adding a reason to ``reasons``."""
    label = _Label(spec)  # looked up only for a message (a roster cleans tens of thousands of cells)

    def fail(message: str) -> None:
        reasons.append((key, message))

    if spec.type is FieldType.boolean:
        return bool(raw) and str(raw).lower() not in {"0", "false", "no", "off"}
    if spec.type is FieldType.multichoice:
        values = raw if isinstance(raw, list) else [raw]
        values = [str(v).strip() for v in values if str(v).strip()]
        allowed = spec.option_values()
        if any(v not in allowed for v in values):
            return fail(_("Choose from the options listed for “%(label)s”.", label=label))
        return values
    if isinstance(raw, (list, dict)):
        return fail(_("“%(label)s” takes a single value.", label=label))
    text = str(raw).strip().replace("\r\n", "\n").replace("\r", "\n")  # browsers send a textarea's lines as CRLF
    if spec.type is FieldType.choice:
        if text not in spec.option_values():
            return fail(_("Choose one of the options listed for “%(label)s”.", label=label))
        return text
    if spec.type is FieldType.id_number:
        try:
            return normalize_id_number(text)
        except ValidationFailed as error:
            return fail(_("“%(label)s”: %(problem)s", label=label, problem=error.reasons[0][1]))
    if spec.type is FieldType.credit_code:
        try:
            return check_credit_code(text).code
        except ValidationFailed as error:
            return fail(_("“%(label)s”: %(problem)s", label=label, problem=error.reasons[0][1]))
    if spec.type is FieldType.phone:
        try:
            return normalize_mobile(text)
        except ValidationFailed:
            if re.fullmatch(r"0\d{2,3}-?\d{7,8}", text):
                return text  # a landline is a valid contact number
            return fail(_("“%(label)s” must be a mobile number of 11 digits or a landline such as 0431-88888888.",
                          label=label))
    if spec.type in {FieldType.number, FieldType.money}:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return fail(_("“%(label)s” must be a number.", label=label))
        if not number.is_finite() or number < 0 or number > Decimal("100000000"):
            return fail(_("“%(label)s” must be a number between 0 and 100,000,000.", label=label))
        if spec.type is FieldType.money:
            if number != number.quantize(Decimal("0.01")):
                return fail(_("“%(label)s” has at most two decimal places (fen).", label=label))
            return str(number.quantize(Decimal("0.01")))
        return format(number, "f")  # 1e5 is stored and printed as 100000
    if spec.type is FieldType.date:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return fail(_("“%(label)s” must be a date such as 2026-05-01.", label=label))
    if spec.type is FieldType.month:
        match = MONTH_RE.match(text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            return fail(_("“%(label)s” must be a month such as 2026-05.", label=label))
        return text
    if spec.type is FieldType.postcode and not POSTCODE_RE.match(text):
        return fail(_("“%(label)s” must be a postcode of 6 digits.", label=label))
    if spec.type is FieldType.email and not EMAIL_RE.match(text):
        return fail(_("“%(label)s” must be an e-mail address.", label=label))
    if spec.type is FieldType.bank_account and not re.fullmatch(r"\d{8,30}", text.replace(" ", "")):
        return fail(_("“%(label)s” must be a bank account number of 8 to 30 digits.", label=label))
    limit = MAX_TEXTAREA if spec.type is FieldType.textarea else MAX_TEXT
    if len(text) > limit:
        return fail(_("“%(label)s” is too long (at most %(limit)d characters).", label=label, limit=limit))
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):  # C0, DEL and C1
        return fail(_("“%(label)s” contains characters that cannot be printed.", label=label))
    return text.replace(" ", "") if spec.type is FieldType.bank_account else text


def clean_cell(spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    """One cell of a table (or one field) cleaned as the form cleans it: (value, None), or (None, the message)."""
    reasons: list[tuple[str | None, str]] = []
    value = _clean_scalar(spec, raw, reasons, spec.key)
    return (None, reasons[0][1]) if reasons else (value, None)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _blank(value: Any) -> bool:
    return _empty(value) or (isinstance(value, str) and not value.strip())


def clean_form(specs: list[FieldSpec], data: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    """Validate and normalise ``data`` against ``specs``; unknown keys are dropped.

    ``complete`` (submission) also requires every required field; a draft may be partial. Raises
    ``ValidationFailed`` with one (field key, message) pair per problem; table cells are named
    ``key.row.column`` (rows from 1).
    """
    if not isinstance(data, dict):
        raise ValidationFailed([(None, _("The form data must be an object of field values."))])
    reasons: list[tuple[str | None, str]] = []
    out: dict[str, Any] = {}
    for spec in specs:
        raw = data.get(spec.key)
        if spec.type is FieldType.table:
            rows = _clean_rows(spec, raw, reasons, complete=complete)
            if rows:
                out[spec.key] = rows
            elif complete and spec.required:
                reasons.append((spec.key, _("Fill in at least one row of “%(label)s”.", label=label_of(spec))))
            continue
        if _empty(raw) or (isinstance(raw, str) and not raw.strip()):
            if complete and spec.required:
                reasons.append((spec.key, _("“%(label)s” is required.", label=label_of(spec))))
            continue
        value = _clean_scalar(spec, raw, reasons, spec.key)
        if not _empty(value):
            out[spec.key] = value
    if reasons:
        raise ValidationFailed(reasons)
    return out


def _clean_rows(spec: FieldSpec, raw: Any, reasons: list[tuple[str | None, str]], *, complete: bool,
                ) -> list[dict[str, Any]]:
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        reasons.append((spec.key, _("“%(label)s” must be a list of rows.", label=label_of(spec))))
        return []
    if len(raw) > spec.max_rows:
        reasons.append((spec.key, _("“%(label)s” takes at most %(n)d rows.", label=label_of(spec), n=spec.max_rows)))
        return []
    rows = []
    for index, row in enumerate(raw, start=1):
        clean_row = {}
        filled = not all(_blank(row.get(c.key)) for c in spec.columns)
        for column in spec.columns:
            cell = row.get(column.key)
            if _blank(cell):
                if complete and filled and column.required:  # a row that was started must be finished
                    reasons.append((f"{spec.key}.{index}.{column.key}",
                                    _("“%(label)s” is required.", label=str(column.label))))
                continue
            value = _clean_scalar(column, cell, reasons, f"{spec.key}.{index}.{column.key}")
            if not _empty(value):
                clean_row[column.key] = value
        if clean_row:
            rows.append(clean_row)
    return rows


RELATIONS = {
    "spouse": _l("Spouse"),
    "parent": _l("Parent"),
    "child": _l("Child"),
    "relative": _l("Other relative"),
    "entrusted": _l("Entrusted person"),
}
