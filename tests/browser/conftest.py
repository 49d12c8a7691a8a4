"""End-to-end fixtures: the real portal served by ``portal up`` and Debian's Chromium driven by Playwright.

Without a browser these tests are skipped, unless PORTAL_REQUIRE_BROWSER=1 (CI), where that fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import servers

PHONE = {"width": 390, "height": 844}
LIVE: dict[str, Path] = {}  # the live server's instance folder ("instance"), for tests that set up data in it


def chromium_path() -> str | None:
    return os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.no_db)
    # browser tests last: Playwright's sync API keeps an event loop running in this thread until the session
    # ends, and libraries that call asyncio.run() (pyHanko's validator, in the certificate tests) cannot run
    # beside it
    items.sort(key=lambda item: "tests/browser" in str(item.fspath))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """``portal up`` (the README's first command) on a fresh instance folder; yields its base URL."""
    if not chromium_path():
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail("PORTAL_REQUIRE_BROWSER=1 but no chromium was found")
        pytest.skip("no chromium installed (apt-get install chromium) — browser tests skipped")
    instance: Path = tmp_path_factory.mktemp("live")
    LIVE["instance"] = instance
    port = servers.free_port()
    env = servers.portal_env(instance, PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
                             # several tests log the same demo people in within a minute, and every browser logs in
                             # from 127.0.0.1 (more than the 20 codes an hour one address may ask for); the limits
                             # themselves are tested elsewhere (the login countdown test in Chromium)
                             PORTAL_LIMIT_OTP_SEND_PHONE="30/minute", PORTAL_LIMIT_OTP_SEND_IP="200/hour")
    try:
        proc = servers.start([sys.executable, "-m", "portal", "up", "--port", str(port)], env=env,
                             log=instance / "server.log", port=port, timeout=180)
    except servers.ServerFailed as exc:
        pytest.fail(f"portal up did not serve: {exc}")
    yield f"http://127.0.0.1:{port}"
    servers.stop(proc, timeout=10)


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone-sized page (no cookies) on the live portal."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server,
                                  locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


_LAST_TOTP_STEP: dict[str, int] = {}


def fresh_totp(username: str) -> str:
    """A TOTP code of the demo staff member ``username`` that the server has not seen yet.

    The portal refuses a code of a time step already used (replay), and browser tests share one live server:
    a second login of the same person within 30 seconds takes the next step's code (accepted: the server
    allows one step of clock drift), or waits for the window to move on.
    """
    from portal.accounts.demo import DEMO_STAFF
    from portal.accounts.passwords import TOTP_STEP_SECONDS, current_totp

    secret = next(secret for name, _label, _roles, secret in DEMO_STAFF if name == username)

    while True:
        now = datetime.now(UTC)
        step = max(int(now.timestamp()) // TOTP_STEP_SECONDS, _LAST_TOTP_STEP.get(username, -1) + 1)
        if step <= int(now.timestamp()) // TOTP_STEP_SECONDS + 1:
            _LAST_TOTP_STEP[username] = step
            return current_totp(secret, datetime.fromtimestamp(step * TOTP_STEP_SECONDS, UTC))
        time.sleep(1)
