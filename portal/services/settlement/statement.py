"""The institution's settlement statement (结算单): an A4 PDF signed like the certificates (PAdES, the agency's key).

It states what the institution declared for the period, the amount the agency approved — in figures and in capital
words (人民币大写, cn2an) — with the reason when it differs from the amount applied for, the account it is paid into
(masked to its last four digits: the statement is printed and filed), and where the payment stands. It exists once
the amount is approved, and is made afresh on request, so it always states the payment as it is.

No seed prints a 结算单's layout: it is this service's own document, and says so. It is written in Chinese whatever
the interface language (an official document, like the payment notice), with the payment notice's layout
(``claims.notice.unsigned_pdf``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app

from ...applications.models import Application
from ...certificates import signing
from ...certificates.facts import agency_block, amount_in_words
from ...core.masking import mask_bank_account
from ...documents.pdf import chinese_date
from ..claims.notice import Notice, unsigned_pdf, yuan
from ..claims.operations import claim_of, payee_of
from .operations import _item, declaration_of
from .rules import Period

TITLE = "定点医药机构医保费用结算单"
OWN_NOTE = ("本结算单由网上服务大厅根据定点医药机构的结算申报和经办机构的审核结果生成，并附经办机构电子签名，为本服务"
            "提供的电子凭据（办事指南未规定结算单的格式）。拨付情况为生成本结算单时的情况，实际到账以银行记录为准。")
PAYMENT_WORDS = {"pending": "待拨付", "exported": "已送银行，待银行回盘", "paid": "已支付", "failed": "支付失败",
                 "cancelled": "已取消"}


def _payment_text(payment: Any) -> str:
    if payment is None:
        return "待拨付"
    text = PAYMENT_WORDS.get(payment.state, payment.state)
    if payment.state == "paid":
        text += f"（{chinese_date(payment.paid_at)}，银行流水号 {payment.bank_reference or '—'}）"
    elif payment.state == "failed" and payment.failure_reason:
        text += f"（{payment.failure_reason}）"
    return text


def statement_of(case: Application) -> Notice | None:
    """What the statement says, or None before the amount is approved (or for a case that is no settlement)."""
    declaration = declaration_of(case)
    claim = claim_of(case)
    if declaration is None or claim is None or claim.decided_amount is None:
        return None
    institution = getattr(case, "institution", None)
    item = _item(case)
    period = Period(declaration.period_kind, declaration.period)
    payment = claim.payment or (claim.payments[-1] if claim.payments else None)
    payee = payee_of(case)
    rows: list[tuple[str, str]] = [
        ("办件编号", case.number or ""),
        ("定点医药机构", institution.name if institution is not None else case.applicant_name),
    ]
    if institution is not None:
        rows += [("医保机构编码", institution.code or "—"), ("统一社会信用代码", institution.credit_code)]
    rows += [
        ("结算事项", item.name.zh if item is not None else case.item_name),
        ("结算期间", period.label_zh),
        ("险种", declaration.category),
        ("结算人次", str(declaration.visits)),
        ("医疗总费用", yuan(declaration.total_cost)),
        ("统筹基金支付", yuan(declaration.fund_paid)),
        ("个人账户支付", yuan(declaration.account_paid)),
        ("个人自付", yuan(declaration.self_paid)),
        ("拒付、扣款", yuan(declaration.deducted)),
        ("申请拨付金额", yuan(declaration.payable)),
        ("核定拨付金额（小写）", yuan(claim.decided_amount)),
        ("核定拨付金额（大写）", f"人民币{amount_in_words(Decimal(claim.decided_amount))}"),
    ]
    if claim.decided_amount != declaration.payable:
        rows.append(("核定调整原因", claim.adjust_reason or ""))
    if payee is not None:
        rows += [("收款账户名称", payee[0]), ("开户银行", payee[1]), ("银行账号", mask_bank_account(payee[2]))]
    if payment is not None and payment.batch is not None:
        rows.append(("拨付批次", payment.batch.number))
    rows.append(("拨付情况", _payment_text(payment)))
    day = payment.paid_at if payment is not None and payment.state == "paid" else claim.decided_at
    agency = agency_block()
    return Notice(TITLE, f"JS-{case.number}", chinese_date(day), tuple(rows), (), (OWN_NOTE,), agency["name"])


def render_statement_pdf(case: Application) -> bytes | None:
    """The statement as an A4 PDF signed (PAdES) with the agency's key; None before the amount is approved."""
    statement = statement_of(case)
    if statement is None:
        return None
    return signing.sign_pdf(unsigned_pdf(statement), current_app.config["PORTAL_SIGNING"], reason=statement.title,
                            location=statement.issuer)
