"""The home page: a search box over the guide, the service tiles (fewer and larger in elder mode), the visitor's
cases in progress with their next step and deadline, unread messages, and notices built only from real data.

English pages (``lang=en``) so wording can be asserted; the clock is frozen wherever a date is shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.core import clock
from portal.pages import home
from tests.applications.test_views import login, page_of

CERTIFICATE_TILE = re.compile(r'<a class="tile" href="/certificates/" id="tile-certificate">')


def tiles(html: str) -> list[str]:
    return re.findall(r'id="tile-([a-z-]+)"', html)


@pytest.fixture
def browser(make_client):
    client = make_client()
    client.set_cookie("lang", "en")
    return client


def test_anonymous_home_has_a_guide_search_and_the_high_frequency_services(browser):
    html = page_of(browser, "/")
    assert re.search(r'<form method="get" action="/guide/" class="home-search" role="search">', html)
    assert '<input type="search" id="home-q" name="q"' in html
    assert tiles(html)[:6] == ["certificate", "records", "remote-care", "progress", "mine", "messages"]
    assert CERTIFICATE_TILE.search(html), "参保凭证 must be one tap from home"
    assert 'href="/q/lookup"' in html and 'href="/remote-care/"' in html
    assert "In progress" not in html and "Unread messages" not in html  # nobody is logged in
    # the search box really searches the guide
    results = page_of(browser, "/guide/?q=ydjy")
    assert "items found for" in results


def test_elder_mode_keeps_four_to_six_services_with_the_certificate_first(browser):
    browser.set_cookie("elder", "1")
    html = page_of(browser, "/")
    shown = tiles(html)
    assert 4 <= len(shown) <= 6, shown
    assert shown[0] == "certificate"
    assert "contributions" not in shown and "guide" not in shown  # the rest is one link away
    assert 'href="/guide/">All services (' in html
    browser.set_cookie("elder", "0")
    assert len(tiles(page_of(browser, "/"))) > len(shown)


def test_a_citizen_sees_open_cases_with_next_step_and_deadline_and_unread_messages(
        browser, db_session, citizen, case_in):
    with clock.frozen(datetime(2026, 5, 11, 1, 0, tzinfo=UTC)):  # Monday 09:00 in Changchun
        waiting = case_in("correction_requested")
        reviewing = case_in("under_review")
        done = case_in("completed")
        db_session.commit()
        html = page_of(login(browser, db_session, citizen.phone), "/")
    section = html.split('id="open-title"')[1].split("</section>")[0]
    assert "(2)" in section  # the completed case is not in progress
    assert f"/applications/{done.id}\"" not in section
    # the case waiting for the citizen comes first, with what to do and by when
    first, second = section.split('<li class="open-case')[1:3]
    assert f"/applications/{waiting.id}/correct" in first and "Your turn:" in first
    assert f"by {waiting.open_notice.respond_by.strftime('%b')} {waiting.open_notice.respond_by.day}," in first
    assert f"/applications/{reviewing.id}\"" in second and "The agency reviews it and decides" in second
    assert f"{reviewing.due_date.strftime('%b')} {reviewing.due_date.day}, {reviewing.due_date.year}" in second
    # messages the cases sent (correction notice, completion ...) are listed while unread
    unread = html.split('id="unread-title"')[1].split("</section>")[0]
    assert "<li>" in unread and 'href="/inbox"' in unread
    assert re.search(r'id="tile-messages">\s*<span class="tile-title">Messages <span class="badge"', html)


def test_notices_show_the_coming_holiday_from_the_schedule_and_nothing_otherwise(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        notice = home.holiday_notice(datetime(2026, 9, 28).date())  # Monday before 国庆节 2026
        assert (notice.name, notice.first.isoformat(), notice.last.isoformat()) == \
            ("National Day", "2026-10-01", "2026-10-07")
        under_way = home.holiday_notice(datetime(2026, 10, 3).date())
        assert under_way.first.isoformat() == "2026-10-01"  # the whole break, not just what is left
        assert home.holiday_notice(datetime(2026, 3, 10).date()) is None  # nothing within two weeks


def test_the_home_page_shows_the_holiday_notice_when_one_is_near(browser):
    with clock.frozen(datetime(2026, 9, 28, 2, 0, tzinfo=UTC)):
        html = page_of(browser, "/")
    assert re.search(r'id="holiday-notice">National Day: days off from Oct 1, 2026 to Oct 7, 2026\.', html)
    with clock.frozen(datetime(2026, 3, 10, 2, 0, tzinfo=UTC)):
        assert 'id="notices-title"' not in page_of(browser, "/")


def test_a_unit_agent_sees_the_units_services(browser, db_session, make_unit, make_first_agent):
    unit = make_unit(name="长春首页测试有限公司")
    agent = make_first_agent(unit, name="钱经办")
    db_session.commit()
    html = page_of(login(browser, db_session, agent.phone, unit=unit), "/")
    shown = tiles(html)
    assert shown[:2] == ["certificate", "records"] and "remote-care" not in shown
    assert 'href="/unit/records"' in html



def test_staff_see_only_the_back_office_pages_they_may_open(browser, make_staff, db_session):
    from portal.accounts import passwords
    from portal.accounts.models import Role
    from tests.conftest import csrf_from
    from tests.factories import STAFF_PASSWORD

    account, secret = make_staff("homeacceptor", roles={Role.ACCEPTOR})
    db_session.commit()
    token = csrf_from(browser.get("/login/staff").get_data(as_text=True))
    response = browser.post("/login/staff", data={"csrf_token": token, "username": account.username,
                                                  "password": STAFF_PASSWORD,
                                                  "totp": passwords.current_totp(secret, clock.now())})
    assert response.status_code == 302
    shown = tiles(page_of(browser, "/"))
    assert "workbench-index" in shown and "dashboard-index" not in shown  # no link that answers 无权查看
    assert "certificate" not in shown and "remote-care" not in shown  # no citizen services for staff
