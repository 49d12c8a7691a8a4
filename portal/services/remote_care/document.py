"""The printable 异地就医登记备案表 (PDF), laid out as the seeds' form (岳阳 样表15, 商洛 表12): 备案编号, the
person, 险种, 人员类别 and 登记类别 as ticked boxes, addresses and phones, 转往 province / city / county, the
validity, how it was filed with the commitment's hash, and the 温馨提示. ID numbers and phones are masked (S12).
"""

from __future__ import annotations

import io
from typing import Any

from flask import current_app
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ...catalog.schema import Item
from ...core import clock
from ...core.masking import mask_id_number, mask_name, mask_phone
from ...documents.pdf import FONT_NAME, pdf_font, wrap
from ...insurance.filings import FilingTerm, RemoteCareFiling
from ...insurance.models import InsuranceType
from . import divisions
from .policy import BY_KEY, CATEGORIES

# 温馨提示 of the seeds' filing forms (001 样表15, 004 表12), word for word: they state national rules.
NATIONAL_TIPS = (
    "跨省异地就医执行就医地目录、参保地起付线、封顶线及支付比例。因各地目录差异，直接结算与回参保地报销可能存在待遇差，属于正常现象。",
    "办理备案时直接备案到就医地市或省份。参保人员根据病情、居住地、交通等情况，自主选择就医地开通的跨省定点医疗机构住院就医。",
    "到北京、天津、上海、重庆、海南、西藏和新疆生产建设兵团就医，备案到就医省份即可。",
    "未按规定办理登记备案手续，或在就医地非跨省定点医疗机构发生的医疗费用，按参保地现有规定办理。",
)
REGION_TIP_RULES = ("claim_deadline", "filing_valid_until_year_end", "emergency_filing_within_working_days")


def tips(item: Item | None) -> list[str]:
    """The region's 温馨提示: the national four, then what the item's own rules add (claim deadline, referral
    validity, emergency window, trauma settlement), as published."""
    out = list(NATIONAL_TIPS)
    for rule in (item.rules if item else ()):
        text = rule.text.zh
        if (rule.key in REGION_TIP_RULES or "trauma_in_province_form" in rule.params) and text not in out:
            out.append(text)
    return out


def form_title(region: Any) -> str:
    return f"{region.name.zh}异地就医登记备案表"


def _box(checked: bool) -> str:
    return "■" if checked else "□"


def _insurance(filing: RemoteCareFiling) -> str:
    types = {e.insurance_type for e in filing.person.enrolments if e.status.value != "terminated"}
    employee = InsuranceType.EMPLOYEE_MEDICAL in types
    resident = InsuranceType.RESIDENT_MEDICAL in types
    return f"{_box(employee)}职工医保  {_box(resident)}城乡居民医保"


def rows(filing: RemoteCareFiling) -> list[tuple[str, str]]:
    """The form's rows (label, value), personal numbers masked."""
    person = filing.person
    division = divisions.get(filing.destination_code)
    province = divisions.get(division.province_code).name if division else ""
    city = divisions.get(division.city_code).name if division and division.city_code else ""
    county = division.name if division and division.level == "county" and division.code != division.city_code else ""
    categories = "  ".join(f"{_box(c.key == filing.category)}{c.zh}" for c in CATEGORIES)
    changed = any(h.get("what") == "changed" for h in filing.history)
    category = BY_KEY.get(filing.category)
    until = filing.end_date.isoformat() if filing.end_date else "长期有效（变更或取消前）"
    how = "自助备案（个人承诺书代替证明材料）" if filing.self_service else "提供证明材料"
    return [
        ("姓名", mask_name(person.name)), ("性别", {"M": "男", "F": "女"}.get(person.gender, "")),
        ("险种", _insurance(filing)), ("人员类别", categories),
        ("登记类别", f"{_box(not changed)}新增  {_box(changed)}变更"),
        ("身份证件号码", mask_id_number(person.id_number)),
        ("参保地联系地址", (filing.application.form_data.get("insured_address", "") if filing.application else "")),
        ("就医地联系地址", filing.care_address or ""), ("联系电话", mask_phone(filing.care_phone or "")),
        ("转往省（市、区）", province), ("地区（市、州）", city), ("县（区）", county),
        ("备案类型", "长期" if category and category.term is FilingTerm.LONG_TERM else "临时"),
        ("有效期", f"{filing.start_date.isoformat()} 至 {until}"),
        ("备案方式", how),
        ("承诺书哈希（SHA-256）", filing.commitment_hash or "—"),
    ]


MARGIN, WIDTH, HEIGHT = 48.0, A4[0], A4[1]
LABEL_W = 120.0


def render_filing_pdf(filing: RemoteCareFiling, item: Item | None) -> bytes:
    """The 异地就医登记备案表 of ``filing`` on A4, the CJK font embedded."""
    pdf_font()
    region = current_app.extensions["portal_catalog"].region
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName=FONT_NAME, initialFontSize=10, lang="zh-CN")
    title = form_title(region)
    canvas.setTitle(f"{title} {filing.number}")
    canvas.setAuthor(region.agency.name.zh)
    y = HEIGHT - MARGIN
    canvas.setFont(FONT_NAME, 17)
    canvas.drawCentredString(WIDTH / 2, y - 18, title)
    canvas.setFont(FONT_NAME, 10.5)
    canvas.drawString(MARGIN, y - 44, f"备案编号：{filing.number}")
    canvas.drawRightString(WIDTH - MARGIN, y - 44, f"状态：{filing.status_enum.label}")
    y -= 56
    content = WIDTH - 2 * MARGIN
    for label, value in rows(filing):
        lines = wrap(value or " ", 10, content - LABEL_W - 12)
        height = max(len(lines) * 14 + 8, 22)
        canvas.setLineWidth(0.6)
        canvas.rect(MARGIN, y - height, content, height, stroke=1, fill=0)
        canvas.line(MARGIN + LABEL_W, y, MARGIN + LABEL_W, y - height)
        canvas.setFont(FONT_NAME, 9.5)
        for i, line in enumerate(wrap(label, 9.5, LABEL_W - 10)):
            canvas.drawString(MARGIN + 5, y - 14 - i * 12, line)
        canvas.setFont(FONT_NAME, 10)
        for i, line in enumerate(lines):
            canvas.drawString(MARGIN + LABEL_W + 6, y - 14 - i * 14, line)
        y -= height
    y -= 18
    canvas.setFont(FONT_NAME, 11)
    canvas.drawString(MARGIN, y, "温馨提示")
    y -= 6
    for number, tip in enumerate(tips(item), 1):
        for i, line in enumerate(wrap(f"{number}．{tip}", 9, content)):
            y -= 13
            if y < MARGIN + 40:
                canvas.showPage()
                y = HEIGHT - MARGIN
            canvas.setFont(FONT_NAME, 9)
            canvas.drawString(MARGIN + (0 if i == 0 else 14), y, line)
    y -= 26
    canvas.setFont(FONT_NAME, 9.5)
    agency = region.agency
    canvas.drawString(MARGIN, max(y, MARGIN + 14), f"经办机构：{agency.name.zh}    联系电话：{agency.phone or ''}    "
                                                   f"经办日期：{filing.created_at.date().isoformat()}")
    canvas.setFont(FONT_NAME, 8)
    canvas.drawString(MARGIN, MARGIN, f"打印日期：{clock.today().isoformat()}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
