"""On a phone: a demo person looks up their records and prints a 参保凭证 whose months and balance match the
records; a stranger opens the verification address printed under its QR code and sees it confirmed, masked.

Steps find things by links, form actions and data (numbers, masks), not by translated sentences.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from portal.insurance.demo import DEMO_CITIZENS

from .test_filing import ID_NUMBER_RE, MOBILE_RE, _log_in_citizen, _no_horizontal_scrolling, _path

pytestmark = pytest.mark.browser

FLEXIBLE = next(c for c in DEMO_CITIZENS if c.key == "flexible")  # other browser tests log the employee in


def test_a_flexible_worker_prints_a_voucher_and_a_stranger_verifies_it(phone, browser, live_server):
    _log_in_citizen(phone, FLEXIBLE)
    with phone.expect_navigation():
        phone.locator("a[href='/me/records/contributions']").first.click()
    _no_horizontal_scrolling(phone)
    # 累计实际缴费月数 of the first type listed (the employee scheme of a flexible worker)
    recorded_months = int(re.search(r"\d+", phone.locator("main section.card dd strong").first.inner_text()).group())
    phone.goto("/me/records/account")
    balance = re.search(r"¥([\d,]+\.\d\d)", phone.locator(".big-figure").inner_text()).group(1).replace(",", "")
    for path in ("/me/records", "/me/records/account"):
        phone.goto(path)
        _no_horizontal_scrolling(phone)
        text = phone.locator("main").inner_text()
        assert not ID_NUMBER_RE.search(text) and not MOBILE_RE.search(text)

    phone.goto("/me")
    phone.locator("a[href='/certificates/']").first.click()
    with phone.expect_navigation():
        phone.locator("form[action='/certificates/request/person_voucher'] button[type=submit]").click()
    assert re.fullmatch(r"/certificates/\d+", _path(phone)), phone.url
    sheet = phone.locator("article.sheet").inner_text()
    assert "基本医疗保险参保凭证" in sheet and f"￥{balance}" in sheet
    months = int(re.search(r"其中累计实际缴费月数\s*(\d+) 月", sheet).group(1))
    assert months == recorded_months > 0 and not ID_NUMBER_RE.search(sheet)
    verify_url = re.search(r"http://\S+/v/[A-Z0-9-]{19}", sheet).group()

    stranger = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    try:
        page = stranger.new_page()
        page.goto(live_server + urlsplit(verify_url).path)
        text = page.locator("main").inner_text()
        assert page.locator(".verify-ok").count() == 1
        assert "刘*" in text and FLEXIBLE.name not in text and f"{months} 月" in text
        assert not ID_NUMBER_RE.search(text) and not MOBILE_RE.search(text)
        _no_horizontal_scrolling(page)
    finally:
        stranger.close()
