"""Staff pages (issue 17 items 8 and 9, issue 25): citizens' case pages are the applicant's only; staff land on their
own first page after login, under a staff header listing only what their roles open, on wide pages; on the case
they have claimed they may reveal full names and numbers ("显示完整信息"), audited and visible to the chief."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.accounts import passwords
from portal.accounts.models import Role
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.workbench import operations as ops
from tests.conftest import csrf_from
from tests.factories import STAFF_PASSWORD
from tests.workbench.conftest import PROMISE_ITEM

ROOT = Path(__file__).resolve().parents[2]
HREF_RE = re.compile(r'href="([^"#]+)"')


def _post(browser, page_url: str, url: str, data: dict, follow: bool = False):
    token = csrf_from(browser.get(page_url).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


def _staff_menu(html: str) -> str:
    start = html.index('class="wrap main-nav staff-menu"')
    return html[start:html.index("</nav>", start)]


def _header(html: str) -> str:
    return html[html.index("<header"):html.index("</header>")]


# --- citizens' case pages are the applicant's --------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_no_member_of_staff_opens_a_citizens_case_pages(role, browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    browser, _ = browser_as(f"cp{role.value}", role)
    for path in (f"/applications/{case.id}", f"/applications/{case.id}/receipt",
                 f"/applications/{case.id}/receipt.pdf", f"/applications/{case.id}/correct",
                 f"/applications/{case.id}/edit"):
        assert browser.get(path).status_code == 404, path


# --- landing, header, menu, width --------------------------------------------------------------------------


def _login(make_client, make_worker, username: str, *roles: Role):
    _account, secret = make_worker(username, *roles)
    browser = make_client()
    response = browser.post("/login/staff", data={
        "csrf_token": csrf_from(browser.get("/login/staff").get_data(as_text=True)), "username": username,
        "password": STAFF_PASSWORD, "totp": passwords.current_totp(secret, clock.now())})
    assert response.status_code == 302
    return browser, response.headers["Location"]


@pytest.mark.parametrize(("role", "landing"), [
    (Role.ACCEPTOR, "/staff/"), (Role.REVIEWER, "/staff/"), (Role.FINANCE, "/staff/"), (Role.CHIEF, "/staff/"),
    (Role.ADMIN, "/staff/calendar/"),
])
def test_staff_land_on_their_first_back_office_page_not_on_me(role, landing, make_client, make_worker):
    browser, location = _login(make_client, make_worker, f"land{role.value}", role)
    assert location == landing
    assert browser.get(location, follow_redirects=True).status_code == 200
    assert browser.get("/login").headers["Location"] == landing  # already logged in: the same place


def test_a_login_with_a_next_page_goes_there(make_client, make_worker):
    _account, secret = make_worker("landnext", Role.ACCEPTOR)
    browser = make_client()
    browser.get("/login/staff?next=/staff/queues/review")
    response = browser.post("/login/staff", data={
        "csrf_token": csrf_from(browser.get("/login/staff").get_data(as_text=True)), "username": "landnext",
        "password": STAFF_PASSWORD, "totp": passwords.current_totp(secret, clock.now())})
    assert response.headers["Location"] == "/staff/queues/review"


@pytest.mark.parametrize("role", list(Role))
def test_the_staff_menu_lists_only_pages_the_role_may_open(role, make_client, make_worker):
    browser, location = _login(make_client, make_worker, f"menu{role.value}", role)
    html = browser.get(location, follow_redirects=True).get_data(as_text=True)
    links = [link for link in HREF_RE.findall(_staff_menu(html)) if link.startswith("/staff")]
    assert links, "the menu offers the role's pages"
    for link in links:
        assert browser.get(link, follow_redirects=True).status_code == 200, (role, link)
    # and what it leaves out is what the role may not open
    for hidden in {"/staff/", "/staff/dashboard", "/staff/sampling", "/staff/rectifications",
                   "/staff/ratings/stats", "/staff/calendar/", "/staff/bindings"} - set(links):
        assert browser.get(hidden).status_code == 403, (role, hidden)


def test_an_acceptor_is_not_offered_the_chiefs_pages(make_client, make_worker):
    browser, location = _login(make_client, make_worker, "menuacc", Role.ACCEPTOR)
    html = browser.get(location, follow_redirects=True).get_data(as_text=True)
    assert "/staff/dashboard" not in html and "/staff/sampling" not in html and "/staff/rectifications" not in html
    chief, location = _login(make_client, make_worker, "menuchief", Role.CHIEF)
    menu = _staff_menu(chief.get(location, follow_redirects=True).get_data(as_text=True))
    assert all(path in menu for path in ("/staff/dashboard", "/staff/sampling", "/staff/rectifications"))


def test_the_staff_header_has_no_citizen_navigation(make_client, make_worker):
    browser, location = _login(make_client, make_worker, "hdrclerk", Role.ACCEPTOR)
    for page in (location, "/me", "/inbox", "/staff/password"):
        header = _header(browser.get(page, follow_redirects=True).get_data(as_text=True))
        assert "staff-menu" in header, page
        assert "/remote-care" not in header and "/elder/" not in header and "/applications/" not in header, page
        assert "/q/lookup" not in header
    citizen_header = _header(make_client().get("/").get_data(as_text=True))
    assert "/remote-care" in citizen_header and "/elder/on" in citizen_header and "staff-menu" not in citizen_header


def test_staff_pages_use_the_width_of_the_screen(make_client, make_worker):
    client = make_client()
    browser, location = _login(make_client, make_worker, "wide", Role.ACCEPTOR)
    assert "css/staff.css" in browser.get(location, follow_redirects=True).get_data(as_text=True)
    assert "css/staff.css" not in client.get("/").get_data(as_text=True)
    css = (ROOT / "static" / "css" / "staff.css").read_text(encoding="utf-8")
    width = float(re.search(r"\.wrap \{ max-width: ([\d.]+)rem", css).group(1))
    assert width > 64  # portal.css caps citizen pages at 64rem


def test_staff_log_out_to_the_staff_login(make_client, make_worker):
    browser, location = _login(make_client, make_worker, "byeclerk", Role.ACCEPTOR)
    token = csrf_from(browser.get(location, follow_redirects=True).get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login/staff"


# --- full values on the claimed case ("显示完整信息") ------------------------------------------------------


def _reveals(db_session, case) -> list[AuditEvent]:
    return db_session.execute(select(AuditEvent).where(AuditEvent.action == ops.REVEAL, AuditEvent.object_id ==
                                                       str(case.id)).order_by(AuditEvent.id)).scalars().all()


def test_full_details_need_the_claim_and_are_audited(browser_as, make_case, citizen, db_session, caplog):
    caplog.set_level(logging.DEBUG)
    case = make_case(PROMISE_ITEM, citizen)
    number, name = citizen.person.id_number, citizen.person.name
    browser, account = browser_as("revealer", Role.ACCEPTOR)
    page = f"/staff/cases/{case.id}"

    html = browser.get(page).get_data(as_text=True)
    assert number not in html and name not in html and "Show full details" not in html  # not claimed yet
    refused = _post(browser, page, f"{page}/reveal", {"version": case.version})
    assert refused.status_code == 302
    html = browser.get(page).get_data(as_text=True)
    assert number not in html and "Take the case first" in html
    assert [r.result for r in _reveals(db_session, case)] == ["denied"]

    _post(browser, page, f"{page}/claim", {"version": case.version})
    html = browser.get(page).get_data(as_text=True)
    assert number not in html and "Show full details" in html  # claimed: still masked until asked
    response = _post(browser, page, f"{page}/reveal", {"version": case.version})
    assert response.status_code == 302 and number not in response.headers["Location"]
    html = browser.get(page).get_data(as_text=True)
    assert number in html and name in html  # the person to register, in full
    assert "王*" in browser.get("/staff/queues/intake").get_data(as_text=True)  # lists stay masked
    assert name not in browser.get("/staff/queues/intake").get_data(as_text=True)

    rows = _reveals(db_session, case)
    assert [(r.result, r.actor_id) for r in rows] == [("denied", str(account.id)), ("ok", str(account.id))]
    assert rows[-1].at is not None and number not in rows[-1].detail and name not in rows[-1].detail
    full_views = db_session.execute(select(AuditEvent).where(
        AuditEvent.action == ops.CASE_VIEW, AuditEvent.object_id == str(case.id),
        AuditEvent.detail.contains('"full": true'))).scalars().all()
    assert full_views  # every page shown in full is recorded as such
    assert number not in caplog.text and name not in caplog.text


def test_the_chief_sees_who_showed_the_full_details(browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    clerk, _ = browser_as("revclerk", Role.ACCEPTOR)
    page = f"/staff/cases/{case.id}"
    _post(clerk, page, f"{page}/claim", {"version": case.version})
    _post(clerk, page, f"{page}/reveal", {"version": case.version})
    chief, _ = browser_as("revchief", Role.CHIEF)
    html = chief.get(page).get_data(as_text=True)
    openers = html[html.index('id="openers"'):]
    assert "Revclerk · showed the full details" in openers
    assert citizen.person.id_number not in html  # the chief has not claimed it: masked


def test_the_full_details_end_with_the_claim(browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    browser, _ = browser_as("revrelease", Role.ACCEPTOR)
    page = f"/staff/cases/{case.id}"
    _post(browser, page, f"{page}/claim", {"version": case.version})
    _post(browser, page, f"{page}/reveal", {"version": case.version})
    assert citizen.person.id_number in browser.get(page).get_data(as_text=True)
    _post(browser, page, f"{page}/release", {"version": case.version})
    assert citizen.person.id_number not in browser.get(page).get_data(as_text=True)
    _post(browser, page, f"{page}/claim", {"version": case.version})  # taken again: masked until asked again
    assert citizen.person.id_number not in browser.get(page).get_data(as_text=True)


# --- exact search by name (names are sealed: through the blind index) ---------------------------------------


def test_search_by_exact_full_name_goes_through_the_blind_index(browser_as, make_case, citizen, make_citizen):
    mine = make_case(PROMISE_ITEM, citizen)
    other = make_case(PROMISE_ITEM, make_citizen("钱三"))
    browser, _ = browser_as("wbnamesearch", Role.ACCEPTOR)
    response = _post(browser, "/staff/queues/intake", "/staff/search", {"id_number": " 王晓明 ", "queue": "intake"})
    assert response.status_code == 302 and "%" not in response.headers["Location"]  # nothing typed in the URL
    html = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert mine.number in html and other.number not in html
    assert "王晓明" not in html and "Showing only the cases of 王*." in html  # the hint: the name masked
    partial = _post(browser, "/staff/queues/intake", "/staff/search", {"id_number": "王晓", "queue": "intake"})
    html = browser.get(partial.headers["Location"]).get_data(as_text=True)
    assert mine.number not in html  # exact only: a part of a name finds nobody
