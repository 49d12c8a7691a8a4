"""The printable 异地就医登记备案表 (PDF), laid out as the region's own sheet (``sheets``): for 岳阳 (样表15–19) and
商洛 (表12), and the regions that use the same reference form, 备案编号, the person, 险种, 人员类别 and 登记类别 as
ticked boxes, addresses, 联系电话1 and 2, 转往 province / city / county, 本人/被委托人 签名 and 填表日期; for 吉林 the
fields of its 附件1. Rows no sheet has (validity, how it was filed) follow under this service's own heading,
then the 温馨提示. ID numbers and phones are masked (S12).
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
from ...documents.pdf import FONT_NAME, chinese_date, pdf_font, wrap
from ...insurance.filings import FilingTerm, RemoteCareFiling
from ...insurance.models import InsuranceType
from . import divisions, sheets
from .policy import BY_KEY

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
    """The sheet's title as its seed prints it (岳阳市异地就医登记备案表, 异地就医登记备案表); 吉林 prints none."""
    return sheets.sheet_for(region.id).title


def source_line(region_id: str) -> str:
    """Where the sheet's fields come from, printed under the title."""
    sheet = sheets.sheet_for(region_id)
    if sheet is sheets.JILIN:
        return f"（办事指南未附备案表；栏目依据{sheet.ref}；网上备案记录，由本服务生成）"
    if sheet.borrowed:
        return "（办事指南列明“备案表”但未附样表；本服务采用参考样表的栏目）"
    return f"（{sheet.ref}；网上备案记录，由本服务生成）"


def _box(checked: bool) -> str:
    return "■" if checked else "□"


def _insurance(filing: RemoteCareFiling) -> str:
    stated = (filing.application.form_data.get("insurance_type") if filing.application else None) or ""
    if not stated:
        types = {e.insurance_type for e in filing.person.enrolments if e.status.value != "terminated"}
        stated = sheets.INSURANCE_TYPES[0] if InsuranceType.EMPLOYEE_MEDICAL in types else (
            sheets.INSURANCE_TYPES[1] if InsuranceType.RESIDENT_MEDICAL in types else "")
    return "  ".join(f"{_box(t == stated)}{t}" for t in sheets.INSURANCE_TYPES)


def _places(filing: RemoteCareFiling) -> tuple[str, str, str]:
    division = divisions.get(filing.destination_code)
    province = divisions.get(division.province_code).name if division else ""
    city = divisions.get(division.city_code).name if division and division.city_code else ""
    county = division.name if division and division.level == "county" and division.code != division.city_code else ""
    return province, city, county


def rows(filing: RemoteCareFiling) -> list[tuple[str, str]]:
    """The sheet's rows (label, value) as the region's 备案表 has them, personal numbers masked."""
    person = filing.person
    sheet = sheets.sheet_for(filing.region)
    form = filing.application.form_data if filing.application else {}
    category = BY_KEY.get(filing.category)
    ticked = sheets.category_box(sheet, filing.category, filing.term)
    categories = "  ".join(f"{_box(c == ticked)}{c}" for c in sheet.categories)
    changed = any(h.get("what") == "changed" for h in filing.history)
    province, city, county = _places(filing)
    gender = {"M": "男", "F": "女"}.get(person.gender, "")
    values = {
        "name": mask_name(person.name), "gender": gender, "insurance_type": _insurance(filing),
        "person_category": categories,
        "registration_type": f"{_box(not changed)}{sheets.NEW}  {_box(changed)}{sheets.CHANGE}",
        "id_number": mask_id_number(person.id_number), "insured_address": form.get("insured_address", ""),
        "care_address": filing.care_address or "", "care_phone": mask_phone(filing.care_phone or ""),
        "care_phone2": mask_phone(form.get("care_phone2", "")),
        "signer": "  ".join(f"{_box(form.get('signer') == s)}{s}" for s in sheets.SIGNERS),
        "signed_name": mask_name(form.get("signature", "")) if form.get("signature") else "",
        "fill_date": chinese_date(form.get("fill_date") or filing.created_at),
        "insured_place": current_app.extensions["portal_catalog"].region.name.zh,
        "destination_code": filing.destination_name or "",
    }
    out: list[tuple[str, str]] = []
    for field in sheet.fields:
        if field.key == "destination_code" and sheet.asks("care_phone2"):
            out += [("转往省（市、区）", province), ("地区（市、州）", city), ("县（区）", county)]
        else:
            out.append((field.label, values.get(field.key, "")))
    until = chinese_date(filing.end_date) if filing.end_date else "长期有效（变更或取消前）"
    out += [
        ("备案类型（本服务）", "长期" if category and category.term is FilingTerm.LONG_TERM else "临时"),
        ("有效期（本服务）", f"{chinese_date(filing.start_date)} 至 {until}"),
        ("备案方式（本服务）", "自助备案（个人承诺书代替证明材料）" if filing.self_service else "提供证明材料"),
        ("承诺书哈希（SHA-256）", filing.commitment_hash or "—"),
    ]
    return out


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
    canvas.setFont(FONT_NAME, 8.5)
    canvas.drawCentredString(WIDTH / 2, y - 32, source_line(region.id))
    canvas.setFont(FONT_NAME, 10.5)
    canvas.drawString(MARGIN, y - 50, f"备案编号：{filing.number}")
    canvas.drawRightString(WIDTH - MARGIN, y - 50, f"状态：{filing.status_enum.label}")
    y -= 62
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
                                                   f"经办日期：{chinese_date(filing.created_at)}")
    canvas.setFont(FONT_NAME, 8)
    canvas.drawString(MARGIN, MARGIN, f"打印日期：{chinese_date(clock.today())}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
