"""The printable 《基本医疗保险关系转移接续联系函》 (PDF), as 吉林's 附件1 and 岳阳's 参考样表13 lay it out: the number
(省份)(统筹区)(年份)(第XXXXXXX号), the sending agency, the standard text word for word, the person (ID number masked:
S12), whether the account moves, the insurance type ticked, the receiving agency, and the date; then, under this
service's own heading, the 参保凭证 attached by reference and the reply-by date."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ...core.masking import mask_id_number
from ...documents.pdf import chinese_date, draw_text, pdf_font, wrap
from .models import TransferCase

TITLE = "基本医疗保险关系转移接续联系函"
SUBTITLE = "(此表由转入地医疗保障经办机构填写并提供给转出地医疗保障经办机构)"
# 吉林 附件1, word for word
STANDARD_TEXT = ("原在你处的参保人员，因流动就业等原因，现申请将其基本医疗保险关系转移至我处。"
                 "若无不妥，请按相关规定办理转移手续。")
INSURANCE = {"employee_medical": "■职工医保  □城乡居民医保  □其他",
             "resident_medical": "□职工医保  ■城乡居民医保  □其他"}


def letter_pdf(case: TransferCase, *, receiving_agency: str, sending_agency: str, reply_by: str = "") -> bytes:
    """The letter as the receiving area issued it (the same on both sides: the sending side prints what it got)."""
    pdf_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    margin, y = 56.0, height - 64
    canvas.setTitle(f"{TITLE} {case.letter_number}")
    draw_text(canvas, width / 2, y, TITLE, 16, align="center")
    y -= 20
    draw_text(canvas, width / 2, y, SUBTITLE, 9, grey=0.3, align="center")
    y -= 28

    def line(text: str, size: float = 11, gap: float = 18) -> None:
        nonlocal y
        for part in wrap(text, size, width - 2 * margin):
            draw_text(canvas, margin, y, part, size)
            y -= gap

    line(f"编号：{case.letter_number}")
    line(f"转出地医疗保障经办机构名称：{sending_agency}")
    y -= 6
    line(STANDARD_TEXT)
    y -= 6
    line("参保人员信息", 12)
    line(f"姓名：{case.person_name}        身份证件号码：{mask_id_number(case.id_number)}")
    line(f"是否需要转移个人账户：{'■是  □否' if case.transfer_account else '□是  ■否'}")
    line(f"现参加的基本医疗保险类型：{INSURANCE.get(case.insurance_type, '□职工医保  □城乡居民医保  ■其他')}")
    y -= 6
    line("转入地医疗保障经办机构信息", 12)
    line(f"机构名称：{receiving_agency}")
    line(f"日期：{chinese_date(case.letter_on)}")
    y -= 14
    line("以下为本服务增加的内容", 10, 15)
    if case.certificate_code:
        line(f"所附《参保凭证》（引用，无需另附纸质凭证）校验码：{case.certificate_code}", 10, 15)
    if reply_by:
        line(f"请于{chinese_date(reply_by)}前生成、发出《信息表》并划转资金（收到本函后10个工作日内）。", 10, 15)
    line("本函经国家医保服务平台发送；转移编号：" + case.transfer_id, 10, 15)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
