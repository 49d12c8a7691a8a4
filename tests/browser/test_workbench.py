"""The workbench end to end: a citizen files on the phone, a section chief works the case in the staff area.

The citizen (the demo employee 张伟明) files 职工停保变更 (G002036001005_02_02, jilin; handler
``enrolment.staff_suspend``: its completion suspends the person's enrolment in the records). The chief (demo
``kezhang``) logs in with password and TOTP, finds the case in the 待受理 queue, takes it, and sends a one-time
notice from the checklist; the citizen supplies what it lists; the chief accepts, reviews, approves and
completes; the citizen's case then reads 已办结.

Things are found by form names, ids, data attributes and values, not sentences (the wording is translated).
"""

from __future__ import annotations

import re

import pytest

from portal.applications import numbers
from portal.insurance.demo import DEMO_CITIZENS

# the shared steps under the names the browser tests import them by from here (new code: tests.browser.steps)
from tests.browser.steps import DESK
from tests.browser.steps import decide as _decide
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.steps import path as _path
from tests.browser.steps import staff_login as _staff_login
from tests.browser.steps import state as _state
from tests.browser.steps import submit as _submit

pytestmark = pytest.mark.browser

EMPLOYEE = next(c for c in DEMO_CITIZENS if c.key == "employee")
ITEM = "G002036001005_02_02"  # 职工停保变更: completing it changes the person's enrolment status


def _file_suspension(page) -> tuple[str, str]:
    """File 职工停保变更 for oneself; returns the case page's path and the 受理编号."""
    page.goto(f"/guide/items/{ITEM}")
    page.locator(f"main a.button[href='/apply/{ITEM}']").click()
    page.wait_for_url(f"**/apply/{ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{ITEM}'] button[type=submit]").click()
    form = page.locator(f"main form[action='{_path(page)}']")
    row = "f_staff-0-c_"
    form.locator(f"[name='{row}name']").fill(EMPLOYEE.name)
    form.locator(f"select[name='{row}id_type']").select_option("居民身份证")  # a list from the form spec
    form.locator(f"[name='{row}id_number']").fill(EMPLOYEE.id_number)
    category = form.locator(f"[name='{row}change_category']")
    if category.first.evaluate("e => e.tagName") == "SELECT":
        category.select_option("中断")
    else:
        form.locator(f"input[type=radio][name='{row}change_category'][value='中断']").check()
    materials = page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]")
    for name in materials:
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']",
                                            "inputs => inputs.map(i => i.value)")
        mode = "not_applicable" if "not_applicable" in offered else "at_window"
        page.locator(f"main input[type=radio][name='{name}'][value='{mode}']").check()
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        form.locator("button[name=action][value=submit]").click()
    number = page.locator("main .case-number").first.inner_text().strip()
    assert numbers.is_valid(number), page.locator("main").inner_text()
    return _path(page), number


def test_staff_claims_notifies_and_completes_a_case_the_citizen_filed_and_corrected(phone, browser, live_server):
    _log_in_citizen(phone, EMPLOYEE)
    assert _employee_insurance_status(phone) == "参保缴费"
    case_path, number = _file_suspension(phone)

    context = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN")
    staff = context.new_page()
    staff.set_default_timeout(15000)
    try:
        _staff_login(staff, "kezhang")
        staff.goto("/staff/queues/intake")
        assert staff.locator("nav.queue-tabs [aria-current=page]").get_attribute("data-queue") == "intake"
        _submit(staff, f"main a.case-number:text-is('{number}')")
        assert staff.locator("main .case-number").inner_text().strip() == number
        assert EMPLOYEE.id_number not in staff.content()  # masked on the staff page too

        _submit(staff, "button[name=claim]")
        assert staff.locator("#assignee").inner_text().startswith("科长")
        notice = staff.locator("#checklist")
        material = notice.locator("li[data-material]").first.get_attribute("data-material")
        notice.locator(f"input[type=radio][name='defect_{material}'][value='defective']").check()
        notice.locator(f"input[name='note_{material}']").fill("登记表未签字，请签字后重新提交")
        _submit(staff, "button[name=send_notice]")
        assert _state(staff) == "correction_requested"

        # the citizen reads the notice and supplies what it lists, in the same case
        phone.goto(case_path)
        assert "登记表未签字" in phone.locator("#notice").inner_text()
        _submit(phone, f"main a[href='{case_path}/correct']")
        phone.locator(f"input[type=radio][name='m_{material}'][value='at_window']").check()
        _submit(phone, f"main form[action='{case_path}/correct'] p.actions button[type=submit]")
        assert _path(phone) == case_path and phone.locator(".flash-success").count() == 1

        # the chief still holds the case: accept, review, approve, complete
        staff.reload()
        assert _state(staff) == "resubmitted"
        for action, after in (("accept", "accepted"), ("start_review", "under_review"), ("approve", "approved"),
                              ("complete", "completed")):
            _decide(staff, action)
            assert _state(staff) == after, action
        assert staff.locator("#assignee").inner_text().strip() == "—"  # released once completed
    finally:
        context.close()

    phone.goto(case_path)
    status = phone.locator("main .case-status .tag-state").inner_text().strip()
    assert status == "已办结", status
    # the completion changed the records: the employee's insurance is suspended (停保)
    assert _employee_insurance_status(phone) == "暂停缴费"


def _employee_insurance_status(page) -> str:
    page.goto("/me/records")
    records = page.locator("section[aria-labelledby=history-title] li.record")
    line = records.filter(has=page.locator("strong", has_text="职工基本医疗保险")).first
    return line.locator(".tag").first.inner_text().strip()
