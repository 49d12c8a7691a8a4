"""好差评 on a phone: a citizen files an item that completes on submission, rates it 不满意; the section chief logs
in with password + TOTP and works the rectification (核实 → 整改 → 回访); the citizen then sees the follow-up.

Everything goes through the real pages of the server that ``portal up`` started. Selectors, not wording, find
the controls (the Chinese wording of these pages arrives with the catalog merge); the data typed in is checked
where it comes back.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from portal.accounts.demo import DEMO_STAFF_PASSWORD
from portal.insurance.demo import DEMO_CITIZENS
from tests.browser.conftest import fresh_totp
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.steps import no_horizontal_scrolling as _no_horizontal_scrolling

pytestmark = pytest.mark.browser

RETIREE = next(c for c in DEMO_CITIZENS if c.key == "retiree")
VOUCHER_ITEM = "G002036003001_01"  # 职工开具参保凭证: a self-service 即办件, completed on submission
COMPLAINT = "窗口说要带户口本，网上却没写，白跑一趟"
FINDING = "属实：办事指南未列户口本，已核对"
REMEDY = "已更新办事指南材料清单并对窗口人员提醒"
FOLLOW_UP = "已电话回访申请人，说明整改情况，申请人表示认可"


def _fill_required(page, form) -> None:
    """Answer what the form requires: sample text and dates, the first option of a required choice, and each
    required material brought on paper (the others do not apply)."""
    for box in form.locator("input[required]:not([type=radio]):not([type=checkbox]):not([readonly]), "
                            "textarea[required]").all():
        if not box.input_value():
            box.fill("2026-11-01" if box.get_attribute("type") == "date" else "测试")
    names = page.eval_on_selector_all("main input[type=radio]", "inputs => [...new Set(inputs.map(i => i.name))]")
    for name in names:
        radios = form.locator(f"input[type=radio][name='{name}']")
        if form.locator(f"input[type=radio][name='{name}']:checked").count():
            continue
        values = [r.get_attribute("value") for r in radios.all()]
        choice = ("not_applicable" if "not_applicable" in values else "at_window") if name.startswith("m_") \
            else values[0]
        form.locator(f"input[type=radio][name='{name}'][value='{choice}']").check()


def _file_completed_case(page) -> tuple[str, str]:
    """File the voucher item through its pages; it completes on submission. Returns the case path and number."""
    page.goto(f"/apply/{VOUCHER_ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{VOUCHER_ITEM}'] button[type=submit]").click()
    form = page.locator(f"main form[action='{urlsplit(page.url).path}']")
    _fill_required(page, form)
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        form.locator("button[name=action][value=submit]").click()
    assert page.locator("main .case-status .state-completed").count() == 1, page.locator("main").inner_text()
    return urlsplit(page.url).path, page.locator("main .case-number").first.inner_text().strip()


def test_citizen_rates_a_case_dissatisfied_the_chief_rectifies_and_the_citizen_sees_the_follow_up(browser,
                                                                                                  live_server):
    citizen_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      base_url=live_server, locale="zh-CN")
    chief_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                    base_url=live_server, locale="zh-CN")
    try:
        citizen = citizen_ctx.new_page()
        citizen.set_default_timeout(15000)
        _log_in_citizen(citizen, RETIREE)
        case_path, number = _file_completed_case(citizen)

        # the completed case invites a rating; the citizen rates it 不满意 with what went wrong
        rating = citizen.locator("main section#rating")
        with citizen.expect_navigation():
            rating.locator("a[href$='/rating']").click()
        assert citizen.locator("main input[type=radio][name=level]").count() == 5
        citizen.locator("#level-dissatisfied").check()
        with citizen.expect_navigation():
            citizen.locator("main form.rating-form button[type=submit]").click()
        assert citizen.locator("main .field-error").count() == 1  # a bad rating must say what went wrong
        citizen.locator("#level-dissatisfied").check()
        citizen.fill("#comment", COMPLAINT)
        citizen.locator("main details summary").click()
        citizen.select_option("#stage_acceptance", "very_dissatisfied")
        with citizen.expect_navigation():
            citizen.locator("main form.rating-form button[type=submit]").click()
        assert urlsplit(citizen.url).path == case_path
        assert citizen.locator("main section#rating .rect-state").count() == 1  # a rectification is open
        assert COMPLAINT in citizen.locator("main section#rating").inner_text()
        _no_horizontal_scrolling(citizen)

        # the section chief logs in (password + TOTP) and works the rectification
        chief = chief_ctx.new_page()
        chief.set_default_timeout(15000)
        chief.goto("/login/staff")
        chief.fill("#username", "kezhang")
        chief.fill("#password", DEMO_STAFF_PASSWORD)
        chief.fill("#totp", fresh_totp("kezhang"))
        with chief.expect_navigation():
            chief.locator("main form[action='/login/staff'] button[type=submit]").click()
        assert urlsplit(chief.url).path == "/staff/queues/intake"  # staff land on the workbench
        with chief.expect_navigation():
            chief.locator("header nav.staff-menu a", has_text="整改").click()
        chief.goto("/staff/rectifications?state=open")
        with chief.expect_navigation():
            chief.locator("main ul.rectifications a", has_text=number).click()
        assert COMPLAINT in chief.locator("main .rating-comment").inner_text()
        assert RETIREE.name not in chief.locator("main").inner_text()  # the rater's name is masked

        steps = [("#substantiated-yes", FINDING), (None, REMEDY), ("#response-satisfied", FOLLOW_UP)]
        for radio, note in steps:
            if radio:
                chief.locator(radio).check()
            chief.fill("#note", note)
            with chief.expect_navigation():
                chief.locator("main form.rect-form button[type=submit]").click()
            assert chief.locator(".flash-success").count() == 1, chief.locator("main").inner_text()
        timeline = chief.locator("main .case-timeline").inner_text()
        assert FINDING in timeline and REMEDY in timeline and FOLLOW_UP in timeline
        assert chief.locator("main form.rect-form").count() == 0  # closed: nothing left to do
        _no_horizontal_scrolling(chief)

        # the citizen sees the outcome on the case, and a message about it in the inbox
        citizen.goto(case_path)
        outcome = citizen.locator("main section#rating .rectification-outcome").inner_text()
        assert FINDING in outcome and REMEDY in outcome and FOLLOW_UP in outcome
        assert citizen.locator("header .nav-inbox .badge").count() == 1
        citizen.goto("/inbox")
        assert FOLLOW_UP in citizen.locator("main ul.inbox").inner_text()
        _no_horizontal_scrolling(citizen)
    finally:
        citizen_ctx.close()
        chief_ctx.close()
