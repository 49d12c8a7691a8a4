"""The payment notice (待遇拨付通知书) of a paid claim: an A4 PDF, signed like the certificates (PAdES, the agency's
key), with the amount in figures and in Chinese capital words (人民币大写, from cn2an).

No seed prints such a notice: it is this service's own document, and says so. It is written in Chinese whatever
the interface language (an official document in the agency's language, like the certificates), laid out with the
shared PDF machinery (``documents.pdf``: the embedded CJK font, wrapping). The payee's account is masked to its
last four digits (S12): the notice may be printed and handed on. It exists only once the payment is paid.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ...applications.models import Application
from ...certificates import signing
from ...certificates.facts import agency_block, amount_in_words
from ...core.masking import mask_bank_account
from ...documents.pdf import FONT_NAME, chinese_date, draw_text, pdf_font, text_width, wrap
from .models import Claim, Payment
from .operations import _item, claim_of

TITLE = "医疗保障待遇拨付通知书"
OWN_NOTE = ("本通知书由网上服务大厅在款项支付后生成，并附经办机构电子签名，为本服务提供的电子凭据"
            "（办事指南未规定此文书）。实际到账以银行记录为准。")


@dataclass(frozen=True)
class Notice:
    title: str
    number: str
    date: str
    rows: tuple[tuple[str, str], ...]
    working: tuple[str, ...]
    notes: tuple[str, ...]
    issuer: str


def paid_payment(case: Application) -> tuple[Claim, Payment] | None:
    """The claim and its paid payment, or None when nothing has been paid."""
    claim = claim_of(case)
    payment = claim.payment if claim is not None else None
    if payment is None or payment.state != "paid" or claim.kind == "settlement":  # an institution's: its 结算单
        return None
    return claim, payment


def yuan(amount: Any) -> str:
    return f"¥{amount:,.2f}"


def notice_of(case: Application) -> Notice | None:
    """What the notice says, or None for a case with no paid payment."""
    paid = paid_payment(case)
    if paid is None:
        return None
    claim, payment = paid
    from .working import describe

    with force_locale("zh_Hans_CN"):
        working = tuple(f"{step.text}：{step.amount}" if step.amount else step.text
                        for step in (describe(line) for line in claim.working))
    item = _item(case)
    rows = [
        ("办件编号", case.number or ""),
        ("办理事项", item.name.zh if item is not None else case.item_name),
        ("参保人", case.principal_name or (case.person.name if case.person else "") or case.applicant_name),
        ("拨付金额（小写）", yuan(payment.amount)),
        ("拨付金额（大写）", f"人民币{amount_in_words(payment.amount)}"),
    ]
    if claim.computed_amount is not None and claim.decided_amount is not None \
            and claim.computed_amount != claim.decided_amount:
        rows.append(("计算金额", yuan(claim.computed_amount)))
        rows.append(("核定调整原因", claim.adjust_reason or ""))
    rows += [
        ("收款人", payment.payee_name),
        ("开户银行", payment.payee_bank),
        ("收款账户", mask_bank_account(payment.payee_account)),
        ("拨付批次", payment.batch.number if payment.batch is not None else "—"),
        ("银行交易流水号", payment.bank_reference or "—"),
        ("支付日期", chinese_date(payment.paid_at)),
    ]
    if claim.late_accepted_at is not None:
        rows.append(("逾期受理", f"申报期限为{chinese_date(claim.late_deadline)}，经办机构已按不可抗力受理："
                                 f"{claim.late_accepted_reason}"))
    agency = agency_block(person=case.person)
    return Notice(TITLE, f"{case.number}-{payment.id}", chinese_date(payment.paid_at), tuple(rows), working,
                  (OWN_NOTE,), agency["name"])


# --- PDF --------------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 48.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH = 120.0


def unsigned_pdf(notice: Notice) -> bytes:
    pdf_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0, initialFontName=FONT_NAME, initialFontSize=10,
                    lang="zh-Hans")
    canvas.setTitle(f"{notice.title} {notice.number}")
    canvas.setAuthor(notice.issuer)
    canvas.setSubject(notice.title)
    y = PAGE_HEIGHT - MARGIN

    def room(height: float) -> None:
        nonlocal y
        if y - height < MARGIN + 30:
            canvas.showPage()
            y = PAGE_HEIGHT - MARGIN
            draw_text(canvas, MARGIN, y - 9, f"{notice.title}  {notice.number}", 9, 0.4)
            y -= 24

    size = min(20.0, 20.0 * WIDTH / max(text_width(notice.title, 20.0), 1))
    draw_text(canvas, PAGE_WIDTH / 2, y - 24, notice.title, size, 0.0, "center")
    draw_text(canvas, MARGIN, y - 54, f"通知书编号：{notice.number}", 10.5)
    draw_text(canvas, PAGE_WIDTH - MARGIN, y - 54, f"日期：{notice.date}", 10.5, 0.0, "right")
    y -= 70
    canvas.setStrokeGray(0.6)
    canvas.setLineWidth(0.6)
    for label, value in notice.rows:
        lines = wrap(value or "", 10.5, WIDTH - LABEL_WIDTH - 14) or [""]
        height = max(len(lines) * 15 + 8, 23)
        room(height)
        canvas.rect(MARGIN, y - height, WIDTH, height, stroke=1, fill=0)
        canvas.line(MARGIN + LABEL_WIDTH, y - height, MARGIN + LABEL_WIDTH, y)
        draw_text(canvas, MARGIN + 6, y - 15, label, 9.5, 0.25)
        for i, line in enumerate(lines):
            draw_text(canvas, MARGIN + LABEL_WIDTH + 7, y - 15.5 - i * 15, line, 10.5)
        y -= height
    if notice.working:
        y -= 14
        room(20)
        draw_text(canvas, MARGIN, y - 11, "计算过程：", 10.5)
        y -= 18
        for i, step in enumerate(notice.working, 1):
            for line in wrap(f"{i}．{step}", 9.5, WIDTH - 8):
                room(13.5)
                draw_text(canvas, MARGIN + 4, y - 9.5, line, 9.5)
                y -= 13.5
    y -= 10
    for note in notice.notes:
        for line in wrap(note, 8.5, WIDTH):
            room(12)
            draw_text(canvas, MARGIN, y - 8.5, line, 8.5, 0.35)
            y -= 12
    canvas.setStrokeGray(0.75)
    canvas.line(MARGIN, MARGIN + 12, PAGE_WIDTH - MARGIN, MARGIN + 12)
    draw_text(canvas, PAGE_WIDTH - MARGIN, MARGIN, f"{notice.issuer}（电子签章）", 8.5, 0.35, "right")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_notice_pdf(case: Application) -> bytes | None:
    """The paid claim's notice as an A4 PDF signed (PAdES) with the agency's key; None when nothing is paid."""
    notice = notice_of(case)
    if notice is None:
        return None
    return signing.sign_pdf(unsigned_pdf(notice), current_app.config["PORTAL_SIGNING"], reason=notice.title,
                            location=notice.issuer)
