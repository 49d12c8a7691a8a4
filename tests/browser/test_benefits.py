"""异地门诊慢性病认定 on a phone, decided at the desk: without a long-term 异地就医备案 the filing is refused with the
seed's own sentence and a link to the 备案; the retiree who holds one files it (the disease picked from the list
with its search box), a member of staff approves it with the validity the recognising institution sets, and the
retiree reads the recognition with that validity under 我的 → 待遇认定."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import pytest

from portal.core import clock
from portal.documents.pdf import chinese_date
from portal.insurance.demo import DEMO_CITIZENS
from tests.browser.conftest import LIVE
from tests.browser.steps import DESK
from tests.browser.steps import decide as _decide
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.steps import path as _path
from tests.browser.steps import staff_login as _staff_login
from tests.browser.steps import state as _state
from tests.browser.steps import submit as _submit

pytestmark = pytest.mark.browser

RETIREE = next(c for c in DEMO_CITIZENS if c.key == "retiree")
FLEXIBLE = next(c for c in DEMO_CITIZENS if c.key == "flexible")  # holds no 异地就医备案
ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定
LONG_TERM = "G002036004002"  # the 备案 the rule names (异地长期居住人员备案)
SEED_SENTENCE = ("申请异地门诊慢性病认定的参保人员应办理长期异地就医备案后再进行异地慢性病认定申请，"
                 "申请通过后享受参保地门诊慢性病待遇。")  # 000 D1 7.4


def _fill_out_of_area_recognition(page) -> str:
    """Start the item's draft and fill it as an out-of-area recognition of 糖尿病; returns the draft's path."""
    page.goto(f"/apply/{ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{ITEM}'] button[type=submit]").click()
    edit_path = _path(page)
    form = page.locator(f"main form[action='{edit_path}']")
    form.locator("[name='f_pooling_area']").fill("长春市")
    form.locator("input[type=radio][name='f_insurance_type'][value='职工医保']").check()
    form.locator("input[type=radio][name='f_category'][value='门诊慢病']").check()
    form.locator("input[type=radio][name='f_recognition_place'][value='异地']").check()
    # the disease is a list, not a box: the script adds a search box that narrows it
    page.wait_for_selector("#f_scope-search", state="visible")
    page.fill("#f_scope-search", "糖尿")
    assert page.locator("#f_scope option:not([value=''])").all_inner_texts() == ["糖尿病"]
    assert page.input_value("#f_scope") == "糖尿病"  # the one match is taken
    for name in page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]"):
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']",
                                            "inputs => inputs.map(i => i.value)")
        mode = "not_applicable" if "not_applicable" in offered else "at_window"
        page.locator(f"main input[type=radio][name='{name}'][value='{mode}']").check()
    return edit_path


def _submit_draft(page, edit_path: str) -> None:
    with page.expect_navigation():
        page.locator(f"main form[action='{edit_path}'] button[name=action][value=submit]").click()


def _ensure_long_term_filing(page) -> str | None:
    """The retiree's long-term 备案 (异地安置 to 海口, with a signed commitment), unless she holds one already;
    returns the number of the filing made here (None when she had one)."""
    page.goto("/remote-care/filings")
    if page.locator("a.filing-number").count():
        return None
    page.goto("/remote-care/file/resettled_retiree")
    page.select_option("#province", "460000")
    page.select_option("#city", "460100")
    page.fill("#start_date", clock.today().isoformat())
    page.fill("#care_address", "海南省海口市美兰区海甸岛五西路8号")
    page.fill("#care_phone", "13976543210")
    page.check("#commitment_consent")
    page.fill("#signed_name", RETIREE.name)
    with page.expect_navigation():
        page.locator("#submit-filing").click()
    assert page.locator("#filing-status").inner_text().strip() == "有效", page.locator("main").inner_text()
    return page.locator("#filing-number").inner_text().strip()


def _end_filing(number: str) -> None:
    """End the filing this test made, as a cancellation leaves it (the lock forbids cancelling it on the page), so
    the other tests of the shared server find the retiree as they expect (test_crossregion files her 备案)."""
    with sqlite3.connect(LIVE["instance"] / "portal.db") as db:
        db.execute("UPDATE remote_care_filing SET status = 'cancelled', ended_on = ?, end_reason = ? WHERE number = ?",
                   (clock.today().isoformat(), "测试结束后撤销（本测试所建）", number))


def test_out_of_area_recognition_needs_the_filing_and_shows_with_its_validity(phone, browser, live_server):
    page = phone
    # without the 备案: refused with the seed's sentence, and a link to the 备案 to do first
    _log_in_citizen(page, FLEXIBLE)
    edit_path = _fill_out_of_area_recognition(page)
    _submit_draft(page, edit_path)
    assert _path(page) == edit_path
    assert SEED_SENTENCE in page.locator(".error-summary").inner_text()
    link = page.locator("main li.finding-blocking a.requires-item")
    assert link.get_attribute("href") == f"/guide/items/{LONG_TERM}"
    page.context.clear_cookies()

    # the retiree holds a long-term 备案: the same filing goes through
    _log_in_citizen(page, RETIREE)
    made = _ensure_long_term_filing(page)
    try:
        _recognised_out_of_area(page, browser, live_server)
    finally:
        if made:
            _end_filing(made)


def _recognised_out_of_area(page, browser, live_server) -> None:
    edit_path = _fill_out_of_area_recognition(page)
    _submit_draft(page, edit_path)
    assert re.search(r"/applications/\d+$", page.url), page.locator("main").inner_text()
    number = page.locator("main .case-number").first.inner_text().strip()

    # the desk: accept, review, approve with the validity the recognising institution sets, complete
    until = clock.today() + timedelta(days=365)
    context = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN")
    staff = context.new_page()
    staff.set_default_timeout(15000)
    try:
        _staff_login(staff, "kezhang")
        staff.goto("/staff/queues/intake")
        _submit(staff, f"main a.case-number:text-is('{number}')")
        _submit(staff, "button[name=claim]")
        for action, after in (("accept", "accepted"), ("start_review", "under_review")):
            _decide(staff, action)
            assert _state(staff) == after, action
        staff.locator("form.decision[data-action='approve'] input[name=valid_until]").fill(until.isoformat())
        _decide(staff, "approve")
        assert _state(staff) == "approved"
        _decide(staff, "complete")
        assert _state(staff) == "completed"
    finally:
        context.close()

    # the retiree reads the recognition, with its validity and the case that granted it
    page.goto("/me")
    page.locator("main a[href='/me/records/benefits']").first.click()
    page.wait_for_url("**/me/records/benefits")
    row = page.locator("#recognitions li.record", has_text=number)
    assert "门诊慢特病" in row.inner_text() and "糖尿病" in row.inner_text()
    assert row.locator(".valid-until").inner_text().strip() == chinese_date(until)
    assert row.locator(".valid-from").inner_text().strip() == chinese_date(clock.today())
    assert row.get_attribute("data-standing") == "active"
