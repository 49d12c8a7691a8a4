"""The holiday-schedule screen (administrators) and the staff banner; every page is read under a frozen clock."""

from datetime import date, datetime
from pathlib import Path

import pytest

from portal.accounts.models import Role
from portal.calendar import engine, schedules
from portal.core import clock
from tests.applications.conftest import SYSTEM
from tests.conftest import csrf_from

FAKE_2027 = (Path(__file__).parents[1] / "calendar" / "notices" / "FAKE-2027.txt").read_text(encoding="utf-8")
pytestmark = pytest.mark.skipif(engine.library_covers(2027),
                                reason="these dates assume chinesecalendar lacks 2027")


@pytest.fixture
def november():
    with clock.frozen(datetime(2026, 11, 2, 9)):
        yield


def test_only_administrators_open_the_screen(browser_as, november):
    clerk, _a = browser_as("calclerk", Role.ACCEPTOR)
    assert clerk.get("/staff/calendar/").status_code == 403
    admin, _b = browser_as("caladmin", Role.ADMIN)
    page = admin.get("/staff/calendar/")
    assert page.status_code == 200
    assert 'id="calendar-banner"' in page.get_data(as_text=True)


def test_preview_shows_a_month_grid_and_apply_imports(browser_as, november):
    admin, _b = browser_as("caladmin2", Role.ADMIN)
    token = csrf_from(admin.get("/staff/calendar/").get_data(as_text=True))
    preview = admin.post("/staff/calendar/preview", data={"csrf_token": token, "year": "2027", "text": FAKE_2027})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert 'class="off special" data-day="2027-02-08"' in html  # a Spring-Festival weekday
    assert 'class="work special" data-day="2027-02-20"' in html  # the 调休 Saturday
    assert engine.coverage(2027).source is engine.Source.FALLBACK  # a preview saves nothing
    applied = admin.post("/staff/calendar/apply", data={"csrf_token": token, "year": "2027", "text": FAKE_2027})
    assert applied.status_code == 302
    assert engine.coverage(2027).source is engine.Source.IMPORT and not engine.is_workday(date(2027, 2, 8))
    listed = admin.get("/staff/calendar/").get_data(as_text=True)
    assert 'id="calendar-banner"' not in listed and 'id="coverage-2027"' in listed
    deleted = admin.post("/staff/calendar/2027/delete", data={"csrf_token": token})
    assert deleted.status_code == 302 and engine.coverage(2027).source is engine.Source.FALLBACK


def test_bad_text_is_answered_on_the_page_and_saves_nothing(browser_as, november):
    admin, _b = browser_as("caladmin3", Role.ADMIN)
    token = csrf_from(admin.get("/staff/calendar/").get_data(as_text=True))
    response = admin.post("/staff/calendar/apply", data={"csrf_token": token, "year": "2027",
                                                         "text": "一、元旦：1月1日（周四）放假。"})
    assert response.status_code == 422
    assert "不是" in response.get_data(as_text=True)
    assert engine.coverage(2027).source is engine.Source.FALLBACK


@pytest.mark.parametrize(("today", "shown"), [(datetime(2026, 10, 31, 9), False), (datetime(2026, 11, 1, 9), True)])
def test_the_workbench_banner_appears_from_the_first_of_november(browser_as, today, shown):
    with clock.frozen(today):
        clerk, _a = browser_as(f"calclerk{today.day}", Role.ACCEPTOR)
        html = clerk.get("/staff/queues/intake").get_data(as_text=True)
    assert ('id="calendar-banner"' in html) is shown
    if shown:
        assert "2027" in html


def test_queue_marks_a_due_date_in_an_unknown_year_as_estimated(browser_as, case_in):
    with clock.frozen(datetime(2026, 12, 28, 10)):  # 5 working days to accept run into 2027
        case = case_in("submitted", "promise")
        clerk, _a = browser_as("calclerk9", Role.ACCEPTOR)
        html = clerk.get("/staff/queues/intake").get_data(as_text=True)
        schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
        after = clerk.get("/staff/queues/intake").get_data(as_text=True)
    row = html[html.index(f'data-case="{case.id}"'):]
    assert 'class="tag tag-info estimated"' in row[:row.index("</tr>")]
    row = after[after.index(f'data-case="{case.id}"'):]
    assert 'class="tag tag-info estimated"' not in row[:row.index("</tr>")]
