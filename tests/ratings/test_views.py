"""The rating page (citizen, mobile first), the rectification pages under /staff/rectifications (section chiefs,
staff login with TOTP), the statistics page, and the rating API."""

from __future__ import annotations

from datetime import datetime

import pytest
from argon2 import PasswordHasher

from portal.accounts import passwords
from portal.accounts.models import Role
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.extensions import limiter
from portal.ratings.models import Rating
from tests.conftest import csrf_from
from tests.factories import log_in_staff

MOMENT = datetime(2026, 9, 30, 10, 0)


@pytest.fixture
def completed(case_in):
    with clock.frozen(MOMENT):
        return case_in("completed")


@pytest.fixture
def staff_browser(make_staff, make_client, db_session, monkeypatch):
    """``staff_browser(username, roles)``: a browser logged in as new staff through the password + TOTP page."""

    def _login(username: str, roles: set[Role]):
        monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        _account, secret = make_staff(username, roles=roles)
        db_session.commit()
        limiter.reset()
        browser = log_in_staff(make_client(), username, secret)
        browser.csrf = lambda url: csrf_from(browser.get(url).get_data(as_text=True))
        return browser

    return _login


def test_the_citizen_rates_from_the_case_page_and_sees_the_follow_up(completed, citizen, web_login, staff_browser,
                                                                      db_session):
    browser = web_login(citizen)
    page = browser.get(f"/applications/{completed.id}").get_data(as_text=True)
    assert "Rate this application" in page
    form = browser.get(f"/applications/{completed.id}/rating").get_data(as_text=True)
    assert form.count('type="radio" id="level-') == 5
    refused = browser.post(f"/applications/{completed.id}/rating",
                           data={"csrf_token": csrf_from(form), "level": "dissatisfied", "comment": ""})
    assert refused.status_code == 400 and "Tell us what went wrong" in refused.get_data(as_text=True)
    assert db_session.query(Rating).count() == 0  # nothing of the refused post kept
    answer = browser.post(f"/applications/{completed.id}/rating",
                          data={"csrf_token": csrf_from(form), "level": "dissatisfied", "comment": "等待时间太长",
                                "stage_review": "very_dissatisfied"})
    assert answer.status_code == 302
    page = browser.get(f"/applications/{completed.id}").get_data(as_text=True)
    assert "Dissatisfied" in page and "To be checked" in page

    chief = staff_browser("kz2", {Role.CHIEF})
    listing = chief.get("/staff/rectifications").get_data(as_text=True)
    assert completed.number in listing
    rect_id = completed.id and db_session.query(Rating).one().rectification.id
    detail = chief.get(f"/staff/rectifications/{rect_id}").get_data(as_text=True)
    assert "等待时间太长" in detail and "Very dissatisfied" in detail
    assert citizen.person.name not in detail  # the rater's name shows masked
    url = f"/staff/rectifications/{rect_id}"
    assert chief.post(url, data={"csrf_token": chief.csrf(url), "note": "x"}).status_code == 400  # no finding
    for data in ({"substantiated": "yes", "note": "属实，审核超时"}, {"note": "已整改"},
                 {"response": "satisfied", "note": "已电话回访并致歉"}):
        assert chief.post(url, data={"csrf_token": chief.csrf(url), **data}).status_code == 302
    assert "Closed" in chief.get(url).get_data(as_text=True)

    page = browser.get(f"/applications/{completed.id}").get_data(as_text=True)
    assert "Follow-up: 已电话回访并致歉" in page and "Your complaint was found true." in page
    assert "已整改" in page


def test_staff_pages_are_for_section_chiefs(staff_browser, completed):
    clerk = staff_browser("clerk2", {Role.ACCEPTOR})
    assert clerk.get("/staff/rectifications").status_code == 403
    assert clerk.get("/staff/ratings/stats").status_code == 403
    assert clerk.get("/staff/rectifications/1").status_code == 403


def test_viewing_a_rectification_is_audited_and_masks_numbers_in_the_comment(completed, citizen, staff_browser,
                                                                             db_session):
    from portal.ratings import operations as rating_ops

    from .conftest import SYSTEM

    comment = "太慢了，请打我电话13912345678"
    rect = rating_ops.rate_case(completed, rating_ops.RatingInput("dissatisfied", {}, comment), by=citizen,
                                actor=SYSTEM).rectification
    chief = staff_browser("kz3", {Role.CHIEF})
    page = chief.get(f"/staff/rectifications/{rect.id}")
    assert page.status_code == 200
    assert "139****5678" in page.get_data(as_text=True) and "13912345678" not in page.get_data(as_text=True)
    assert db_session.query(AuditEvent).filter_by(action="rectification.view", object_id=str(rect.id)).count() == 1


def test_the_statistics_page_shows_the_aggregates(completed, citizen, staff_browser):
    from portal.ratings import operations as rating_ops

    from .conftest import SYSTEM

    with clock.frozen(MOMENT):
        rating_ops.rate_case(completed, rating_ops.RatingInput("satisfied", {}, ""), by=citizen, actor=SYSTEM)
    page = staff_browser("kz4", {Role.CHIEF}).get("/staff/ratings/stats").get_data(as_text=True)
    assert "By item" in page and completed.item_name in page and "100.0%" in page and "2026-09" in page


def test_another_persons_case_cannot_be_rated(completed, make_citizen, web_login):
    browser = web_login(make_citizen("吴九"))
    assert browser.get(f"/applications/{completed.id}/rating").status_code == 404


def test_the_rating_api(completed, citizen, bearer, client):
    headers = bearer(citizen)
    url = f"/api/v1/applications/{completed.id}/rating"
    empty = client.get(url, headers=headers).get_json()
    assert empty["can_rate"] is True and empty["level"] is None and empty["rectification"] is None
    bad = client.put(url, headers=headers, json={"level": "great"})
    assert bad.status_code == 422 and "level" in bad.get_json()["error"]["fields"]
    answer = client.put(url, headers=headers, json={"level": "very_dissatisfied", "comment": "没人接电话",
                                                    "stages": {"acceptance": "dissatisfied"}})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["level"] == "very_dissatisfied" and body["stages"] == {"acceptance": "dissatisfied"}
    assert body["rectification"]["state"] == "open" and body["rectification"]["followup_note"] is None
    assert set(body) == {"can_rate", "reason", "level", "level_label", "stages", "comment", "rated_at",
                         "changeable_until", "rectification"}
    assert client.get("/api/v1/applications/999999/rating", headers=headers).status_code == 404
