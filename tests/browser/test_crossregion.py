"""异地就医备案 on a phone: the demo retiree 李秀兰 files 异地安置 to 海口 (海南, where filing goes to the province)
with a signed commitment instead of proof; the filing is valid at once, shows in my filings with the
commitment's hash, prints as the 异地就医登记备案表 (PDF), and cancelling it inside the lock is refused with the
date the lock lifts. Steps find things by ids and names; checks read data (numbers, hashes, dates)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest

from portal.core import clock
from portal.core.masking import mask_phone
from portal.documents.pdf import chinese_date
from portal.insurance.demo import DEMO_CITIZENS
from portal.services.remote_care.rules import add_months

pytestmark = pytest.mark.browser

RETIREE = next(c for c in DEMO_CITIZENS if c.key == "retiree")
OTP_SEND_INTERVAL_SECONDS = 61
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def _code_from_outbox(page, phone: str) -> str:
    outbox = page.context.new_page()
    try:
        outbox.goto("/dev/outbox")
        row = outbox.locator("tbody tr", has_text=mask_phone(phone)).first
        match = re.search(r"(?<!\d)\d{6}(?!\d)", row.locator("td").nth(2).inner_text())
        assert match, "no 6-digit code in the newest text message"
        return match.group()
    finally:
        outbox.close()


def _log_in(page) -> None:
    for attempt in range(2):
        page.goto("/login/citizen")
        page.fill("#phone", RETIREE.phone)
        with page.expect_navigation():
            page.locator("main form[action='/login/citizen'] button[type=submit]").click()
        if urlsplit(page.url).path == "/login/code":
            break
        assert attempt == 0, page.locator("main").inner_text()
        time.sleep(OTP_SEND_INTERVAL_SECONDS)  # another test sent this phone a code less than a minute ago
    page.fill("#code", _code_from_outbox(page, RETIREE.phone))
    with page.expect_navigation():
        page.locator("main form[action='/login/code'] button[type=submit]").click()
    if urlsplit(page.url).path == "/bind":
        page.fill("#name", RETIREE.name)
        page.fill("#id_number", RETIREE.id_number)
        with page.expect_navigation():
            page.locator("main form[action='/bind'] button[type=submit]").click()
    assert urlsplit(page.url).path == "/me"


def _no_horizontal_scrolling(page) -> None:
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]} px on a {widths[1]} px phone"


def _pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def _pick_places_with_the_script(page) -> None:
    """The destination picker with JavaScript: no "show the places" reload, the lists cascade, and a search by
    name, pinyin or pinyin initials over every division fills province, city and county."""
    page.wait_for_selector(".place-search", state="visible")
    assert not page.locator("#update-places").is_visible()
    assert not page.locator("[data-level=city]").is_visible()
    page.fill("#place-query", "gz")
    guangzhou = page.locator("#place-results button", has_text="广东省 广州市").first
    guangzhou.wait_for()
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    guangzhou.click()
    assert page.input_value("#province") == "440000" and page.input_value("#city") == "440100"
    assert page.locator("#county option[value='440106']").count() == 1  # 天河区 is offered
    page.fill("#place-query", "tianhe")
    page.locator("#place-results button", has_text="广东省 广州市 天河区").first.click()
    assert page.input_value("#county") == "440106" and page.locator("[data-level=county]").is_visible()
    page.fill("#place-query", "青岛")
    page.locator("#place-results button", has_text="山东省 青岛市").first.click()
    assert (page.input_value("#province"), page.input_value("#city"), page.input_value("#county")) == (
        "370000", "370200", "")
    page.select_option("#province", "440000")  # a new province empties the city and hides the county
    assert page.input_value("#city") == "" and not page.locator("[data-level=county]").is_visible()
    assert page.locator("#city option[value='440300']").count() == 1  # 深圳市, from the data, no reload
    assert navigations == [], navigations
    _no_horizontal_scrolling(page)


def test_retiree_files_to_hainan_with_a_commitment_prints_it_and_cannot_cancel_inside_the_lock(phone):
    page = phone
    _log_in(page)
    page.locator("#nav-remote-care").click()
    page.wait_for_url("**/remote-care/")
    _no_horizontal_scrolling(page)
    page.locator("#category-resettled_retiree").click()
    page.wait_for_url("**/remote-care/file/resettled_retiree")

    _pick_places_with_the_script(page)
    page.select_option("#province", "460000")  # 海南省: the cascade follows without a reload
    assert page.locator("#province-level").is_visible()  # filing goes to the province
    assert not page.locator("[data-level=county]").is_visible()
    page.select_option("#city", "460100")  # 海口市: where she lives
    # the live server runs on the real clock, in China's date: the machine's local date (date.today()) can be a
    # day behind it for eight hours a day, and the server would refuse a start date "before today"
    today = clock.today()
    page.fill("#start_date", today.isoformat())
    page.fill("#care_address", "海南省海口市美兰区海甸岛五西路8号")
    page.fill("#care_phone", "13976543210")
    assert page.locator("input[name=method][value=commitment]").is_checked()
    assert "基本医疗保险异地就医备案个人承诺书" in page.locator(".commitment").inner_text()
    page.check("#commitment_consent")
    page.fill("#signed_name", RETIREE.name)
    _no_horizontal_scrolling(page)
    with page.expect_navigation():
        page.locator("#submit-filing").click()

    assert re.search(r"/remote-care/filings/\d+$", page.url), page.locator("main").inner_text()
    number = page.locator("#filing-number").inner_text().strip()
    assert re.fullmatch(r"YDJL\d{8}[2-9A-Z]{6}", number)
    assert page.locator("#filing-destination").inner_text().strip() == "海南省"
    assert page.locator("#filing-status").inner_text().strip() in {"有效", "Valid"}  # effective at once
    # the commitment's hash is for checking, not for every citizen: folded away behind 核验信息 until opened
    assert page.locator("#commitment-hash").is_hidden()
    page.locator("#verification-info summary").click()
    digest = page.locator("#commitment-hash").inner_text().strip()
    assert HASH_RE.match(digest)
    assert "13976543210" not in page.content()  # the phone is masked (S12)
    _no_horizontal_scrolling(page)

    page.goto("/remote-care/filings")
    assert page.locator("a.filing-number", has_text=number).count() == 1
    page.locator("a.filing-number", has_text=number).click()
    page.wait_for_url(re.compile(r"/remote-care/filings/\d+$"))

    with page.expect_download() as download_info:
        page.locator("#print-filing").click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert number in text and digest in text and "温馨提示" in text and "异地就医备案信息" in text

    with page.expect_navigation():
        page.locator("#cancel-filing").click()
    lifts = chinese_date(add_months(today, 6))  # as the zh page writes a date: 2027年6月7日
    flash = page.locator(".flash-error").inner_text()
    assert lifts in flash, flash
    assert page.locator("#filing-status").inner_text().strip() in {"有效", "Valid"}
