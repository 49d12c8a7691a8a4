"""Steps every browser test takes: logging in (a citizen or agent by text message, staff by password and TOTP),
pressing a button that loads a page, walking a case on the workbench, and checking a page does not scroll sideways.

The SMS codes are read from the development outbox (/dev/outbox), the staff codes computed from the documented
demo TOTP secrets (``conftest.fresh_totp``). Things are found by form actions, ids and values, not sentences.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from portal.accounts.demo import DEMO_STAFF_PASSWORD
from portal.core.masking import mask_phone
from portal.insurance.demo import DEMO_UNIT, DEMO_UNIT_AGENT_PHONE
from tests.browser.conftest import fresh_totp

DESK = {"width": 1280, "height": 900}  # a staff member's screen
OTP_SEND_INTERVAL_SECONDS = 61  # PORTAL_LIMIT_OTP_SEND_PHONE: one code per phone a minute


def path(page) -> str:
    return urlsplit(page.url).path


def submit(page, selector: str) -> None:
    """Click what ``selector`` finds and wait for the page it loads."""
    with page.expect_navigation():
        page.locator(selector).click()


def no_horizontal_scrolling(page) -> None:
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]} px wide on a {widths[1]} px phone"


# --- logging in by text message ----------------------------------------------------------------------------


def code_from_outbox(page, phone: str) -> str:
    """The newest code sent to ``phone``, read like a tester does: on the development outbox page."""
    outbox = page.context.new_page()
    try:
        outbox.goto("/dev/outbox")
        row = outbox.locator("tbody tr", has_text=mask_phone(phone)).first  # newest first
        match = re.search(r"(?<!\d)\d{6}(?!\d)", row.locator("td").nth(2).inner_text())
        assert match, "no 6-digit code in the newest text message"
        return match.group()
    finally:
        outbox.close()


def request_code(page, login_path: str, fill) -> None:
    """Fill the login form and ask for a text message. The browser tests share one server, and another test
    may have sent this phone a code less than a minute ago: then the form says to wait, and we do, once."""
    for attempt in range(2):
        page.goto(login_path)
        fill()
        with page.expect_navigation():
            page.locator(f"main form[action='{login_path}'] button[type=submit]").click()
        if path(page) == "/login/code":
            return
        assert attempt == 0 and page.locator(".error-summary").count() == 1, page.locator("main").inner_text()
        time.sleep(OTP_SEND_INTERVAL_SECONDS)
    pytest.fail("no text message was sent")


def enter_code(page, phone: str) -> None:
    page.fill("#code", code_from_outbox(page, phone))
    with page.expect_navigation():
        page.locator("main form[action='/login/code'] button[type=submit]").click()


def log_in_citizen(page, citizen) -> None:
    """Log in by text message and bind the real name, unless an earlier test bound it already."""
    request_code(page, "/login/citizen", lambda: page.fill("#phone", citizen.phone))
    enter_code(page, citizen.phone)
    if path(page) == "/bind":
        page.fill("#name", citizen.name)
        page.fill("#id_number", citizen.id_number)
        with page.expect_navigation():
            page.locator("main form[action='/bind'] button[type=submit]").click()
    assert path(page) == "/me"


def log_in_agent(page, credit_code: str = DEMO_UNIT.credit_code, phone: str = DEMO_UNIT_AGENT_PHONE) -> None:
    """Log in as a unit's agent (the demo unit's, unless told another)."""
    def fill():
        page.fill("#credit_code", credit_code)
        page.fill("#phone", phone)

    request_code(page, "/login/agent", fill)
    enter_code(page, phone)
    assert path(page) == "/me", page.locator("main").inner_text()


# --- the workbench -----------------------------------------------------------------------------------------


def staff_login(page, username: str) -> None:
    """Log a demo staff member in with the demo password and a fresh TOTP code."""
    page.goto("/login/staff")
    page.fill("#username", username)
    page.fill("#password", DEMO_STAFF_PASSWORD)
    page.fill("#totp", fresh_totp(username))
    submit(page, "main form[action='/login/staff'] button[type=submit]")
    assert path(page) != "/login/staff", page.locator("main").inner_text()


def state(page) -> str:
    """The state of the case on a staff case page (``data-state``: submitted, accepted…)."""
    return page.locator("#case-state").get_attribute("data-state")


def decide(page, action: str) -> None:
    """Press the decision form of ``action`` (accept, approve, complete…) and check it was not refused."""
    submit(page, f"form.decision[data-action='{action}'] button[type=submit]")
    assert page.locator(".flash-error").count() == 0, page.locator(".flashes").inner_text()
