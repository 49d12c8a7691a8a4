"""The filing rules the operations apply: prefill from the records, the form and materials cleaned, whom the case
is about, the handler's pre-checks, and how each material may be provided."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from ...catalog.schema import Item, Material, Requirement
from ...core.db import db
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import check_credit_code, normalize_id_number
from ...insurance.models import Person, id_number_index
from ...services import handler_for
from ...services.base import FilingContext, Finding, Severity
from .. import fields
from ..attachments import case_files
from ..constants import PROVIDED_MODES, MaterialMode
from ..models import Application
from ..permissions import filing_audience
from .base import catalog_item
from .inputs import Principal


def record_values(case: Application, item: Item) -> dict[str, Any]:
    """What the records say for each prefill source of this case.

    Filing for oneself, the person is the applicant's bound identity (and their unit, for an employee);
    filing on someone's behalf, the
    name and 身份证 are the principal's as stated; for a unit, the unit and its agent.
    """
    if case.audience == "unit":
        return fields.record_values(unit=case.unit, agent=case.applicant, item=item)
    if case.audience == "institution":
        return fields.record_values(institution=case.institution, agent=case.applicant, item=item)
    if case.on_behalf:
        values = fields.record_values(item=item)
        values |= {"person.name": case.principal_name, "person.id_number": case.principal_id_number}
        return {k: v for k, v in values.items() if v}
    person = case.applicant.person
    # an employee's 单位名称 / 单位编号 come from the unit the records enrol them with (read only when a field of
    # the item is filled from the unit: most individual items have none)
    unit = person.unit if person is not None and _fills_from_unit(item, case.audience) else None
    return fields.record_values(person=person, unit=unit, item=item)


def _fills_from_unit(item: Item, audience: str) -> bool:
    return any(s.prefill and s.prefill.startswith("unit.") for s in fields.field_specs(item, audience))


PRINCIPAL_LOCKED = frozenset({"person.name", "person.id_number"})


def specs_for(case: Application, item: Item | None = None) -> list[fields.FieldSpec]:
    """The case's form fields; filing on someone's behalf, only the principal's name and 身份证 stay locked."""
    from ...rosters.store import roster_of

    item = item or catalog_item(case)
    specs = fields.field_specs(item, case.audience)
    roster = roster_of(case) if case.audience == "unit" else None
    if roster is not None:  # the uploaded roster stands for the table (and is not bound by its paper rows)
        specs = [s for s in specs if s.key != roster.table_key]
    if case.on_behalf:
        specs = [replace(s, locked=s.prefill in PRINCIPAL_LOCKED) if s.locked else s for s in specs]
    return specs


def shown_specs(case: Application, item: Item | None = None) -> list[fields.FieldSpec]:
    """The fields the applicant sees on the filing form: ``specs_for`` as the item's family shows them now
    (``Handler.shown_specs``); saving takes every field of ``specs_for``."""
    item = item or catalog_item(case)
    return handler_for(item).shown_specs(case, item, specs_for(case, item))


def required_materials(item: Item, case: Application) -> list[Material]:
    """Materials that must be provided: required ones, and proxy ones when filing on someone's behalf."""
    out = [m for m in item.materials if m.requirement is Requirement.required]
    if case.on_behalf:
        out += [m for m in item.materials if m.requirement is Requirement.conditional and m.condition_key == "proxy"]
    return out


def _check_materials(item: Item, case: Application, chosen: dict[str, str], *, complete: bool) -> dict[str, str]:
    by_id = {m.id: m for m in item.materials}
    reasons: list[tuple[str | None, str]] = []
    out: dict[str, str] = {}
    for material_id, raw_mode in (chosen or {}).items():
        material = by_id.get(material_id)
        if material is None:
            continue  # a material the item does not list is ignored
        try:
            mode = MaterialMode(raw_mode)
        except ValueError:
            reasons.append((f"materials.{material_id}", _("Choose how you provide “%(name)s”.", name=material.name.zh)))
            continue
        if mode is MaterialMode.COMMITMENT and material.commitment is None:
            reasons.append((f"materials.{material_id}",
                            _("“%(name)s” cannot be replaced by a commitment.", name=material.name.zh)))
        elif mode is MaterialMode.DATA_SHARING and not material.provided_without_upload:
            reasons.append((f"materials.{material_id}",
                            _("The agency cannot obtain “%(name)s” itself; please provide it.", name=material.name.zh)))
        else:
            out[material_id] = mode.value
    if complete:
        uploaded = case_files().file_counts(case)
        handler = handler_for(item)
        for material in required_materials(item, case):
            mode = out.get(material.id)
            if mode is None and (material.provided_without_upload or handler.provided_online(material, case)):
                out[material.id] = MaterialMode.DATA_SHARING.value
            elif mode is None or MaterialMode(mode) not in PROVIDED_MODES:
                reasons.append((f"materials.{material.id}",
                                _("“%(name)s” is required: say how you provide it.", name=material.name.zh)))
            elif mode == MaterialMode.UPLOAD and not uploaded.get(material.id):
                # "provided online" with nothing attached provides nothing
                reasons.append((f"materials.{material.id}",
                                _("“%(name)s” is required: upload at least one file of it, or choose another way "
                                  "to provide it.", name=material.name.zh)))
    if reasons:
        raise ValidationFailed(reasons)
    return out


def _clean(specs: list[fields.FieldSpec], form: Any, item: Item, case: Application, materials: dict[str, str], *,
           complete: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned form and materials; every problem of both at once, so the applicant fixes all in one go."""
    reasons: list[tuple[str | None, str]] = []
    cleaned_form: dict[str, Any] = {}
    cleaned_materials: dict[str, str] = {}
    try:
        cleaned_form = fields.clean_form(specs, form, complete=complete)
        context = FilingContext(item=item, person=case.person, unit=case.unit, data=cleaned_form, case=case)
        reasons += handler_for(item).check_form(context, complete=complete)
    except ValidationFailed as error:
        reasons += error.reasons
    try:
        cleaned_materials = _check_materials(item, case, materials, complete=complete)
    except ValidationFailed as error:
        reasons += error.reasons
    if reasons:
        raise ValidationFailed(reasons)
    return cleaned_form, cleaned_materials


def _principal_fields(case: Application, principal: Principal | None) -> None:
    if principal is None:
        case.on_behalf = False
        case.principal_name = case.principal_id_number = case.principal_id_index = case.principal_relation = None
        if case.audience == "individual":  # filing for oneself again: the case is about the applicant
            _about(case, case.applicant.person)
        return
    reasons: list[tuple[str | None, str]] = []
    name = (principal.name or "").strip()
    if not name or len(name) > 64:
        reasons.append(("principal_name", _("Enter the full name of the person you file for.")))
    try:
        id_number = normalize_id_number(principal.id_number)
    except ValidationFailed as error:
        reasons.append(("principal_id_number", error.reasons[0][1]))
        id_number = None
    if principal.relation not in fields.RELATIONS:
        reasons.append(("principal_relation", _("Choose how you are related to the person you file for.")))
    if reasons:
        raise ValidationFailed(reasons)
    case.on_behalf = True
    case.principal_name, case.principal_id_number, case.principal_relation = name, id_number, principal.relation
    case.principal_id_index = id_number_index(id_number)
    _about(case, db.session.execute(select(Person).where(Person.id_number_index == case.principal_id_index)).scalar())


def _about(case: Application, person: Person | None) -> None:
    """Set whom the case is about: the object too, so pre-checks in the same request see the new person."""
    case.person = person
    case.person_id = person.id if person is not None else None


def _context(case: Application, item: Item) -> FilingContext:
    return FilingContext(item=item, person=case.person, unit=case.unit, data=case.form_data, case=case)


def prechecks(case: Application, item: Item | None = None) -> list[Finding]:
    """What the item's handler says about this filing now (which rules apply; warnings; blocks)."""
    item = item or catalog_item(case)
    return handler_for(item).precheck(_context(case, item)) + _credit_code_warnings(case, item)


def _credit_code_warnings(case: Application, item: Item) -> list[Finding]:
    """A 统一社会信用代码 whose check character fails is kept (early pilot regions issued such codes) but
    flagged, so the applicant can look again and the agency checks it against the licence."""
    data = case.form_data
    out = []
    for spec in specs_for(case, item):
        value = data.get(spec.key)
        if spec.type is fields.FieldType.credit_code and not spec.locked and isinstance(value, str) \
                and len(value) == 18:
            try:
                ok = check_credit_code(value).checksum_ok
            except ValidationFailed:
                continue
            if not ok:
                out.append(Finding(Severity.WARNING, _(
                    "The check character of “%(label)s” does not match. Please compare it with the business "
                    "licence; if it is right as printed, continue: the agency will verify it.",
                    label=fields.label_of(spec)), "credit_code_checksum"))
    return out


def item_prechecks(item: Item, account: Any) -> list[Finding]:
    """What the item's handler says before a draft exists: the rules only, or about ``account`` filing it."""
    audience = filing_audience(account, item)
    person = getattr(account, "person", None) if audience == "individual" else None
    unit = getattr(account, "unit", None) if audience == "unit" else None
    return handler_for(item).precheck(FilingContext(item=item, person=person, unit=unit))


def material_modes(item: Item, case: Application) -> dict[str, list[MaterialMode]]:
    """How each of the item's materials may be provided in this case (the rules ``_check_materials`` applies).

    Data sharing only where the agency can obtain the material itself; a commitment only where the catalog
    names one; uploading files and paper always; "does not apply" only for a material this case does not require,
    and never while answering a notice.
    """
    required = {m.id for m in required_materials(item, case)}
    correcting = case.open_notice is not None
    out: dict[str, list[MaterialMode]] = {}
    for material in item.materials:
        modes = [MaterialMode.DATA_SHARING] if material.provided_without_upload else []
        if material.commitment is not None:
            modes.append(MaterialMode.COMMITMENT)
        modes += [MaterialMode.UPLOAD, MaterialMode.AT_WINDOW]
        if material.id not in required and not correcting:
            modes.append(MaterialMode.NOT_APPLICABLE)
        out[material.id] = modes
    return out
