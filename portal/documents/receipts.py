"""Receipts (业务单): the slip that tells an applicant what was filed, where it stands, and how to follow it.

Modelled on seed 000's 《吉林省医疗保障业务单》. Which slip a case gets depends on where it stands:

- ``submission`` (申请回执): submitted, waiting for corrections or resubmitted, and not accepted yet (a case
  withdrawn before acceptance keeps this slip, saying so): the number, the item, the materials declared
  and the date by which the agency accepts it or says what is missing.
- ``acceptance`` (受理): accepted, and every later state short of the outcome: 受理编号, 受理日期, basic
  information, the item, the materials provided and how, "已受理，办理时限为 N 个工作日…", the due date,
  the applicant and the acceptor.
- ``refusal`` (不予受理): the acceptance slip with its other box ticked: "不符合受理条件，原因：…".
- ``completion`` (办结): completed or delivered, or denied after review ("审核未通过，原因：…"): 办理编号
  (the same number), 办结日期, the result, the item's hints (提示信息), acceptor and reviewer.

``receipt_context`` builds everything a slip shows once, already masked and formatted in the request's
language; the HTML template and the PDF drawer only lay it out, so the two never disagree. S12: 身份证 and
phone numbers are masked here, and free text typed by staff (reasons, results) has any ID or mobile number
in it masked too. Every slip carries the QR code, top right, holding exactly the ``progress_url`` given.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, url_for
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ..applications import deadlines, operations, paper
from ..applications.constants import PROVIDED_MODES, Action, MaterialMode, State
from ..applications.fields import RELATIONS
from ..applications.models import Application, ApplicationEvent
from ..catalog.schema import Item, LimitKind, Region
from ..core import clock
from ..core.audit import scrub
from ..core.errors import InvalidTransition
from ..core.formatting import local_date
from ..core.masking import mask_id_number, mask_phone
from ..core.translation import get_locale, ngettext
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from .pdf import FONT_NAME, draw_corner_qr, draw_text, pdf_font, text_width, wrap
from .qr import qr_matrix, svg_from_matrix

KIND_LABELS = {
    "submission": _l("Application receipt"),
    "acceptance": _l("Acceptance slip"),
    "refusal": _l("Notice of non-acceptance"),
    "completion": _l("Completion slip"),
}
COMPLETION_STATES = frozenset({State.COMPLETED, State.DELIVERED, State.DENIED})


@dataclass(frozen=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    """One block of the slip: a heading with the seed's reminder, then label/value rows or numbered lines."""

    key: str  # basic, application, materials, hints
    heading: str
    note: str = ""
    rows: tuple[Row, ...] = ()
    items: tuple[str, ...] = ()
    empty: str = ""  # said when there are neither rows nor items


# --- which slip, and what it says -----------------------------------------------------------------------


def receipt_kind(case: Application) -> str:
    """``submission``, ``acceptance``, ``refusal`` or ``completion`` (see the module's docstring).

    Raises ``InvalidTransition`` for a draft: it has no number, so no receipt.
    """
    state = case.state_enum
    if state is State.DRAFT or not case.number:
        raise InvalidTransition(_("A draft has no receipt."))
    if state in COMPLETION_STATES:
        return "completion"
    if state is State.NOT_ACCEPTED:
        return "refusal"
    return "acceptance" if case.accepted_at is not None else "submission"


def receipt_context(case: Application, *, progress_url: str) -> dict[str, Any]:
    """Everything the slip of ``case`` shows, masked and formatted in the request's language.

    The QR code holds exactly ``progress_url``; its matrix is computed once here for both outputs.
    """
    kind = receipt_kind(case)
    locale = str(get_locale() or "zh_Hans_CN")
    region: Region = current_app.extensions["portal_catalog"].region
    item = operations.catalog_item(case)
    title = _title(region, locale)
    issuer = (region.receipt_issuer or region.agency.name).get(locale)
    number_label, date_label, date_value = _number_and_date(case, kind)
    statement, statement_note = _statement(case, kind, item, locale)
    if (estimated := deadlines.estimate(case)).is_estimated:  # dates counted Monday to Friday: the slip says so
        statement_note = " ".join(filter(None, [statement_note, _("Dates: %(note)s.", note=estimated.note)]))
    sections = [_basic_section(case), _application_section(case, kind, item, locale),
                _materials_section(case, kind, item, locale)]
    if kind == "submission" and (plan := paper.plan(case, item, region, locale)) is not None:
        sections.append(_paper_section(plan, locale))
    if kind == "completion" and item.hints:
        sections.append(_hints_section(item, locale))
    matrix = qr_matrix(progress_url)
    qr_label = _("QR code to follow the progress of this application")
    return {
        "kind": kind,
        "kind_label": str(KIND_LABELS[kind]),
        "lang": "en" if locale.startswith("en") else "zh-Hans",
        "title": title,
        "issuer": issuer,
        "document_title": f"{title} {case.number}",
        "number_label": number_label,
        "number": case.number,
        "date_label": date_label,
        "date": date_value,
        "sections": sections,
        "statement_heading": _("Confirmation"),
        "statement": statement,
        "statement_note": statement_note,
        "signatures": _signatures(case, kind),
        "progress_url": progress_url,
        "qr_matrix": matrix,
        "qr_svg": svg_from_matrix(matrix, label=qr_label),
        "qr_caption": _("Scan to follow the progress"),
        "printed_label": _("Printed on"),
        "printed_on": local_date(clock.now()),
        "case_id": case.id,
    }


def _title(region: Region, locale: str) -> str:
    """The region's slip title as printed (without the book-title marks it is quoted with), or the default."""
    if region.receipt_title is None:
        return _("Medical security service slip")
    return region.receipt_title.get(locale).strip().removeprefix("《").removesuffix("》")


def _number_and_date(case: Application, kind: str) -> tuple[str, str, str]:
    if kind == "submission":
        return _("Acceptance number"), _("Submitted on"), local_date(case.submitted_at)
    if kind == "acceptance":
        return _("Acceptance number"), _("Accepted on"), local_date(case.accepted_at)
    if kind == "refusal":
        return _("Acceptance number"), _("Decided on"), local_date(case.decided_at)
    # a denial concludes the case too (办结): its date is the decision's
    return _("Handling number"), _("Completed on"), local_date(case.completed_at or case.decided_at)


def _free_text(text: str | None) -> str:
    """Text typed by staff, with any ID or mobile number in it masked (S12)."""
    return scrub(text.strip()) if text else ""


def _statement(case: Application, kind: str, item: Item, locale: str) -> tuple[str, str]:
    """The confirmation sentence (确认信息) and a note under it."""
    state = case.state_enum
    if kind == "refusal":
        return _("Not eligible for acceptance. Reason: %(reason)s", reason=_free_text(case.decision_reason)), ""
    if kind == "completion":
        if state is State.DENIED:
            return _("Not approved after review. Reason: %(reason)s", reason=_free_text(case.decision_reason)), ""
        return _("Your application for “%(item)s” has been completed.", item=_item_name(case, item, locale)), ""
    if kind == "acceptance":
        note = ""
        if state is State.CORRECTION_REQUESTED:
            note = _("The agency has asked you for corrections: the time limit is paused until you supply them.")
        return _acceptance_sentence(case), note
    if state is State.WITHDRAWN:
        return _("Withdrawn by the applicant"), ""
    if state is State.CORRECTION_REQUESTED and case.open_notice is not None:
        return _("The agency has asked you for corrections. Supply everything the one-time notice lists by "
                 "%(date)s; the application is then considered again.",
                 date=local_date(case.open_notice.respond_by)), ""
    if case.accept_by is not None:
        return _("Submitted, waiting for acceptance. By %(date)s the agency accepts it, or tells you at once "
                 "everything that is missing.", date=local_date(case.accept_by)), ""
    return _("Submitted, waiting for acceptance."), ""


def _acceptance_sentence(case: Application) -> str:
    """已受理，办理时限为 N 个工作日，可扫描右上方二维码查询办理进度 — from the limit the case was filed under."""
    n = case.limit_value or 0
    match case.limit_kind:
        case LimitKind.working_days if n:
            return ngettext("Accepted. The time limit is %(num)d working day; scan the QR code at the top right "
                            "to follow the progress.",
                            "Accepted. The time limit is %(num)d working days; scan the QR code at the top right "
                            "to follow the progress.", n)
        case LimitKind.natural_days if n:
            return ngettext("Accepted. The time limit is %(num)d day; scan the QR code at the top right to follow "
                            "the progress.",
                            "Accepted. The time limit is %(num)d days; scan the QR code at the top right to follow "
                            "the progress.", n)
        case LimitKind.months if n:
            return ngettext("Accepted. The time limit is %(num)d month; scan the QR code at the top right to "
                            "follow the progress.",
                            "Accepted. The time limit is %(num)d months; scan the QR code at the top right to "
                            "follow the progress.", n)
        case LimitKind.immediate:
            return _("Accepted and handled on the spot; scan the QR code at the top right to follow the progress.")
        case LimitKind.same_day:
            return _("Accepted and completed the same day; scan the QR code at the top right to follow the "
                     "progress.")
    return _("Accepted; scan the QR code at the top right to follow the progress.")


def _item_name(case: Application, item: Item, locale: str) -> str:
    """The item as filed; in English its gloss first, with the Chinese name the agency's records use."""
    if locale.startswith("en") and item.name.en:
        return f"{item.name.en} ({case.item_name})"
    return case.item_name


# --- the blocks of the slip -------------------------------------------------------------------------------


def _basic_section(case: Application) -> Section:
    """基本信息: who the case is about, with 身份证 and phone masked (S12)."""
    account = case.applicant
    rows: list[Row]
    if case.audience in ("unit", "institution"):
        unit = case.organisation
        rows = [Row(_("Unit name"), unit.name if unit else ""),
                Row(_("Unified social credit code"), unit.credit_code if unit else ""),
                Row(_("Agent"), case.applicant_name),
                Row(_("Agent's phone"), mask_phone(account.phone if account else None))]
    elif case.on_behalf:
        relation = RELATIONS.get(case.principal_relation or "")
        rows = [Row(_("Name"), case.principal_name or ""),
                Row(_("ID number"), mask_id_number(case.principal_id_number)),
                Row(_("Filed by"), case.applicant_name),
                Row(_("Relation"), str(relation) if relation else ""),
                Row(_("Filer's phone"), mask_phone(account.phone if account else None))]
    else:
        person = case.person
        phone = (person.phone if person else None) or (account.phone if account else None)
        rows = [Row(_("Name"), case.applicant_name),
                Row(_("ID number"), mask_id_number(person.id_number if person else None)),
                Row(_("Phone"), mask_phone(phone))]
    return Section("basic", _("Basic information"),
                   _("(Please check the details; if any of them has changed, apply for a change.)"),
                   rows=tuple(r for r in rows if r.value))


def _application_section(case: Application, kind: str, item: Item, locale: str) -> Section:
    """申报信息 (办理信息 on the completion slip): the item and, by slip, its dates, time limit or result."""
    # the code the published guide prints; a code this service assigned is labelled as its own
    code = (Row(_("Item code"), item.seed_code) if item is not None and item.seed_code
            else Row(_("Number in this service"), case.item_code))
    rows = [Row(_("Item"), _item_name(case, item, locale)), code]
    if kind == "submission":
        rows += [Row(_("To be accepted by"), local_date(case.accept_by)),
                 Row(_("Current status"), case.state_enum.label)]
    elif kind == "acceptance":
        rows += [Row(_("Time limit"), deadlines.limit_text(case)), Row(_("Due by"), local_date(case.due_date))]
        if case.state_enum is not State.ACCEPTED:
            rows.append(Row(_("Current status"), case.state_enum.label))
    elif kind == "refusal":
        rows.append(Row(_("Submitted on"), local_date(case.submitted_at)))
    else:
        if case.state_enum is State.DENIED:
            result = State.DENIED.label
        else:
            result = _free_text(case.result_text) or _("Completed")
        rows += [Row(_("Accepted on"), local_date(case.accepted_at)), Row(_("Result"), result)]
    if kind == "completion":
        heading = _("Handling details")
        note = _("(Please check the details; if they differ from how the case was handled, tell us.)")
    else:
        heading = _("Application details")
        note = _("(Please check the details; if they differ from what you applied for, tell us.)")
    return Section("application", heading, note, rows=tuple(r for r in rows if r.value))


def _materials_section(case: Application, kind: str, item: Item, locale: str) -> Section:
    """提供材料: the item's materials the applicant declared, in catalog order, and how each is provided."""
    chosen = case.materials
    rows = []
    for material in item.materials:
        try:
            mode = MaterialMode(chosen.get(material.id, ""))
        except ValueError:
            continue
        if mode in PROVIDED_MODES:
            rows.append(Row(material.name.get(locale), mode.label))
    heading = _("Materials declared") if kind == "submission" else _("Materials provided")
    return Section("materials", heading, rows=tuple(rows), empty=_("No materials were needed."))


def _paper_section(plan: paper.PaperPlan, locale: str) -> Section:
    """纸质材料: where, to whom, by when, and what if they don't arrive (``applications.paper``)."""
    zh = not locale.startswith("en")
    rows = [Row(_("Where"), paper.where_text(plan, zh) or _("The agency's service window.")),
            Row(_("To whom"), paper.recipient_text(plan, zh)),
            Row(_("By post"), _("Write the application number %(number)s on the envelope.", number=plan.number))]
    if plan.bring_by:
        rows.append(Row(_("By when"), local_date(plan.bring_by)))
    rows.append(Row(_("If they don't arrive"), _("The application cannot be accepted without them; the agency sends "
                                                  "a one-time notice listing what is missing, with a new date.")))
    return Section("paper", _("Paper materials"), "、".join(plan.materials) if zh else ", ".join(plan.materials),
                   rows=tuple(rows))


def _hints_section(item: Item, locale: str) -> Section:
    """提示信息: what the catalog tells the applicant once the case is done."""
    return Section("hints", _("Hints"), _("(Please check the details; ask our staff if anything is unclear.)"),
                   items=tuple(hint.get(locale) for hint in item.hints))


def _actor_name(event: ApplicationEvent | None, system: str) -> str:
    if event is None:
        return ""
    if event.actor_id is None:
        return system
    return (event.actor.display_name if event.actor is not None else "") or "—"


def _last_event(case: Application, *actions: Action) -> ApplicationEvent | None:
    wanted = {a.value for a in actions}
    return next((e for e in reversed(case.events) if e.action in wanted), None)


def _signatures(case: Application, kind: str) -> list[Row]:
    """申请人/经办人, 受理人 and, on the completion slip, 审核人."""
    rows = [Row(_("Applicant / agent"), case.applicant_name)]
    if kind == "submission":
        return rows
    if kind == "refusal":
        rows.append(Row(_("Acceptor"), _actor_name(_last_event(case, Action.REFUSE), _("System"))))
        return rows
    rows.append(Row(_("Acceptor"), _actor_name(_last_event(case, Action.ACCEPT),
                                               _("Accepted automatically by the system"))))
    if kind == "completion":
        # 即办件 complete straight from acceptance: whoever completed them reviewed them
        review = _last_event(case, Action.APPROVE, Action.DENY) or _last_event(case, Action.COMPLETE)
        rows.append(Row(_("Reviewer"), _actor_name(review, _("Handled automatically by the system"))))
    return [r for r in rows if r.value]


# --- HTML ------------------------------------------------------------------------------------------------


def render_receipt_html(case: Application, *, progress_url: str) -> str:
    """The slip as a standalone printable page (A4 print styles, the QR as inline SVG, no script)."""
    context = receipt_context(case, progress_url=progress_url)
    views = current_app.view_functions
    context["back_url"] = (url_for("applications.detail", case_id=case.id)
                           if "applications.detail" in views else None)
    context["pdf_url"] = (url_for("applications.receipt_pdf", case_id=case.id)
                          if "applications.receipt_pdf" in views else None)
    return render_template("documents/receipt.html", **context)


# --- PDF -------------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 42.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 86.0
LABEL_WIDTH = 118.0
MODE_WIDTH = 150.0
FOOTER_HEIGHT = 26.0
INK, MUTED, BAND = 0.0, 0.38, 0.92  # grey levels

class _SlipWriter:
    """Lays the slip's context out on A4 pages, top to bottom, starting a new page when one is full."""

    def __init__(self, canvas: Canvas, context: dict[str, Any]):
        self.canvas, self.ctx = canvas, context
        self.y = PAGE_HEIGHT - MARGIN
        self.page = 1

    # primitives
    def text(self, x: float, y: float, value: str, size: float, grey: float = INK, align: str = "left") -> None:
        draw_text(self.canvas, x, y, value, size, grey, align)

    def lines(self, x: float, value: str, size: float, width: float, grey: float = INK, leading: float = 0) -> float:
        """Draw wrapped ``value`` from the current line down; returns the height used."""
        leading = leading or size * 1.45
        wrapped = wrap(value, size, width)
        for i, line in enumerate(wrapped):
            self.text(x, self.y - size - i * leading, line, size, grey)
        return (len(wrapped) - 1) * leading + size * 1.35

    def ensure(self, height: float) -> None:
        if self.y - height >= MARGIN + FOOTER_HEIGHT:
            return
        self.footer()
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE_HEIGHT - MARGIN
        continued = f"{self.ctx['title']}  {self.ctx['number_label']} {self.ctx['number']}  ({self.page})"
        self.text(MARGIN, self.y - 9, continued, 9, MUTED)
        self.y -= 22

    # parts
    def header(self) -> None:
        ctx, top = self.ctx, self.y
        qr_left = draw_corner_qr(self.canvas, ctx["qr_matrix"], page_width=PAGE_WIDTH, top=top, margin=MARGIN,
                                 size=QR_SIZE)
        caption = wrap(ctx["qr_caption"], 7.5, QR_SIZE)
        for i, line in enumerate(caption):
            self.text(qr_left + QR_SIZE / 2, top - QR_SIZE - 9 - i * 9, line, 7.5, MUTED, "center")
        centre = PAGE_WIDTH / 2
        room = 2 * (qr_left - 12 - centre)
        size = 18.0
        width = text_width(ctx["title"], size)
        if width > room:
            size = max(11.0, size * room / width)
        self.text(centre, top - 24, ctx["title"], size, INK, "center")
        self.text(centre, top - 42, ctx["kind_label"], 11, MUTED, "center")
        pairs = ((ctx["number_label"], ctx["number"]), (ctx["date_label"], ctx["date"]))
        indent = max(text_width(label, 9) for label, _value in pairs) + 10
        for i, (label, value) in enumerate(pairs):
            y = top - 66 - i * 17
            self.text(MARGIN, y, label, 9, MUTED)
            self.text(MARGIN + indent, y, value, 11.5 if i == 0 else 10.5)
        self.y = top - QR_SIZE - 12 - 9 * len(caption)

    def band(self, heading: str, note: str) -> None:
        self.ensure(44)
        canvas = self.canvas
        canvas.setFillGray(BAND)
        canvas.rect(MARGIN, self.y - 18, CONTENT_WIDTH, 18, stroke=0, fill=1)
        self.text(MARGIN + 6, self.y - 13, heading, 10.5)
        if note:
            x = MARGIN + 14 + text_width(heading, 10.5)
            if x + text_width(note, 7.5) <= MARGIN + CONTENT_WIDTH - 4:
                self.text(x, self.y - 12.5, note, 7.5, MUTED)
                note = ""
        self.y -= 24
        if note:
            self.y -= self.lines(MARGIN + 6, note, 7.5, CONTENT_WIDTH - 12, MUTED) + 2

    def section(self, section: Section) -> None:
        self.band(section.heading, section.note)
        if section.key == "materials":
            for i, row in enumerate(section.rows, 1):
                name = wrap(f"{i}. {row.label}", 10, CONTENT_WIDTH - MODE_WIDTH - 18)
                mode = wrap(row.value, 9, MODE_WIDTH)
                height = max(len(name) * 14.5, len(mode) * 13)
                self.ensure(height + 2)
                for j, line in enumerate(name):
                    self.text(MARGIN + 6, self.y - 10 - j * 14.5, line, 10)
                for j, line in enumerate(mode):
                    self.text(MARGIN + CONTENT_WIDTH - 6, self.y - 10 - j * 13, line, 9, MUTED, "right")
                self.y -= height + 2
        else:
            for row in section.rows:
                label = wrap(row.label, 9, LABEL_WIDTH - 14)
                value = wrap(row.value, 10, CONTENT_WIDTH - LABEL_WIDTH - 12)
                height = max(len(label) * 13, len(value) * 14.5)
                self.ensure(height + 2)
                for j, line in enumerate(label):
                    self.text(MARGIN + 6, self.y - 10 - j * 13, line, 9, MUTED)
                for j, line in enumerate(value):
                    self.text(MARGIN + LABEL_WIDTH, self.y - 10 - j * 14.5, line, 10)
                self.y -= height + 2
            for i, item in enumerate(section.items, 1):
                lines = wrap(item, 9.5, CONTENT_WIDTH - 30)
                self.ensure(len(lines) * 13.5 + 2)
                self.text(MARGIN + 6, self.y - 9.5, f"{i}.", 9.5)
                for j, line in enumerate(lines):
                    self.text(MARGIN + 24, self.y - 9.5 - j * 13.5, line, 9.5)
                self.y -= len(lines) * 13.5 + 2
        if not section.rows and not section.items and section.empty:
            self.ensure(16)
            self.text(MARGIN + 6, self.y - 10, section.empty, 9.5, MUTED)
            self.y -= 16
        self.y -= 8

    def statement(self) -> None:
        ctx = self.ctx
        self.band(ctx["statement_heading"], "")
        sentence = wrap(ctx["statement"], 11.5, CONTENT_WIDTH - 12)
        note = wrap(ctx["statement_note"], 9, CONTENT_WIDTH - 12) if ctx["statement_note"] else []
        self.ensure(len(sentence) * 17 + len(note) * 13 + 6)
        for line in sentence:
            self.text(MARGIN + 6, self.y - 11.5, line, 11.5)
            self.y -= 17
        for line in note:
            self.text(MARGIN + 6, self.y - 9, line, 9, MUTED)
            self.y -= 13
        self.y -= 14

    def signatures(self) -> None:
        rows = self.ctx["signatures"]
        self.ensure(48)
        column = CONTENT_WIDTH / max(len(rows), 1)
        for i, row in enumerate(rows):
            x = MARGIN + 6 + i * column
            self.text(x, self.y - 10, row.label, 9, MUTED)
            value_lines = wrap(row.value, 10.5, column - 12)
            for j, line in enumerate(value_lines[:2]):
                self.text(x, self.y - 25 - j * 14, line, 10.5)
        self.y -= 44

    def footer(self) -> None:
        ctx, canvas = self.ctx, self.canvas
        canvas.setStrokeGray(0.75)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, MARGIN + 12, MARGIN + CONTENT_WIDTH, MARGIN + 12)
        self.text(MARGIN, MARGIN, f"{ctx['printed_label']} {ctx['printed_on']}", 8, MUTED)
        self.text(MARGIN + CONTENT_WIDTH, MARGIN, ctx["issuer"], 8, MUTED, "right")


def pdf_from_context(context: dict[str, Any]) -> bytes:
    """Draw a slip's context (``receipt_context``) on A4 and return the PDF, with the font embedded."""
    pdf_font()
    buffer = io.BytesIO()
    # the bundled font from the start, so the PDF names no other font (not even an unused Helvetica)
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0, initialFontName=FONT_NAME, initialFontSize=10,
                    lang=context["lang"])
    canvas.setTitle(context["document_title"])
    canvas.setSubject(context["kind_label"])
    canvas.setAuthor(context["issuer"])
    canvas.setCreator(_("Medical Security Online Service Hall"))
    writer = _SlipWriter(canvas, context)
    writer.header()
    for section in context["sections"]:
        writer.section(section)
    writer.statement()
    writer.signatures()
    writer.footer()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_receipt_pdf(case: Application, *, progress_url: str) -> bytes:
    """The slip as an A4 PDF: the CJK font embedded (subset), the QR code drawn as vectors."""
    return pdf_from_context(receipt_context(case, progress_url=progress_url))

