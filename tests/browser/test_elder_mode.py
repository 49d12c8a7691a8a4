"""Elder mode (长辈模式) really enlarges: measured in Chromium, not read from a CSS class.

At 360 px (a small phone) and 1280 px (a laptop), in standard and elder mode, the computed styles and the boxes
the browser lays out must give: body text ≥ 20 px in elder mode, every heading level ≥ 1.25× its standard size,
every control a finger aims at (header links, service tiles, buttons, text boxes, selects) ≥ 48 px high in elder
mode (≥ 44 px for buttons and boxes, ≥ 24 px for header links in standard mode), no sideways scrolling, and a
home page of 4–6 services in elder mode.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WIDTHS = (360, 1280)
PUBLIC_PAGES = ("/", "/guide/", "/guide/items/G002036005000_01_001", "/login/citizen", "/q/lookup", "/remote-care/",
                "/v")
TARGETS = ("header a, header button, a.tile, main .button, main button, main input:not([type=hidden]), main select,"
           " main textarea")
SIZES_JS = """() => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const probe = (tag) => { const el = document.createElement(tag); el.textContent = 'x';
    document.querySelector('main').appendChild(el); const size = px(el); el.remove(); return size; };
  return {body: px(document.body), p: px(document.querySelector('main p') || document.body),
          h1: probe('h1'), h2: probe('h2'), h3: probe('h3')};
}"""
# (the flow chart's SVG is a drawing scaled to the screen, with a text version beside it: not measured)
SMALL_TEXT_JS = """(limit) => [...document.querySelectorAll('body *')]
  .filter((el) => !el.closest('svg') && el.offsetParent !== null)
  .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
  .filter((el) => parseFloat(getComputedStyle(el).fontSize) < limit)
  .map((el) => el.outerHTML.slice(0, 90) + ' ' + getComputedStyle(el).fontSize)"""
TARGETS_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => { const r = el.getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 90), height: r.height, width: r.width, header: !!el.closest('header')}; })"""


def _open(browser, live_server, width: int, elder: bool, path: str):
    context = browser.new_context(viewport={"width": width, "height": 800}, base_url=live_server, locale="zh-CN",
                                  is_mobile=width < 500, has_touch=width < 500)
    context.add_cookies([{"name": "elder", "value": "1" if elder else "0", "url": live_server}])
    page = context.new_page()
    page.goto(path)
    return context, page


def _measure(browser, live_server, width: int, elder: bool, path: str = "/") -> dict:
    context, page = _open(browser, live_server, width, elder, path)
    try:
        return {"sizes": page.evaluate(SIZES_JS), "targets": page.evaluate(TARGETS_JS, TARGETS),
                "scroll": page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]"),
                "small_text": page.evaluate(SMALL_TEXT_JS, 20),
                "tiles": page.locator("a.tile").count(), "html_class": page.locator("html").get_attribute("class")}
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_elder_mode_enlarges_text_and_headings(browser, live_server, width):
    standard = _measure(browser, live_server, width, elder=False)["sizes"]
    elder = _measure(browser, live_server, width, elder=True)["sizes"]
    assert standard["body"] == 16
    assert elder["body"] >= 20 and elder["p"] >= 20, elder
    for level in ("h1", "h2", "h3"):
        assert elder[level] >= 1.25 * standard[level], (level, standard[level], elder[level])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_elder_mode_targets_are_at_least_48_px_and_nothing_scrolls_sideways(browser, live_server, width, path):
    measured = _measure(browser, live_server, width, elder=True, path=path)
    assert measured["html_class"] == "elder"
    assert not measured["small_text"], measured["small_text"]  # no text under 20 px anywhere on the page
    small = [t for t in measured["targets"] if t["height"] < 48]
    assert not small, small
    assert measured["scroll"][0] <= measured["scroll"][1], f"{path} is {measured['scroll'][0]} px wide"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_standard_mode_targets_and_no_sideways_scrolling(browser, live_server, width, path):
    measured = _measure(browser, live_server, width, elder=False, path=path)
    small = [t for t in measured["targets"] if t["height"] < (24 if t["header"] else 44)]
    assert not small, small
    assert measured["scroll"][0] <= measured["scroll"][1], f"{path} is {measured['scroll'][0]} px wide"


@pytest.mark.parametrize("width", WIDTHS)
def test_elder_home_page_keeps_four_to_six_services(browser, live_server, width):
    elder = _measure(browser, live_server, width, elder=True)
    standard = _measure(browser, live_server, width, elder=False)
    assert 4 <= elder["tiles"] <= 6 < standard["tiles"]
    context, page = _open(browser, live_server, width, True, "/")
    try:
        page.locator("#tile-certificate").click()  # one tap to 参保凭证 (a login first, then straight back)
        page.wait_for_url("**/login**")
        assert "next=/certificates/" in page.url.replace("%2F", "/")
    finally:
        context.close()
