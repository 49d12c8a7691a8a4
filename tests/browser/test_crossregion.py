"""异地就医备案 on a phone: the demo retiree 李秀兰 files 异地安置 to 海口 (海南, where filing goes to the province)
with a signed commitment instead of proof; the filing is valid at once, shows in my filings with the
commitment's hash, prints as the 异地就医登记备案表 (PDF), and cancelling it inside the lock is refused with the
date the lock lifts. Steps find things by ids and names; checks read data (numbers, hashes, dates)."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from portal.core import clock
from portal.documents.pdf import chinese_date
from portal.insurance.demo import DEMO_CITIZENS
from portal.services.remote_care.rules import add_months
from tests.browser.steps import log_in_citizen, no_horizontal_scrolling

pytestmark = pytest.mark.browser

RETIREE = next(c for c in DEMO_CITIZENS if c.key == "retiree")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


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
    no_horizontal_scrolling(page)


def test_retiree_files_to_hainan_with_a_commitment_prints_it_and_cannot_cancel_inside_the_lock(phone):
    page = phone
    log_in_citizen(page, RETIREE)
    page.locator("#nav-remote-care").click()
    page.wait_for_url("**/remote-care/")
    no_horizontal_scrolling(page)
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
    no_horizontal_scrolling(page)
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
    no_horizontal_scrolling(page)

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
