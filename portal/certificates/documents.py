"""Certificates as printable HTML and as signed A4 PDF, laid out from one context.

``certificate_context`` turns a certificate's stored facts into titled blocks of label/value rows (the labels
are the seed's printed Chinese: a certificate is an official document in the agency's language, whatever
the interface language), the notes, the verification code and the QR. The HTML template and the PDF drawer
only lay that out, so the two never disagree. The PDF uses the shared embedded CJK font, line breaking
and vector QR (``documents.pdf``), then is signed (PAdES) with the agency's key.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app, render_template, url_for
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ..core.translation import gettext as _
from ..documents.pdf import FONT_NAME, chinese_date, draw_corner_qr, draw_text, pdf_font, text_width, wrap
from ..documents.qr import qr_matrix, svg_from_matrix
from ..insurance.constants import EnrolmentStatus, HukouType, InsuranceType, PersonCategory
from . import codes, signing
from .constants import TITLES_ZH, CertificateKind
from .models import Certificate

# Chinese words printed on the certificates, as the seed's forms print them (data, not interface text)
INSURANCE_ZH = {
    InsuranceType.EMPLOYEE_MEDICAL: "职工基本医疗保险",
    InsuranceType.RESIDENT_MEDICAL: "城乡居民基本医疗保险",
    InsuranceType.LARGE_EXPENSE: "大额医疗补充保险",
    InsuranceType.CIVIL_SERVANT: "公务员医疗补助",
    InsuranceType.LONG_TERM_CARE: "长期护理保险",
}
HUKOU_ZH = {HukouType.URBAN: "城镇", HukouType.RURAL: "农村", HukouType.UNIFIED: "居民户口", HukouType.OTHER: "其他"}
CATEGORY_ZH = {PersonCategory.EMPLOYEE: "在职职工", PersonCategory.RETIREE: "退休人员",
               PersonCategory.RETIRED_CADRE: "离休人员", PersonCategory.FLEXIBLE: "灵活就业人员",
               PersonCategory.RESIDENT: "城乡居民", PersonCategory.STUDENT: "学生", PersonCategory.NEWBORN: "新生儿"}
ENROLMENT_ZH = {EnrolmentStatus.ACTIVE: "参保缴费", EnrolmentStatus.SUSPENDED: "暂停缴费",
                EnrolmentStatus.TERMINATED: "终止参保"}
TYPE_STATUS_ZH = {"active": "正常缴费", "arrears": "欠费", "stopped": "停止缴费"}
UNIT_COUNT_ZH = {"count_total": "参保总人数", "count_active": "在职人数", "count_retired": "退休人数",
                 "count_veteran_retired": "离休人数", "count_disabled_soldiers": "六级及以上伤残军人人数",
                 "count_level2_care": "享受二级保健对象人数", "count_model_workers": "享受省级及以上劳模待遇人数"}
VOUCHER_NOTES = (
    "本凭证是根据国家有关规定制发，是参保的权益记录以及申请办理基本医疗保险关系转移接续的重要凭证，请妥善保存。",
    "跨统筹地区流动就业人员，有接收单位的，将此凭证交由单位按照规定办理参保手续。",
    "其他跨统筹地区流动就业人员，应携带此凭证及有效证件在 3 个月内到指定办理机构办理相关登记手续。",
    "本凭证如不慎遗失，请与出具此凭证的医疗保障经办机构联系，申请补办。",
)
PROOF_NOTES = ("以上信息均截止到打印日期为止。", "缴费及医保待遇详细信息请登录医保政务服务网上大厅查询。")
VERIFY_NOTE = "本证明附有防伪校验码及二维码：扫描二维码或在网上服务大厅输入校验码，可核验本证明的真伪与状态。"


@dataclass(frozen=True)
class Block:
    heading: str
    rows: tuple[tuple[str, str], ...]


def _ym(value: str | None) -> str:
    """``2024-03`` → ``2024年3月`` (as every page writes a month); blank stays blank."""
    if not value:
        return ""
    year, month = value.split("-")[:2]
    return f"{year}年{int(month)}月"


def _date_zh(value) -> str:
    return chinese_date(value)  # as every page writes a date (2026年12月6日)


def _agency_block(agency: dict[str, str], heading: str) -> Block:
    return Block(heading, (("机构名称", agency.get("name", "")), ("地址", agency.get("address", "")),
                           ("行政区划代码", agency.get("division_code", "")), ("邮政编码", agency.get("postcode", "")),
                           ("联系人", agency.get("contact", "")), ("联系电话", agency.get("phone", ""))))


def _person_block(person: dict[str, Any]) -> Block:
    hukou = HUKOU_ZH.get(HukouType(person["hukou_type"])) if person.get("hukou_type") else ""
    return Block("基本信息", (("姓名", person["name"]), ("身份证件号码", person["id_number"]),
                             ("户籍所在地", person.get("hukou_place", "")), ("户籍类型", hukou or "")))


def _voucher_blocks(facts: dict[str, Any]) -> list[Block]:
    insured = Block("参保信息", (
        ("基本医疗保险类型", INSURANCE_ZH[InsuranceType(facts["insurance_type"])]),
        ("转出地", facts["transfer_out_area"]),
        ("参保时间", f"起：{_ym(facts['period_from']) or '—'}　止：{_ym(facts['period_to']) or '—'}"),
        ("其中累计实际缴费月数", f"{facts['months_paid']} 月"),
        ("个人账户余额", f"（大写）{facts['balance_words']}　（小写）￥{facts['balance']}"),
    ))
    return [_person_block(facts["person"]), insured, _agency_block(facts["agency"], "转出地医疗保险经办机构信息")]


def _proof_blocks(facts: dict[str, Any]) -> list[Block]:
    person = facts["person"]
    identity = _person_block(person)
    identity = Block(identity.heading, (*identity.rows, ("人员类别", CATEGORY_ZH[PersonCategory(person["category"])]),
                                        ("医保号", person["insured_no"])))
    rows = []
    for e in facts["enrolments"]:
        period = f"{_ym(e['from'])}起" + (f"至{_ym(e['to'])}" if e["to"] else "至今")
        value = f"{period}，{ENROLMENT_ZH[EnrolmentStatus(e['status'])]}，累计实际缴费 {e['months_paid']} 个月"
        if e["unit_name"]:
            value += f"，参保单位：{e['unit_name']}"
        rows.append((INSURANCE_ZH[InsuranceType(e["insurance_type"])], value))
    insured = Block("参保信息", tuple(rows) or (("参保记录", "无参保记录"),))
    return [identity, insured, _agency_block(facts["agency"], "出具证明的医疗保障经办机构")]


def _unit_blocks(facts: dict[str, Any]) -> list[Block]:
    unit = facts["unit"]
    basic = Block("基本信息", (("单位名称", unit["name"]), ("统一社会信用代码", unit["credit_code"]),
                              ("单位编号", unit["code"]), ("通讯地址", unit.get("address", ""))))
    counts = Block("参保信息", tuple((UNIT_COUNT_ZH[k], str(facts["counts"].get(k, 0))) for k in UNIT_COUNT_ZH))
    rows = [("首次参保登记时间", facts["first_registration"] or "")]
    for t in facts["types"]:
        period = f"{_ym(t['from'])}至{_ym(t['to'])}"
        rows.append((INSURANCE_ZH[InsuranceType(t["insurance_type"])],
                     f"缴费起止时间：{period}；缴费状态：{TYPE_STATUS_ZH.get(t['status'], '')}"))
    if facts.get("arrears_months"):
        rows.append(("欠费情况", f"{facts['arrears_months']} 个月，合计￥{facts['arrears_amount']}"))
    return [basic, counts, Block("参保险种", tuple(rows)), _agency_block(facts["agency"], "出具证明的医疗保障经办机构")]


def _notes(certificate: Certificate) -> tuple[str, ...]:
    """The notes printed on the document: the catalog's for the item, else the seed's defaults."""
    from ..applications.operations import catalog_item
    from ..core.errors import NotFound

    try:
        item = catalog_item(certificate.application)
    except NotFound:
        item = None
    for form in (item.forms if item else ()):
        if form.kind.value == "certificate" and form.notes:
            text = form.notes[0].zh
            parts = [p.strip() for p in _split_numbered(text) if p.strip()]
            if parts:
                return tuple(parts)
    return VOUCHER_NOTES if certificate.kind_enum is CertificateKind.PERSON_VOUCHER else PROOF_NOTES


def _split_numbered(text: str) -> list[str]:
    """``注意事项：1．… 2．…`` → the numbered sentences without their numbers."""
    import re

    body = re.sub(r"^[^：:]*[：:]", "", text, count=1)
    return re.split(r"\s*\d+\s*[．.、]\s*", body)


@lru_cache(maxsize=4096)
def verification_qr(url: str) -> list[list[bool]]:
    """The QR matrix of a certificate's verification address, computed once per process: choosing the best
    mask pattern costs ~6 ms and the address of a certificate never changes. Read-only for callers."""
    return qr_matrix(url)


def verify_url(code: str) -> str:
    """The public verification address the QR holds: ``/v/<code>`` (the code only; no personal data)."""
    if "certificates.verify" in current_app.view_functions:
        return url_for("certificates.verify", code=codes.grouped(code), _external=True)
    return current_app.config["PORTAL_BASE_URL"] + "/v/" + codes.grouped(code)


def certificate_context(certificate: Certificate, *, verify_url_value: str | None = None) -> dict[str, Any]:
    facts, kind = certificate.facts, certificate.kind_enum
    blocks = {CertificateKind.PERSON_VOUCHER: _voucher_blocks, CertificateKind.PERSON_PROOF: _proof_blocks,
              CertificateKind.UNIT_PROOF: _unit_blocks}[kind](facts)
    # a row the records leave blank (an agency without 地址 or 联系人 on file) is left out, not printed empty
    blocks = [Block(b.heading, tuple(row for row in b.rows if (row[1] or "").strip())) for b in blocks]
    url = verify_url_value or verify_url(certificate.code)
    matrix = verification_qr(url)
    title = TITLES_ZH[kind]
    return {
        "title": title,
        "number_label": "凭证号" if kind is CertificateKind.PERSON_VOUCHER else "证明编号",
        "number": certificate.number,
        "date_label": "生成日期",
        "date": _date_zh(certificate.issued_at),
        "blocks": blocks,
        "notes_heading": "注意事项" if kind is CertificateKind.PERSON_VOUCHER else "备注说明",
        "notes": _notes(certificate),
        "verify_note": VERIFY_NOTE,
        "code_label": "校验码",
        "code": codes.grouped(certificate.code),
        "verify_url": url,
        "qr_matrix": matrix,
        "qr_svg": svg_from_matrix(matrix, label=_("QR code to verify this certificate")),
        "issuer": facts["agency"]["name"],
        "document_title": f"{title} {certificate.number}",
        "certificate": certificate,
    }


# --- HTML -------------------------------------------------------------------------------------------------


def render_certificate_html(certificate: Certificate) -> str:
    context = certificate_context(certificate)
    return render_template("certificates/document.html", **context,
                           pdf_url=url_for("certificates.pdf", certificate_id=certificate.id),
                           back_url=url_for("certificates.mine"))


# --- PDF --------------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 48.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 84.0
LABEL_WIDTH = 132.0


class _Writer:
    def __init__(self, canvas: Canvas, ctx: dict[str, Any]):
        self.c, self.ctx, self.y = canvas, ctx, PAGE_HEIGHT - MARGIN

    def text(self, x: float, y: float, value: str, size: float, grey: float = 0.0, align: str = "left") -> None:
        draw_text(self.c, x, y, value, size, grey, align)

    def new_page_if(self, height: float) -> None:
        if self.y - height < MARGIN + 30:
            self.c.showPage()
            self.y = PAGE_HEIGHT - MARGIN
            self.text(MARGIN, self.y - 9, f"{self.ctx['title']}  {self.ctx['number']}", 9, 0.4)
            self.y -= 24

    def header(self) -> None:
        ctx, top = self.ctx, self.y
        draw_corner_qr(self.c, ctx["qr_matrix"], page_width=PAGE_WIDTH, top=top, margin=MARGIN, size=QR_SIZE)
        self.text(PAGE_WIDTH - MARGIN - QR_SIZE / 2, top - QR_SIZE - 10, f"{ctx['code_label']} {ctx['code']}", 7.5,
                  0.2, "center")
        size = 20.0
        room = WIDTH - 2 * (QR_SIZE + 8)
        size = min(size, size * room / max(text_width(ctx["title"], size), 1))
        self.text(PAGE_WIDTH / 2, top - 30, ctx["title"], size, 0.0, "center")
        self.text(MARGIN, top - 64, f"{ctx['number_label']}：{ctx['number']}", 10.5)
        self.text(MARGIN, top - 82, f"{ctx['date_label']}：{ctx['date']}", 10.5)
        self.y = top - QR_SIZE - 24

    def block(self, block: Block) -> None:
        self.new_page_if(40)
        c = self.c
        c.setFillGray(0.92)
        c.rect(MARGIN, self.y - 20, WIDTH, 20, stroke=0, fill=1)
        self.text(PAGE_WIDTH / 2, self.y - 14.5, block.heading, 11, 0.0, "center")
        self.y -= 20
        for label, value in block.rows:
            lines = wrap(value or "", 10.5, WIDTH - LABEL_WIDTH - 14) or [""]
            height = max(len(lines) * 15 + 8, 23)
            self.new_page_if(height)
            c.setStrokeGray(0.6)
            c.setLineWidth(0.6)
            c.rect(MARGIN, self.y - height, WIDTH, height, stroke=1, fill=0)
            c.line(MARGIN + LABEL_WIDTH, self.y - height, MARGIN + LABEL_WIDTH, self.y)
            for i, line in enumerate(wrap(label, 9.5, LABEL_WIDTH - 10)[:2]):
                self.text(MARGIN + 6, self.y - 15 - i * 12, line, 9.5, 0.25)
            for i, line in enumerate(lines):
                self.text(MARGIN + LABEL_WIDTH + 7, self.y - 15.5 - i * 15, line, 10.5)
            self.y -= height
        self.y -= 12

    def notes(self) -> None:
        ctx = self.ctx
        self.new_page_if(30)
        self.text(MARGIN, self.y - 11, f"{ctx['notes_heading']}：", 10.5)
        self.y -= 18
        for i, note in enumerate(ctx["notes"], 1):
            lines = wrap(f"{i}．{note}", 9.5, WIDTH - 8)
            self.new_page_if(len(lines) * 13.5)
            for line in lines:
                self.text(MARGIN + 4, self.y - 9.5, line, 9.5)
                self.y -= 13.5
        self.y -= 8
        for line in wrap(ctx["verify_note"], 8.5, WIDTH):
            self.new_page_if(12)
            self.text(MARGIN, self.y - 8.5, line, 8.5, 0.35)
            self.y -= 12
        for line in wrap(ctx["verify_url"], 8, WIDTH):
            self.text(MARGIN, self.y - 8, line, 8, 0.35)
            self.y -= 11

    def footer(self) -> None:
        self.c.setStrokeGray(0.75)
        self.c.line(MARGIN, MARGIN + 12, PAGE_WIDTH - MARGIN, MARGIN + 12)
        self.text(PAGE_WIDTH - MARGIN, MARGIN, f"{self.ctx['issuer']}（电子签章）", 8.5, 0.35, "right")


def unsigned_pdf(context: dict[str, Any]) -> bytes:
    """The certificate drawn on A4, the CJK font embedded (subset), the QR code as vectors."""
    pdf_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0, initialFontName=FONT_NAME, initialFontSize=10,
                    lang="zh-Hans")
    canvas.setTitle(context["document_title"])
    canvas.setAuthor(context["issuer"])
    canvas.setSubject(context["title"])
    writer = _Writer(canvas, context)
    writer.header()
    for block in context["blocks"]:
        writer.block(block)
    writer.notes()
    writer.footer()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_certificate_pdf(certificate: Certificate, *, verify_url_value: str | None = None) -> bytes:
    """The certificate as an A4 PDF signed (PAdES) with the agency's key."""
    context = certificate_context(certificate, verify_url_value=verify_url_value)
    return signing.sign_pdf(unsigned_pdf(context), current_app.config["PORTAL_SIGNING"],
                            reason=context["title"], location=context["issuer"])
