"""Screenshots of the pages people meet most, so anyone can look at them without setting anything up.

    python bench/screens.py [--out DIR] [--locale zh|en|both]

Starts ``portal up`` on a fresh instance folder (demo data), drives Debian's Chromium (``PORTAL_CHROMIUM`` or
``chromium`` on the path) with Playwright, and saves full-page PNGs of

- the home page (logged in as the demo employee, so the cases in progress show),
- a service-guide item (门诊慢性病病种待遇认定),
- the filing form of that item (a fresh draft),
- the receipt of an issued insurance certificate (参保凭证),
- the staff workbench (受理 ``shouli``),

at 360 px (a small phone) and 1280 px (a laptop), in standard and elder mode (长辈模式), into ``--out`` (default: a
new temporary folder). Prints each file's path, then the folder. Nothing is measured: this is for eyes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as ``python bench/screens.py`` from a clone

from tests import servers  # noqa: E402 (the repository root is on the path only from here)

WIDTHS = {"360": {"width": 360, "height": 780}, "1280": {"width": 1280, "height": 900}}
MODES = ("standard", "elder")
ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定, an individual item of the Jilin catalog with a 15-field form


def chromium() -> str:
    found = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("no chromium found: apt-get install chromium, or set PORTAL_CHROMIUM")
    return found


def sms_code(page, phone: str) -> str:
    from portal.core.masking import mask_phone

    outbox = page.context.new_page()
    try:
        outbox.goto("/dev/outbox")
        row = outbox.locator("tbody tr", has_text=mask_phone(phone)).first
        return re.search(r"(?<!\d)\d{6}(?!\d)", row.locator("td").nth(2).inner_text()).group()
    finally:
        outbox.close()


def log_in_citizen(page) -> None:
    from portal.insurance.demo import DEMO_CITIZENS

    citizen = next(c for c in DEMO_CITIZENS if c.key == "employee")
    page.goto("/login/citizen")
    page.fill("#phone", citizen.phone)
    with page.expect_navigation():
        page.locator("main form[action='/login/citizen'] button[type=submit]").click()
    page.fill("#code", sms_code(page, citizen.phone))
    with page.expect_navigation():
        page.locator("main form[action='/login/code'] button[type=submit]").click()
    if urlsplit(page.url).path == "/bind":
        page.fill("#name", citizen.name)
        page.fill("#id_number", citizen.id_number)
        with page.expect_navigation():
            page.locator("main form[action='/bind'] button[type=submit]").click()


def log_in_staff(page, username: str = "shouli") -> None:
    from datetime import UTC, datetime

    from portal.accounts.demo import DEMO_STAFF, DEMO_STAFF_PASSWORD
    from portal.accounts.passwords import current_totp

    secret = next(s for name, _label, _roles, s in DEMO_STAFF if name == username)
    page.goto("/login/staff")
    page.fill("#username", username)
    page.fill("#password", DEMO_STAFF_PASSWORD)
    page.fill("#totp", current_totp(secret, datetime.now(UTC)))
    with page.expect_navigation():
        page.locator("main form[action='/login/staff'] button[type=submit]").click()


def prepare(browser, base_url: str) -> dict[str, str]:
    """Log in once, make a draft and a certificate; returns the citizen's pages by name and the cookies to reuse."""
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20000)
    log_in_citizen(page)
    page.goto(f"/apply/{ITEM}")
    start = page.locator(f"main form[action='/apply/{ITEM}'] button[type=submit]")
    if start.count():
        with page.expect_navigation():
            start.click()
    else:
        page.locator("main a.button[href*='/edit']").first.click()
    form_path = urlsplit(page.url).path
    page.goto("/certificates/")
    with page.expect_navigation():
        page.locator("main form[action^='/certificates/request/'] button[type=submit]").first.click()
    page.goto("/certificates/")
    case_href = page.locator("main a[href^='/applications/']").first.get_attribute("href")
    pages = {"home": "/", "guide-item": f"/guide/items/{ITEM}", "filing-form": form_path,
             "receipt": f"{case_href}/receipt"}
    cookies = [c for c in context.cookies() if c["name"] not in ("elder", "lang")]
    context.close()
    return {"pages": pages, "cookies": cookies}


def shoot(browser, base_url: str, out: Path, locales: list[str]) -> list[Path]:
    citizen = prepare(browser, base_url)
    staff_context = browser.new_context(base_url=base_url)
    staff_page = staff_context.new_page()
    log_in_staff(staff_page)
    staff_cookies = [c for c in staff_context.cookies() if c["name"] not in ("elder", "lang")]
    staff_context.close()
    shots = [(name, path, citizen["cookies"]) for name, path in citizen["pages"].items()]
    shots.append(("workbench", "/staff/", staff_cookies))
    saved = []
    host = urlsplit(base_url).hostname
    for locale in locales:
        for mode in MODES:
            for width, viewport in WIDTHS.items():
                for name, path, cookies in shots:
                    context = browser.new_context(base_url=base_url, viewport=viewport,
                                                  locale="en-GB" if locale == "en" else "zh-CN",
                                                  is_mobile=width == "360", has_touch=width == "360")
                    settings = [{"name": "elder", "value": "1" if mode == "elder" else "0"},
                                {"name": "lang", "value": "en" if locale == "en" else "zh_Hans_CN"}]
                    context.add_cookies(cookies + [dict(s, domain=host, path="/") for s in settings])
                    page = context.new_page()
                    page.goto(path)
                    file = out / f"{name}-{width}-{mode}-{locale}.png"
                    page.screenshot(path=str(file), full_page=True)
                    context.close()
                    saved.append(file)
                    print(file, flush=True)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs (default: a new temporary one)")
    parser.add_argument("--locale", choices=("zh", "en", "both"), default="zh")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="portal-screens-"))
    out.mkdir(parents=True, exist_ok=True)
    locales = ["zh", "en"] if args.locale == "both" else [args.locale]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="portal-screens-instance-") as folder:
        instance = Path(folder)
        port = servers.free_port()
        env = servers.portal_env(instance, PORTAL_BASE_URL=f"http://127.0.0.1:{port}")
        server = servers.start([sys.executable, "-m", "portal", "up", "--port", str(port)], env=env,
                               log=instance / "server.log", port=port, timeout=180)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium(),
                                                     args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
                try:
                    saved = shoot(browser, f"http://127.0.0.1:{port}", out, locales)
                finally:
                    browser.close()
        finally:
            servers.stop(server, timeout=10)
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
