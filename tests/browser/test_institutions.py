"""A designated institution online, end to end (issue 23's acceptance, one test) in real Chromium against
``portal up``.

A clinic registers its first agent on a 360 px phone with the electronic business licence (the local 电子营业执照
service ``portal up`` starts stands in for the licence holder's app), logs in with its credit code, applies for the
定点 agreement (医疗机构申请定点协议管理, G002036009001) with its materials uploaded, and a section chief accepts,
approves it with the agreement's last day and completes it: the clinic is then on the public list of designated
institutions (/guide/institutions). The agent declares last month's settlement (定点机构医保费用月结算,
G002036001001_01) with its table uploaded; 受理 accepts, 审核 reviews the declared figures and approves a smaller
amount with the reason, 财务 starts the payment, makes the batch, downloads its file (the clinic's line: its account
in full, 对公) and imports the bank's return file (written by the local bank, as the bank would). The agent then reads
已支付 with the amount on the phone, and opens the signed settlement statement.

Things are found by form names, ids and values, not sentences (the pages are in Chinese here).
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.core import clock
from portal.core.validators import credit_code_check_char
from tests.browser.steps import (
    DESK,
    decide,
    enter_code,
    no_horizontal_scrolling,
    path,
    staff_login,
    state,
    submit,
)
from tests.browser.units import answer_materials, id_number, phone_number, start_draft
from tests.materials import fixtures as make

pytestmark = pytest.mark.browser

AGREEMENT_ITEM = "G002036009001"  # 吉林 医疗机构申请定点协议管理
SETTLEMENT_ITEM = "G002036001001_01"  # 吉林 定点机构医保费用月结算
NARROW = {"width": 360, "height": 780}
ACCOUNT = "22050161000100098765"  # the clinic's settlement account: a company account, no card check digit


def _credit_code() -> str:
    body = f"52220102MJ{random.randrange(10**6, 10**7)}"
    return body + credit_code_check_char(body)


def _money(text: str) -> Decimal:
    return Decimal(re.search(r"¥([\d,]+\.\d\d)", text).group(1).replace(",", ""))


def _register(page, credit_code: str, name: str, legal_rep: str, agent: str, phone: str) -> None:
    """The institution's first agent, authorised on the local 电子营业执照 service's page."""
    page.goto("/login/agent?org=institution")
    submit(page, "main a[href='/units/register?org=institution']")
    no_horizontal_scrolling(page)
    page.fill("#credit_code", credit_code)
    page.fill("#org_name", name)
    page.check("input[type=radio][name=institution_kind][value=medical]")
    page.fill("#legal_rep_name", legal_rep)
    page.fill("#agent_name", agent)
    page.fill("#agent_id_number", id_number())
    page.fill("#agent_phone", phone)
    page.check("input[type=radio][name=method][value=business_license]")
    submit(page, "main form[action='/units/register'] button[type=submit]")
    submit(page, "#license-go")
    assert page.locator("#credit-code").inner_text() == credit_code
    page.fill("#name", name)
    page.fill("#legal_rep_name", legal_rep)
    submit(page, "button[name=decision][value=authorise]")
    assert path(page) == "/units/register/done", page.locator("main").inner_text()


def _log_in(page, credit_code: str, phone: str) -> None:
    page.goto("/login/agent?org=institution")
    page.fill("#credit_code", credit_code)
    page.fill("#phone", phone)
    submit(page, "main form[action='/login/agent'] button[type=submit]")
    assert path(page) == "/login/code", page.locator("main").inner_text()
    enter_code(page, phone)
    assert path(page) == "/me", page.locator("main").inner_text()


def _upload_every_material(page) -> None:
    """A PDF uploaded to every material that takes one; the others answered as brought to the window."""
    for slot in page.locator("[data-upload-slot]").all():
        form_id = slot.get_attribute("data-form")
        slot.locator(f"input[type=file][id='{form_id}-files']").set_input_files(
            [{"name": "材料.pdf", "mimeType": "application/pdf", "buffer": make.pdf(1)}])
        slot.locator("[data-files] li.file a").first.wait_for()
    answer_materials(page, ("upload", "not_applicable", "at_window"))


def _fill_empty(form, values: dict[str, str]) -> None:
    """The form's fields named in ``values`` (f_<key>), filled where the records did not fill them already; a
    choice is picked, every other required choice takes its first option."""
    for key, value in values.items():
        field = form.locator(f"[name='f_{key}']").first
        if field.count() == 0:
            continue
        kind = field.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
        if kind == "select":
            options = field.evaluate("s => [...s.options].map(o => o.value).filter(Boolean)")
            field.select_option(value if value in options else options[0])
        elif kind == "radio":
            if value:
                form.locator(f"input[type=radio][name='f_{key}'][value='{value}']").check()
        elif kind == "checkbox":
            form.locator(f"input[type=checkbox][name='f_{key}']").first.check()
        elif not field.input_value():
            field.fill(value)
    for name in form.evaluate("f => [...new Set([...f.querySelectorAll('input[type=radio][name^=f_]')]"
                              ".map(i => i.name))]"):
        if not form.locator(f"input[type=radio][name='{name}']:checked").count():
            form.locator(f"input[type=radio][name='{name}']").first.check()


def _submit_draft(page, edit: str) -> str:
    submit(page, f"main form[action='{edit}'] button[name=action][value=submit]")
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    assert re.fullmatch(r"/applications/\d+", path(page)), path(page)
    return path(page)


def _claim_and_decide(staff, case_id: str, steps: list[str], before=None) -> None:
    staff.goto(f"/staff/cases/{case_id}")
    submit(staff, "button[name=claim]")
    if before is not None:
        before(staff)
    for action in steps:
        decide(staff, action)


def test_a_clinic_registers_is_designated_listed_declares_a_settlement_and_is_paid_in_a_batch(browser, live_server):
    credit_code, phone_no = _credit_code(), phone_number()
    clinic = f"演示康宁诊所{random.randrange(100, 999)}"
    phone_context = browser.new_context(viewport=NARROW, is_mobile=True, has_touch=True, base_url=live_server,
                                        locale="zh-CN")
    desk = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN", accept_downloads=True)
    try:
        phone = phone_context.new_page()
        phone.set_default_timeout(30000)
        _register(phone, credit_code, clinic, "周院长", "吴经办", phone_no)
        _log_in(phone, credit_code, phone_no)

        # the agreement, with its materials uploaded
        edit = start_draft(phone, AGREEMENT_ITEM)
        no_horizontal_scrolling(phone)
        form = phone.locator(f"main form[action='{edit}']")
        _fill_empty(form, {
            "applicant_name": clinic, "business_address": "长春市朝阳区康宁路8号", "credit_code": credit_code,
            "established_on": "2019-05-20", "premises_type": "", "services_requested": "", "bank_account": ACCOUNT,
            "public_phone": "0431-88886666", "legal_rep_name": "周院长", "legal_rep_phone": phone_number(),
            "insurance_officer_name": "吴经办", "insurance_officer_phone": phone_no, "institution_level": "一级",
            "institution_area": "朝阳区"})
        _upload_every_material(phone)
        agreement_case = _submit_draft(phone, edit).rsplit("/", 1)[1]

        staff = desk.new_page()
        staff.set_default_timeout(30000)
        staff_login(staff, "kezhang")
        last_day = (clock.today() + timedelta(days=3 * 365)).isoformat()  # the live server's date (China's)
        _claim_and_decide(staff, agreement_case, ["accept", "start_review"])
        staff.locator("form.decision[data-action='approve'] input[name=valid_until]").fill(last_day)
        decide(staff, "approve")
        decide(staff, "complete")
        assert state(staff) == "completed"
        staff.context.clear_cookies()

        # on the public list of designated institutions
        phone.goto("/guide/institutions?q=" + clinic)
        no_horizontal_scrolling(phone)
        listed = phone.locator("main").inner_text()
        assert clinic in listed and "朝阳区" in listed, listed

        # last month's settlement, declared on the phone
        today = clock.today()  # the live server runs on the real clock, in China's date
        month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        edit = start_draft(phone, SETTLEMENT_ITEM)
        form = phone.locator(f"main form[action='{edit}']")
        assert form.locator("[name=f_payee_name]").input_value() == clinic  # from the institution register
        _fill_empty(form, {"period": month, "category": "职工基本医疗保险", "total_cost": "125000.00",
                           "fund_paid": "80000.00", "account_paid": "20000.00", "self_paid": "25000.00",
                           "visits": "812", "deducted": "1500.00", "payee_bank": "中国建设银行长春朝阳支行",
                           "payee_account": ACCOUNT, "agent_name": "吴经办"})
        # a total that does not add up is refused at its field, nothing submitted
        form.locator("[name=f_total_cost]").fill("125000.50")
        form.locator("[name=f_payee_account]").fill(ACCOUNT)
        _upload_every_material(phone)
        with phone.expect_navigation():
            form.locator("button[name=action][value=submit]").click()
        assert "医疗总费用" in phone.locator(".error-summary").inner_text()
        form = phone.locator(f"main form[action='{edit}']")
        form.locator("[name=f_total_cost]").fill("125000.00")
        form.locator("[name=f_payee_account]").fill(ACCOUNT)  # sealed fields are not echoed back: typed again
        case_path = _submit_draft(phone, edit)
        case_id = case_path.rsplit("/", 1)[1]
        no_horizontal_scrolling(phone)
        assert _money(phone.locator("#settlement-payable").inner_text()) == Decimal("98500.00")

        # 受理 accepts; 审核 reads the figures and approves less, saying why; 财务 pays
        staff_login(staff, "shouli")
        _claim_and_decide(staff, case_id, ["accept"])
        staff.context.clear_cookies()
        staff_login(staff, "shenhe")

        def review(page):
            decide(page, "start_review")
            assert _money(page.locator("#settlement-payable").inner_text()) == Decimal("98500.00")
            assert page.locator("#payee-account").inner_text().endswith("8765") and ACCOUNT not in page.content()
            page.locator("form.decision[data-action='approve'] input[name=amount]").fill("97000.00")
            page.locator("form.decision[data-action='approve'] textarea[name=amount_reason]").fill(
                "核减超限价药品费用 1500 元")

        _claim_and_decide(staff, case_id, ["approve"], before=review)
        assert "核减超限价药品费用" in staff.locator("#decided-amount").inner_text()
        staff.context.clear_cookies()
        staff_login(staff, "caiwu")
        _claim_and_decide(staff, case_id, ["start_payment"])
        assert state(staff) == "paying"
        staff.goto("/staff/payments")
        submit(staff, "button[name=make_batch]")
        batch = staff.locator("#batches tbody tr").first
        with staff.expect_download() as download_info:
            batch.locator("button[name=download]").click()
        sent = download_info.value.path().read_bytes()
        from portal.integrations.bank import local_bank
        from portal.integrations.bank.csv_layout import CsvLayout

        rows = CsvLayout().read_batch(sent)
        line = next(r for r in rows if r[1] == clinic)
        assert (line[2], line[4], line[6]) == (ACCOUNT, "97000.00", "对公")
        answer = local_bank.answer(CsvLayout(), sent)
        batch.locator("input[type=file][name=file]").set_input_files(
            [{"name": "回盘.csv", "mimeType": "text/csv", "buffer": answer}])
        submit(staff, "#batches tbody tr >> nth=0 >> button[name=import]")
        assert staff.locator(".flash-error").count() == 0, staff.locator(".flashes").inner_text()
        staff.goto(f"/staff/cases/{case_id}")
        assert state(staff) == "completed"

        # the agent sees it paid, with the amount, and the signed statement
        phone.goto(case_path)
        paid = phone.locator("#claim-paid").inner_text()
        assert "已支付 ¥97,000.00" in paid, paid
        no_horizontal_scrolling(phone)
        statement = phone.request.get(phone.locator("#settlement-statement").get_attribute("href"))
        assert statement.status == 200 and statement.body().startswith(b"%PDF-")
    finally:
        phone_context.close()
        desk.close()
