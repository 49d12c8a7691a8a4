"""axe-core on every page a citizen, a unit agent, staff and a visitor can reach: 0 violations of any impact.

Each role's browser (a phone, 390 px) logs in, then walks the portal from its start pages by following the links
it is shown, as a person would: every page it reaches (one per kind of address: ``/applications/12`` and
``/applications/13`` are one page) is checked by axe-core in Chinese and in English, in the normal and the elder
mode. The walk never presses a button, so it changes nothing; a citizen's case (paper materials at the window), a
draft and a unit agent's draft of the staff form are made first so their pages exist.

axe-core comes from the locked PyPI package ``axe-playwright-python`` (it ships ``axe.min.js``); without it these
tests fail under PORTAL_REQUIRE_BROWSER=1 (CI), as the browser tests do without a browser.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal.accounts.demo import DEMO_STAFF_PASSWORD
from portal.insurance.demo import DEMO_CITIZENS

from .conftest import PHONE, fresh_totp
from .test_filing import CITIZEN_ITEM, UNIT_ITEM, _file, _log_in_agent, _log_in_citizen

pytestmark = pytest.mark.browser

# logged in only here and in test_elder_mode.py (which reuses her case): other tests' filings never meet hers
RESIDENT = next(c for c in DEMO_CITIZENS if c.key == "resident")
STAFF_ITEM = "G002036001005_02_02"  # 职工停保变更: a unit form with a table of staff
MODES = [(lang, elder) for lang in ("zh_Hans_CN", "en") for elder in ("0", "1")]
# never followed: switches, downloads, machine interfaces, the development outbox and links that act
SKIP = re.compile(r"^/(lang|elder|static|api|dev|logout)(/|$)|\.(pdf|csv)$|/(pdf|export|disown)(/|$)|/files/")
MAX_PAGES = 60  # per role: far more kinds of page than any role has today; the walk stops there


def axe_source() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail("PORTAL_REQUIRE_BROWSER=1 but axe-core is not installed (pip install -c constraints.txt "
                        "-e '.[test]' installs axe-playwright-python, which ships axe.min.js)")
        pytest.skip("axe-core is not installed (axe-playwright-python) — accessibility sweep skipped")
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def kind_of(path: str) -> str:
    """One key per kind of page: path segments with a digit (ids, codes, tokens) are the same page."""
    return "/".join("*" if re.search(r"\d", part) else part for part in path.split("/"))


def _links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def walk(page, origin: str, starts: list[str]) -> list[str]:
    """The pages reachable from ``starts`` by links, one address per kind, HTML answers only."""
    queue, seen, pages = list(starts), set(), []
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        kind = url if url in starts else kind_of(urlsplit(url).path)  # each start page is walked
        if kind in seen:
            continue
        seen.update({kind, kind_of(urlsplit(url).path)})
        response = page.goto(url)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if urlsplit(page.url).path != urlsplit(url).path:
            queue.append(urlsplit(page.url).path)
            continue  # redirected elsewhere (a login page, /me): that page is walked under its own address
        pages.append(url)
        queue.extend(_links(page, origin))
    return pages


def violations(page, source: str) -> list[str]:
    page.evaluate(source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for v in result["violations"]:
        targets = "; ".join(" ".join(node["target"]) if isinstance(node["target"][0], str) else str(node["target"])
                            for node in v["nodes"][:3])
        found.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {targets} — {v['help']}")
    return found


def sweep(page, live_server: str, starts: list[str]) -> None:
    source = axe_source()
    context = page.context
    pages = walk(page, live_server, starts)
    missing = [url for url in starts if url not in pages]
    assert not missing, f"start pages not walked: {missing}"
    wrong = []
    for lang, elder in MODES:
        context.add_cookies([{"name": "lang", "value": lang, "url": live_server},
                             {"name": "elder", "value": elder, "url": live_server}])
        for url in pages:
            page.goto(url)
            wrong.extend(f"{lang} elder={elder} {url}: {line}" for line in violations(page, source))
    assert not wrong, f"{len(wrong)} axe violations on {len(pages)} pages × 4 modes:\n" + "\n".join(wrong)


def test_public_pages_have_no_axe_violations(phone, live_server):
    sweep(phone, live_server, ["/", "/guide/", f"/guide/items/{CITIZEN_ITEM}", "/login", "/login/citizen",
                               "/login/agent", "/login/staff", "/q/lookup", "/v", "/remote-care/",
                               "/page-that-does-not-exist"])


@pytest.fixture(scope="module")
def resident(browser, live_server):
    """王小红 logged in on a phone, with a case filed (paper materials at the window) and a draft left open."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server,
                                  locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    _log_in_citizen(page, RESIDENT)
    _file(page, CITIZEN_ITEM, texts={"f_pooling_area": "长春市", "f_scope": "高血压"},
          choices={"f_insurance_type": "城乡居民医保", "f_category": "门诊慢病", "f_recognition_place": "本地"})
    case = urlsplit(page.url).path
    page.goto(f"/apply/{CITIZEN_ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{CITIZEN_ITEM}'] button[type=submit]").click()
    draft = urlsplit(page.url).path
    yield page, case, draft
    context.close()


def test_citizen_pages_have_no_axe_violations(resident, live_server):
    page, case, draft = resident
    sweep(page, live_server, ["/me", "/applications/", case, f"{case}/receipt", draft, "/me/records",
                              "/me/records/contributions", "/me/records/account", "/certificates/", "/inbox",
                              "/remote-care/", "/remote-care/filings", f"/apply/{CITIZEN_ITEM}"])


def test_unit_agent_pages_have_no_axe_violations(phone, live_server):
    _log_in_agent(phone)
    drafts = []
    for item in (UNIT_ITEM, STAFF_ITEM):
        phone.goto(f"/apply/{item}")
        with phone.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
            phone.locator(f"main form[action='/apply/{item}'] button[type=submit]").click()
        drafts.append(urlsplit(phone.url).path)
    try:
        sweep(phone, live_server, ["/me", "/applications/", *drafts, "/unit/records", "/unit/records/staff",
                                   "/unit/records/contributions", "/me/agents", "/inbox"])
    finally:  # the browser tests share one server: a draft left here would stand in the unit filing test's way
        for path in drafts:
            _delete_draft(phone, path)


def _delete_draft(page, edit_path: str) -> None:
    """Delete a draft as its applicant does: tick the confirmation and press 删除草稿 on the edit page."""
    page.goto(edit_path)
    discard = page.locator(f"main form[action='{edit_path.removesuffix('/edit')}/discard']")
    discard.locator("input[name=confirm]").check()
    with page.expect_navigation():
        discard.locator("button[type=submit]").click()
    page.goto(edit_path)
    assert page.locator(f"main form[action='{edit_path}']").count() == 0, "the draft was not deleted"


@pytest.mark.parametrize("username", ["kezhang", "admin"])
def test_staff_pages_have_no_axe_violations(phone, live_server, username, resident):
    phone.goto("/login/staff")
    phone.fill("#username", username)
    phone.fill("#password", DEMO_STAFF_PASSWORD)
    phone.fill("#totp", fresh_totp(username))
    with phone.expect_navigation():
        phone.locator("main form[action='/login/staff'] button[type=submit]").click()
    assert urlsplit(phone.url).path != "/login/staff", phone.locator("main").inner_text()
    case_id = resident[1].rsplit("/", 1)[1]
    starts = ["/staff/queues/intake", "/me", "/inbox", "/staff/password"]
    if username == "kezhang":  # the chief opens cases, the dashboard, ratings and sampling; the admin the calendar
        starts += [f"/staff/cases/{case_id}", "/staff/dashboard", "/staff/ratings/stats", "/staff/sampling"]
    else:
        starts = ["/staff/calendar/", "/me", "/inbox", "/staff/password"]
    sweep(phone, live_server, starts)
