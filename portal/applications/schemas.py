"""JSON shapes of the filing API, and the ``to_api`` functions that fill them.

Requests accept only the fields listed here (``extra="forbid"``); the values inside ``form`` are checked by
``fields.clean_form``, the same validation as the pages. Answers are built field by field on the server,
with identity numbers, phones and bank accounts masked (S12), and free text typed by staff scrubbed of any
such number. A client that sends a masked value back unchanged keeps the stored one (``restore_masked``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..catalog.labels import HANDLING, is_english, time_limit_text
from ..catalog.schema import FieldType, Item, Text
from ..core import clock
from ..core.masking import mask_id_number
from ..services import handler_for
from . import deadlines, fields, operations
from .constants import (
    APPLICANT_ACTIONS,
    DEFECT_LABELS,
    EDITABLE_STATES,
    FORM_ENTRY,
    PROVIDED_MODES,
    Action,
    MaterialMode,
    State,
)
from .lifecycle import available_actions
from .masked_values import masked, restore_masked, scrubbed, shown
from .models import Application, ApplicationEvent, CorrectionNotice
from .permissions import cannot_file, filing_audience
from .progress import PublicProgress

# --- requests ----------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Key = Annotated[str, StringConstraints(max_length=64)]
ModeName = Annotated[str, StringConstraints(max_length=32)]
FormValues = Annotated[dict[Key, Any], Field(
    max_length=200, description="field key → value, for the keys listed in the case's ``fields``; a table is a "
                                "list of rows (objects of column key → value); other keys are ignored")]
MaterialChoices = Annotated[dict[Key, ModeName], Field(
    max_length=100, description="material id → how it is provided (one of the material's ``allowed_modes``)")]


class CreateIn(_In):
    item_code: str = Field(min_length=1, max_length=40, description="A code from GET /applications/items")


class PrincipalIn(_In):
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=40, description="The 身份证 number; sending the masked value keeps it")
    relation: str = Field(max_length=32, description="spouse, parent, child, relative or entrusted")


class DraftIn(_In):
    form: FormValues = Field(default_factory=dict)
    materials: MaterialChoices = Field(default_factory=dict)
    principal: PrincipalIn | None = Field(default=None, description="Filing on someone else's behalf (委托)")


class WithdrawIn(_In):
    reason: str | None = Field(default=None, max_length=500)


class ResubmitIn(_In):
    form: FormValues = Field(default_factory=dict, description="Only when the notice lists the form (_form)")
    materials: MaterialChoices = Field(default_factory=dict, description="The materials the notice lists")
    note: str = Field(default="", max_length=2000)


class CaseListQuery(_In):
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=20, ge=1, le=50)


def draft_input(body: DraftIn, case: Application) -> operations.DraftInput:
    """The operation's input from the request; masked values sent back unchanged keep the stored ones."""
    principal = None
    if body.principal is not None:
        stored = case.principal_id_number
        id_number = stored if stored and body.principal.id_number == mask_id_number(stored) \
            else body.principal.id_number
        principal = operations.Principal(body.principal.name, id_number, body.principal.relation)
    form = restore_masked(operations.specs_for(case), body.form, case.form_data)
    return operations.DraftInput(form=form, materials=dict(body.materials), principal=principal)


def resubmission(body: ResubmitIn, case: Application) -> operations.Resubmission:
    form = restore_masked(operations.specs_for(case), body.form, case.form_data)
    return operations.Resubmission(form=form, materials=dict(body.materials), note=body.note)


# --- common parts ------------------------------------------------------------------------------------


class NameOut(BaseModel):
    zh: str
    en: str | None = None


def _name(text: Text | None) -> NameOut | None:
    return NameOut(zh=text.zh, en=text.en) if text is not None else None


def _local(moment: datetime | None) -> datetime | None:
    """Timestamps are stored in UTC and answered in China's time (+08:00)."""
    return clock.to_local(moment) if moment is not None else None


def _local_date(moment: datetime | None) -> date | None:
    return clock.to_local(moment).date() if moment is not None else None


def _catalog_item(case: Application) -> Item | None:
    return current_app.extensions["portal_catalog"].get(case.item_code)


class CaseItemOut(BaseModel):
    code: str
    name: NameOut
    time_limit: str = Field(description="The time limit in the answer's language")
    time_limit_wording: str = Field(description="The time limit as the guide publishes it")


def _case_item(case: Application) -> CaseItemOut:
    item = _catalog_item(case)
    return CaseItemOut(code=case.item_code, name=NameOut(zh=case.item_name, en=item.name.en if item else None),
                       time_limit=deadlines.limit_text(case), time_limit_wording=case.limit_wording)


class FlagsOut(BaseModel):
    is_overdue: bool
    is_due_soon: bool
    working_days_left: int | None


def _flags_out(found: deadlines.Flags) -> FlagsOut:
    return FlagsOut(is_overdue=found.is_overdue, is_due_soon=found.is_due_soon,
                    working_days_left=found.working_days_left)


def _flags(case: Application) -> FlagsOut:
    notice = case.open_notice
    return _flags_out(deadlines.flags(case.due_date, is_closed=case.is_closed,
                                      is_paused=notice is not None and notice.pauses_clock))


# --- the items an account may file -------------------------------------------------------------------


class FilingItemOut(BaseModel):
    code: str
    name: NameOut
    part: str
    audience: Literal["individual", "unit", "institution"] = Field(description="How the logged-in account files it")
    handling: str = Field(description="instant (即办件), promise (承诺件) or mixed (the portal's own use)")
    handling_label: str | None = Field(description="The guide's 办件类型 (in Chinese its own words); null where the "
                                       "guide publishes none")
    time_limit: str
    time_limit_wording: str
    can_file: bool
    reason: str | None = Field(description="Why it cannot be filed now (for example: real-name binding missing)")


class FilingItemList(BaseModel):
    region: str
    count: int
    items: list[FilingItemOut]


def _handling_label(item: Item) -> str | None:
    if item.handling.wording is None:
        return None
    return str(HANDLING[item.handling.type]) if is_english() else item.handling.wording


def filing_item_to_api(item: Item, account: Any) -> FilingItemOut:
    reason = cannot_file(account, item)
    return FilingItemOut(
        code=item.code, name=_name(item.name), part=item.part, audience=filing_audience(account, item),
        handling=item.handling.type.value, handling_label=_handling_label(item),
        time_limit=time_limit_text(item.time_limit), time_limit_wording=item.time_limit.wording,
        can_file=reason is None, reason=reason,
    )


# --- one case ----------------------------------------------------------------------------------------


class FieldOut(BaseModel):
    key: str
    label: NameOut
    type: str
    required: bool
    group: NameOut | None = None
    help: NameOut | None = None
    options: list[NameOut] = Field(default_factory=list, description="choice, multichoice: send the zh value")
    columns: list[FieldOut] = Field(default_factory=list, description="table: the columns of a row")
    max_rows: int | None = None
    is_locked: bool = Field(description="Filled from the records at submission: shown masked, never typed")
    value_masked: str | None = Field(default=None, description="The locked value, masked")


class MaterialOut(BaseModel):
    id: str
    name: NameOut
    requirement: str = Field(description="required, optional or conditional, as the guide lists it")
    is_required: bool = Field(description="Must be provided in this case before submission")
    condition: NameOut | None = None
    commitment: NameOut | None = Field(default=None, description="The 承诺书 that may replace it")
    data_sharing: bool = Field(description="Nothing to provide: the guide says the agency obtains it, or this service "
                                           "stands in for it online (see online_substitute)")
    online_substitute: str | None = Field(default=None, description="This service's own choice, not the guide's: "
                                          "real_name (the real-name binding stands for the ID document) or "
                                          "online_form (the online form is this form)")
    allowed_modes: list[str]
    mode: str | None
    mode_label: str | None


class FindingOut(BaseModel):
    severity: Literal["info", "warning", "blocking"]
    message: str
    rule: str | None
    requires_item: str | None = Field(default=None, description="An unmet requires_item rule: the code of the "
                                                                "item to complete first")


class NoticeEntryOut(BaseModel):
    material: str = Field(description="A material id, or _form for the form itself")
    material_name: NameOut
    defect: str
    defect_label: str
    note: str | None


class NoticeOut(BaseModel):
    sequence: int
    issued_on: date
    respond_by: date
    pauses_clock: bool
    note: str | None
    entries: list[NoticeEntryOut]
    is_resolved: bool
    resolved_on: date | None


class PrincipalOut(BaseModel):
    name: str
    id_number_masked: str
    relation: str
    relation_label: str


class CaseOut(BaseModel):
    id: int
    number: str | None
    item: CaseItemOut
    audience: Literal["individual", "unit", "institution"]
    state: str
    state_label: str
    is_editable: bool
    actions: list[str] = Field(description="What the applicant can do now: submit, withdraw, resubmit")
    on_behalf: bool
    principal: PrincipalOut | None
    fields: list[FieldOut]
    form: dict[str, Any] = Field(description="The form data; identity numbers, phones and bank accounts masked")
    materials: list[MaterialOut]
    findings: list[FindingOut] = Field(description="What the item's rules say about this draft")
    notice: NoticeOut | None = Field(description="The open one-time notice (一次性告知), if any")
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    accept_by: date | None
    due_date: date | None
    is_estimated: bool = Field(description="Dates counted Monday to Friday (a year's holidays unknown): may move")
    estimate_reason: str | None = Field(description="Why the dates are estimated, and the note to show with them")
    completed_at: datetime | None
    closed_at: datetime | None
    flags: FlagsOut
    decision_reason: str | None
    result_text: str | None


def _field_to_api(spec: fields.FieldSpec, *, locked: bool, value: Any) -> FieldOut:
    return FieldOut(
        key=spec.key, label=_name(spec.label), type=spec.type.value, required=spec.required,
        group=_name(spec.group), help=_name(spec.help), options=[_name(o) for o in spec.options],
        columns=[_field_to_api(c, locked=False, value=None) for c in spec.columns],
        max_rows=spec.max_rows if spec.type is FieldType.table else None,
        is_locked=locked, value_masked=masked(spec, value) if locked else None,
    )


def _mode(value: str | None) -> MaterialMode | None:
    try:
        return MaterialMode(value)
    except ValueError:
        return None


def _materials_to_api(case: Application, item: Item) -> list[MaterialOut]:
    modes = operations.material_modes(item, case)
    required = {m.id for m in operations.required_materials(item, case)}
    chosen = case.materials
    out = []
    for m in item.materials:
        mode = _mode(chosen.get(m.id))
        out.append(MaterialOut(
            id=m.id, name=_name(m.name), requirement=m.requirement.value, is_required=m.id in required,
            condition=_name(m.condition), commitment=_name(m.commitment), data_sharing=m.provided_without_upload,
            online_substitute=m.online_substitute.value if m.online_substitute else None,
            allowed_modes=[x.value for x in modes[m.id]], mode=mode.value if mode else None,
            mode_label=mode.label if mode else None,
        ))
    return out


FORM_NAME = NameOut(zh="申请表", en="Application form")


def notice_to_api(notice: CorrectionNotice, item: Item | None) -> NoticeOut:
    names = {m.id: _name(m.name) for m in item.materials} if item else {}
    names[FORM_ENTRY] = FORM_NAME
    entries = [NoticeEntryOut(
        material=e["material"], material_name=names.get(e["material"], NameOut(zh=e["material"])),
        defect=e["defect"], defect_label=str(DEFECT_LABELS.get(e["defect"], e["defect"])),
        note=scrubbed(e.get("note")) or None,
    ) for e in notice.entries]
    return NoticeOut(sequence=notice.sequence, issued_on=notice.issued_on, respond_by=notice.respond_by,
                     pauses_clock=notice.pauses_clock, note=scrubbed(notice.note), entries=entries,
                     is_resolved=notice.resolved_at is not None, resolved_on=notice.resolved_on)


def _principal_to_api(case: Application) -> PrincipalOut | None:
    if not case.on_behalf:
        return None
    relation = case.principal_relation or ""
    return PrincipalOut(name=case.principal_name or "", id_number_masked=mask_id_number(case.principal_id_number),
                        relation=relation, relation_label=str(fields.RELATIONS.get(relation, relation)))


def to_api(case: Application) -> CaseOut:
    """The case as its applicant sees it: the fields and data of the form, materials, notice, dates."""
    item = operations.catalog_item(case)
    specs = operations.specs_for(case, item)
    # the fields as the filing page shows them now (a claim's 逾期申报原因 only once its dates are late); the form's
    # values are every stored one, as saving takes every field of ``specs``
    listed = handler_for(item).shown_specs(case, item, specs)
    values = operations.record_values(case, item)
    data = case.form_data
    locked = {s.key: fields.is_locked(s, values) for s in specs}
    findings = operations.prechecks(case, item) if case.state == State.DRAFT else []
    notice = case.open_notice
    return CaseOut(
        id=case.id, number=case.number, item=_case_item(case), audience=case.audience,
        state=case.state, state_label=case.state_enum.label, is_editable=case.state_enum in EDITABLE_STATES,
        actions=[a.value for a in available_actions(case) if a in APPLICANT_ACTIONS],
        on_behalf=case.on_behalf, principal=_principal_to_api(case),
        fields=[_field_to_api(s, locked=locked[s.key], value=values.get(s.prefill or "")) for s in listed],
        form={s.key: shown(s, data[s.key], locked=locked[s.key]) for s in specs if s.key in data},
        materials=_materials_to_api(case, item),
        findings=[FindingOut(severity=f.severity.value, message=f.message, rule=f.rule,
                             requires_item=f.requires.code if f.requires is not None else None) for f in findings],
        notice=notice_to_api(notice, item) if notice else None,
        created_at=_local(case.created_at), submitted_at=_local(case.submitted_at),
        accepted_at=_local(case.accepted_at), accept_by=case.accept_by, due_date=case.due_date,
        **deadlines.estimate(case).fields,
        completed_at=_local(case.completed_at), closed_at=_local(case.closed_at), flags=_flags(case),
        decision_reason=scrubbed(case.decision_reason), result_text=scrubbed(case.result_text),
    )


# --- my cases ----------------------------------------------------------------------------------------


class CaseSummaryOut(BaseModel):
    id: int
    number: str | None
    item: CaseItemOut
    state: str
    state_label: str
    submitted_at: datetime | None
    accepted_at: datetime | None
    due_date: date | None
    flags: FlagsOut
    is_estimated: bool = Field(description="Dates counted Monday to Friday (a year's holidays unknown): may move")
    estimate_reason: str | None = Field(description="Why the dates are estimated, and the note to show with them")


class CaseList(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int
    items: list[CaseSummaryOut]


def case_list_to_api(cases: list[Application], total: int, *, page: int, per_page: int) -> CaseList:
    return CaseList(page=page, per_page=per_page, total=total, pages=(total + per_page - 1) // per_page, items=[
        CaseSummaryOut(id=c.id, number=c.number, item=_case_item(c), state=c.state, state_label=c.state_enum.label,
                       submitted_at=_local(c.submitted_at), accepted_at=_local(c.accepted_at), due_date=c.due_date,
                       flags=_flags(c), **deadlines.estimate(c).fields)
        for c in cases])


# --- timeline ----------------------------------------------------------------------------------------


class EventOut(BaseModel):
    action: str
    label: str
    from_state: str
    from_label: str
    to_state: str
    to_label: str
    at: datetime
    reason: str | None
    actor_kind: str = Field(description="citizen, agent, staff or system; staff are never named")
    actor_role: str | None = Field(description="Staff: their roles (acceptor, reviewer, finance, chief)")
    detail: dict[str, Any] = Field(description="e.g. the due date at acceptance, or a deadline shift on resubmission")


class TimelineOut(BaseModel):
    id: int
    number: str | None
    state: str
    state_label: str
    events: list[EventOut]
    notices: list[NoticeOut]


def _event_to_api(event: ApplicationEvent) -> EventOut:
    return EventOut(
        action=event.action, label=Action(event.action).label, from_state=event.from_state,
        from_label=State(event.from_state).label, to_state=event.to_state, to_label=State(event.to_state).label,
        at=_local(event.at), reason=scrubbed(event.reason), actor_kind=event.actor_kind, actor_role=event.actor_role,
        detail=event.detail,
    )


def timeline_to_api(case: Application) -> TimelineOut:
    item = _catalog_item(case)
    return TimelineOut(id=case.id, number=case.number, state=case.state, state_label=case.state_enum.label,
                       events=[_event_to_api(e) for e in case.events],
                       notices=[notice_to_api(n, item) for n in case.notices])


# --- receipt -----------------------------------------------------------------------------------------


class ReceiptRowOut(BaseModel):
    label: str
    value: str


class ReceiptSectionOut(BaseModel):
    key: str = Field(description="basic (whom it is about, masked), application, materials, hints")
    heading: str
    note: str
    rows: list[ReceiptRowOut]
    items: list[str]
    empty: str = Field(description="What to say when the section has neither rows nor items")


class ReceiptMaterialOut(BaseModel):
    id: str
    name: NameOut
    mode: str
    mode_label: str


class ReceiptOut(BaseModel):
    kind: Literal["submission", "acceptance", "refusal", "completion"] = Field(
        description="Which slip: before acceptance, acceptance, non-acceptance, or completion (incl. denial)")
    kind_label: str
    title: str = Field(description="The region's slip title, e.g. 吉林省医疗保障业务单")
    issuer: str
    number_label: str
    number: str
    date_label: str
    date: str
    item: CaseItemOut
    state: str
    state_label: str
    submitted_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    accept_by: date | None
    due_date: date | None
    is_estimated: bool
    estimate_reason: str | None
    statement: str = Field(description="The slip's sentence: the time limit promised, or the outcome")
    statement_note: str
    sections: list[ReceiptSectionOut] = Field(description="The slip's blocks as printed, already masked")
    materials: list[ReceiptMaterialOut] = Field(description="The materials provided, and how")
    printed_on: str
    progress_url: str = Field(description="What the slip's QR code holds")


def receipt_to_api(case: Application, context: dict[str, Any]) -> ReceiptOut:
    """The slip of ``documents.receipts.receipt_context`` as data, with the case's dates and materials.

    The signatures (which name the acceptor and reviewer) and the QR matrix stay on the printed slip.
    """
    item = operations.catalog_item(case)
    chosen = {k: _mode(v) for k, v in case.materials.items()}
    return ReceiptOut(
        kind=context["kind"], kind_label=context["kind_label"], title=context["title"], issuer=context["issuer"],
        number_label=context["number_label"], number=context["number"], date_label=context["date_label"],
        date=context["date"], item=_case_item(case), state=case.state, state_label=case.state_enum.label,
        submitted_at=_local(case.submitted_at), accepted_at=_local(case.accepted_at),
        completed_at=_local(case.completed_at), accept_by=case.accept_by, due_date=case.due_date,
        **deadlines.estimate(case).fields, statement=context["statement"], statement_note=context["statement_note"],
        sections=[ReceiptSectionOut(key=s.key, heading=s.heading, note=s.note, items=list(s.items), empty=s.empty,
                                    rows=[ReceiptRowOut(label=r.label, value=r.value) for r in s.rows])
                  for s in context["sections"]],
        materials=[ReceiptMaterialOut(id=m.id, name=_name(m.name), mode=chosen[m.id].value,
                                      mode_label=chosen[m.id].label)
                   for m in item.materials if chosen.get(m.id) in PROVIDED_MODES],
        printed_on=context["printed_on"], progress_url=context["progress_url"],
    )


# --- public progress (the receipt's QR code) ---------------------------------------------------------


class StepOut(BaseModel):
    stage: str
    label: str
    status: Literal["done", "current", "stopped", "upcoming", "skipped"]


class ProgressOut(BaseModel):
    item: NameOut
    number_masked: str
    applicant_masked: str = Field(description="The applicant's name, or the unit's name, masked")
    state: str
    state_label: str
    stage: str = Field(description="The step the case is at: application, acceptance, review, payment, ...")
    stage_label: str
    steps: list[StepOut]
    is_waiting_for_corrections: bool
    is_paused: bool
    is_closed: bool
    submitted_on: date | None
    accepted_on: date | None
    completed_on: date | None
    due_date: date | None
    time_limit_wording: str
    flags: FlagsOut
    is_estimated: bool = Field(description="Dates counted Monday to Friday (a year's holidays unknown): may move")
    estimate_reason: str | None = Field(description="Why the dates are estimated, and the note to show with them")


def progress_to_api(progress: PublicProgress) -> ProgressOut:
    """What anyone holding the receipt's link may see (SECURITY.md), and nothing more."""
    step = progress.current_step
    return ProgressOut(
        item=NameOut(zh=progress.item_name, en=progress.item_name_en), number_masked=progress.masked_number,
        applicant_masked=progress.masked_applicant, state=progress.state.value, state_label=progress.state.label,
        stage=step.stage.value, stage_label=step.stage.label,
        steps=[StepOut(stage=s.stage.value, label=s.stage.label, status=s.status.value) for s in progress.steps],
        is_waiting_for_corrections=progress.is_waiting_for_corrections, is_paused=progress.is_paused,
        is_closed=progress.is_closed, submitted_on=_local_date(progress.submitted_at),
        accepted_on=_local_date(progress.accepted_at), completed_on=_local_date(progress.completed_at),
        due_date=progress.due_date, time_limit_wording=progress.limit_wording, flags=_flags_out(progress.flags),
        **progress.estimate.fields,
    )
