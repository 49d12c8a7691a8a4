"""A claim that pays, end to end, in real Chromium against ``portal up`` (issue 19's acceptance).

The demo employee (张伟明, jilin) files 住院费用报销 (G002036006002) on a 360 px phone: the OFD e-receipt uploaded
to the invoices fills the invoice row (the script puts what the server read into the page's row), the claimant
completes the care and the bank card and submits. 受理 (``shouli``) accepts; 审核 (``shenhe``) sees the computed
amount with its working and approves it; 财务 (``caiwu``) returns the approval to review with a reason, and 审核
finds the case marked 拨付前退回 in the review queue and approves it again; 财务 starts the payment, makes the batch
on /staff/payments, downloads its file, and imports the bank's return file (written here by the local bank, as the
bank would). The claimant then reads 已支付 ¥… on the case, the year's 封顶线 usage up by the amount, and opens the
payment notice.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.core import clock
from portal.insurance.demo import DEMO_CITIZENS
from tests.browser.conftest import PHONE
from tests.browser.steps import DESK
from tests.browser.steps import decide as _decide
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.steps import no_horizontal_scrolling as _no_horizontal_scrolling
from tests.browser.steps import path as _path
from tests.browser.steps import staff_login as _staff_login
from tests.browser.steps import state as _state
from tests.browser.steps import submit as _submit
from tests.materials import ofd_files

pytestmark = pytest.mark.browser

EMPLOYEE = next(c for c in DEMO_CITIZENS if c.key == "employee")
ITEM = "G002036006002"  # 吉林 住院费用报销
CARD = "6222020200112233446"  # passes the Luhn check: the local bank pays it
NARROW = {"width": 360, "height": PHONE["height"]}
RETURN_REASON = "发票金额与费用清单不符，请重新核定"


def _money(text: str) -> Decimal:
    return Decimal(re.search(r"¥([\d,]+\.\d\d)", text).group(1).replace(",", ""))


def _cap_used(page) -> Decimal:
    return _money(page.locator("#claim-cap").inner_text())


def _file_claim(page, number: str, issued: date) -> str:
    page.goto(f"/apply/{ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{ITEM}'] button[type=submit]").click()
    edit = _path(page)
    _no_horizontal_scrolling(page)
    # the e-receipt, uploaded to the invoices: its data fills row 1 of the invoices in the page
    slot = page.locator("[data-upload-slot][data-form='upload-invoices']")
    assert ".ofd" in slot.locator("input[type=file][id='upload-invoices-files']").get_attribute("accept")
    receipt = ofd_files.e_receipt(number=number, issued=issued.isoformat(), issuer="吉林大学第一医院",
                                  total="12680.50", self_pay="1268.05", self_funded="310.00")
    slot.locator("input[type=file][id='upload-invoices-files']").set_input_files(
        [{"name": "住院电子票据.ofd", "mimeType": "application/ofd", "buffer": receipt}])
    slot.locator("[data-files] li.file a").first.wait_for()
    assert "核对" in slot.locator("[data-errors]").inner_text()
    row = page.locator("#f_invoices fieldset.row-card").first
    assert row.locator("[name$='-c_number']").input_value() == number
    assert row.locator("[name$='-c_total']").input_value() == "12680.50"
    assert row.locator("[name$='-c_issued_on']").input_value() == issued.isoformat()
    assert row.locator("[name$='-c_institution']").input_value() == "吉林大学第一医院"
    # the claimant checks the row and completes the form
    form = page.locator(f"main form[action='{edit}']")
    for name, value in (("f_hospital_level", "三级"), ("f_care_area", "参保地（统筹区内）")):
        choice = form.locator(f"[name='{name}']").first
        if choice.evaluate("e => e.tagName") == "SELECT":
            choice.select_option(value)
        else:
            form.locator(f"input[type=radio][name='{name}'][value='{value}']").check()
    form.locator("[name='f_admitted_on']").fill((issued - timedelta(days=6)).isoformat())
    form.locator("[name='f_discharged_on']").fill(issued.isoformat())
    form.locator("[name='f_payee_name']").fill(EMPLOYEE.name)
    form.locator("[name='f_payee_bank']").fill("中国工商银行长春分行")
    form.locator("[name='f_payee_account']").fill(CARD)
    for name in page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]"):
        if name == "m_invoices":
            continue  # uploaded: the script ticked "upload"
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']", "i => i.map(x => x.value)")
        mode = "not_applicable" if "not_applicable" in offered else "at_window"
        page.locator(f"main input[type=radio][name='{name}'][value='{mode}']").check()
    assert page.locator("input[type=radio][name='m_invoices'][value='upload']").is_checked()
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        form.locator("button[name=action][value=submit]").click()
    _no_horizontal_scrolling(page)
    return _path(page)


def test_a_claim_with_an_ofd_e_receipt_is_filed_on_a_phone_reviewed_paid_and_shown_paid(browser, live_server):
    number = f"22{random.randrange(10**8, 10**9)}"
    # the live server runs on the real clock in China's date (clock.today()); the machine's date.today() can be a
    # day behind it for eight hours a day
    issued = clock.today() - timedelta(days=12)
    phone_context = browser.new_context(viewport=NARROW, is_mobile=True, has_touch=True, base_url=live_server,
                                        locale="zh-CN")
    desk = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN", accept_downloads=True)
    try:
        phone = phone_context.new_page()
        phone.set_default_timeout(20000)
        _log_in_citizen(phone, EMPLOYEE)
        case_path = _file_claim(phone, number, issued)
        case_id = case_path.rsplit("/", 1)[1]
        computed = _money(phone.locator("#claim-amount").inner_text())
        cap_before = _cap_used(phone)

        staff = desk.new_page()
        staff.set_default_timeout(20000)
        # 受理 accepts
        _staff_login(staff, "shouli")
        staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        _decide(staff, "accept")
        assert _state(staff) == "accepted"
        staff.context.clear_cookies()
        # 审核 reviews the computed amount and its working, and approves it
        _staff_login(staff, "shenhe")
        staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        _decide(staff, "start_review")
        assert _money(staff.locator("#computed-amount").inner_text()) == computed
        working = staff.locator("#claim-working").inner_text()
        assert "¥12,680.50" in working and "¥1,578.05" in working  # the invoice, less 自付 and 自费
        assert staff.locator("#payee-account").inner_text().endswith("3446") and CARD not in staff.content()
        assert staff.locator("form.decision[data-action='approve'] input[name=amount]").input_value() == str(computed)
        _decide(staff, "approve")
        assert _state(staff) == "approved"
        staff.context.clear_cookies()
        # 财务 finds the amount in doubt before paying: the approval goes back to review, with the reason
        _staff_login(staff, "caiwu")
        staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        staff.fill("form.decision[data-action='return_to_review'] textarea[name=reason]", RETURN_REASON)
        _decide(staff, "return_to_review")
        assert _state(staff) == "under_review"
        staff.context.clear_cookies()
        # 审核 finds the claimant's cases by their ID number: the case is marked as returned; approved again
        _staff_login(staff, "shenhe")
        staff.goto("/staff/queues/review")
        staff.fill("#id_number", EMPLOYEE.id_number)
        _submit(staff, "form.search-form button[type=submit]")
        assert "拨付前退回" in staff.locator(f"tr[data-case='{case_id}']").inner_text()
        staff.locator(f"tr[data-case='{case_id}'] a.case-number").click()
        assert RETURN_REASON in staff.locator("main").inner_text()  # why, on the case's timeline
        _submit(staff, "button[name=claim]")
        _decide(staff, "approve")
        assert _state(staff) == "approved"
        staff.context.clear_cookies()
        # 财务 starts the payment, makes the batch, sends its file and imports the bank's answer
        _staff_login(staff, "caiwu")
        staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        _decide(staff, "start_payment")
        assert _state(staff) == "paying"
        staff.goto("/staff/payments")
        _submit(staff, "button[name=make_batch]")
        batch = staff.locator("#batches tbody tr").first
        with staff.expect_download() as download_info:
            batch.locator("button[name=download]").click()
        sent = download_info.value.path().read_bytes()
        assert CARD.encode() in sent and f"{computed:.2f}".encode() in sent
        from portal.integrations.bank import local_bank
        from portal.integrations.bank.csv_layout import CsvLayout

        answer = local_bank.answer(CsvLayout(), sent)
        batch.locator("input[type=file][name=file]").set_input_files(
            [{"name": "回盘.csv", "mimeType": "text/csv", "buffer": answer}])
        _submit(staff, "#batches tbody tr >> nth=0 >> button[name=import]")
        assert staff.locator(".flash-error").count() == 0, staff.locator(".flashes").inner_text()
        staff.goto(f"/staff/cases/{case_id}")
        assert _state(staff) == "completed"

        # the claimant sees the amount paid, the cap used up by it, and the notice
        phone.goto(case_path)
        paid = phone.locator("#claim-paid").inner_text()
        assert f"已支付 ¥{computed:,.2f}" in paid, paid
        assert _cap_used(phone) == cap_before + computed
        _no_horizontal_scrolling(phone)
        notice = phone.request.get(phone.locator("#payment-notice").get_attribute("href"))
        assert notice.status == 200 and notice.body().startswith(b"%PDF-")
    finally:
        phone_context.close()
        desk.close()
