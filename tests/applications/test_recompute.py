"""Importing a year's holiday schedule recounts the stored deadlines of open cases (issue 16).

The schedule is tests/calendar/notices/FAKE-2027.txt: an invented notice (元旦 1–3 Jan, 春节 5–13 Feb, 调休
Sat 20 Feb, …), not the State Council's. Every verdict is taken under a frozen clock.
"""

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.applications.constants import Action, State
from portal.applications.models import ApplicationEvent
from portal.calendar import engine, schedules
from portal.core import clock
from portal.core.db import db
from portal.notifications.constants import Event
from portal.notifications.models import Notification
from tests.applications.conftest import SYSTEM
from tests.applications.test_api import api_for  # noqa: F401 (a fixture)

FAKE_2027 = (Path(__file__).parents[1] / "calendar" / "notices" / "FAKE-2027.txt").read_text(encoding="utf-8")
pytestmark = pytest.mark.skipif(engine.library_covers(2027),
                                reason="these dates assume chinesecalendar lacks 2027")


@pytest.fixture
def in_2027():
    with clock.frozen(datetime(2027, 1, 20, 10)):
        yield


def moved_events(case) -> list[ApplicationEvent]:
    return [e for e in case.events if e.action == Action.DEADLINE_MOVED.value]


def messages_of(case) -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.application_id == case.id, Notification.event == Event.DEADLINE_MOVED.value)).scalar_one()


def test_import_moves_open_deadlines_once_and_leaves_closed_cases(case_in, in_2027):
    accepted = case_in("accepted", "money")  # 22 working days from Wed 2027-01-20
    waiting = case_in("submitted", "promise")  # 5 working days to accept
    correcting = case_in("correction_requested", "promise", accepted=True)
    done = case_in("completed", "promise")
    assert accepted.due_date == date(2027, 2, 19)  # Monday to Friday
    assert engine.day_info(date(2027, 2, 8)).is_estimated and engine.is_workday(date(2027, 2, 8))
    assert waiting.accept_by == date(2027, 1, 27)
    done_due, respond_before = done.due_date, correcting.open_notice.respond_by

    applied = schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
    db.session.flush()

    assert not applied.unchanged and date(2027, 2, 8) in applied.changed
    assert engine.coverage(2027).source is engine.Source.IMPORT
    assert not engine.is_workday(date(2027, 2, 8)) and not engine.day_info(date(2027, 2, 8)).is_estimated
    assert engine.is_workday(date(2027, 2, 20))  # the 调休 Saturday
    assert accepted.due_date == date(2027, 2, 26)
    assert waiting.accept_by == date(2027, 1, 27)  # its 5 working days end before the changed days
    assert correcting.open_notice.respond_by >= respond_before
    assert done.due_date == done_due and moved_events(done) == []
    [event] = moved_events(accepted)
    assert event.detail["moved"]["due_date"] == {"before": "2027-02-19", "after": "2027-02-26"}
    assert event.detail["due"] == "2027-02-26"  # shown on the timeline as "Due by 2027-02-26"
    assert event.from_state == event.to_state == State.ACCEPTED.value
    assert messages_of(accepted) == 1
    assert accepted.work_due == date(2027, 2, 26)  # the workbench queue follows

    again = schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
    db.session.flush()
    assert again.unchanged and again.changed == []
    assert len(moved_events(accepted)) == 1 and messages_of(accepted) == 1


def test_accept_by_moves_when_the_holiday_falls_inside_it(case_in):
    with clock.frozen(datetime(2027, 2, 1, 10)):
        waiting = case_in("submitted", "promise")
        assert waiting.accept_by == date(2027, 2, 8)
        schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
        db.session.flush()
    assert waiting.accept_by == date(2027, 2, 16)
    assert moved_events(waiting)[0].detail["moved"]["accept_by"]["after"] == "2027-02-16"
    assert messages_of(waiting) == 1


def test_deleting_the_schedule_moves_them_back(case_in, in_2027):
    accepted = case_in("accepted", "money")
    schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
    schedules.delete_schedule(2027, actor=SYSTEM)
    db.session.flush()
    assert accepted.due_date == date(2027, 2, 19)
    assert engine.coverage(2027).source is engine.Source.FALLBACK
    assert len(moved_events(accepted)) == 2


def test_a_single_day_entered_by_hand_does_not_cover_the_year(in_2027):
    schedules.set_day(date(2027, 1, 1), is_workday=False, name="元旦", actor=SYSTEM)
    assert engine.coverage(2027).source is engine.Source.FALLBACK
    assert engine.day_info(date(2027, 2, 8)).is_estimated  # a Spring-Festival weekday stays an estimate


def test_estimated_dates_are_flagged_in_the_api_case_page_and_receipt(case_in, citizen, api_for, make_client,  # noqa: F811
                                                                       db_session):
    from tests.applications.test_api import BASE
    from tests.applications.test_views import login, page_of

    with clock.frozen(datetime(2027, 1, 20, 10)):
        case = case_in("accepted", "money")
        api = api_for(citizen)
        body = api.get(f"{BASE}/{case.id}").get_json()
        receipt = api.get(f"{BASE}/{case.id}/receipt").get_json()
        browser = login(make_client(), db_session, citizen.phone)
        browser.set_cookie("lang", "zh_Hans_CN")
        html = page_of(browser, f"/applications/{case.id}")
        slip = page_of(browser, f"/applications/{case.id}/receipt")
    assert body["due_date"] == "2027-02-19" and body["is_estimated"] is True
    assert "2027" in body["estimate_reason"]
    assert receipt["is_estimated"] is True and receipt["estimate_reason"] == body["estimate_reason"]
    assert 'id="estimated-note"' in html and "按周一至周五估算，待国务院公布节假日安排后更新" in html
    assert "按周一至周五估算，待国务院公布节假日安排后更新" in slip

    with clock.frozen(datetime(2027, 1, 20, 10, 5)):
        schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
        db_session.commit()
        body = api.get(f"{BASE}/{case.id}").get_json()
        html = page_of(browser, f"/applications/{case.id}")
    assert body["due_date"] == "2027-02-26" and body["is_estimated"] is False and body["estimate_reason"] is None
    assert 'id="estimated-note"' not in html
    assert "办理时限因节假日安排调整" in html  # the timeline entry, with the new date under it


def test_the_qr_progress_and_my_cases_list_flag_estimated_dates(case_in, citizen, api_for, make_client,  # noqa: F811
                                                                 db_session):
    from portal.applications.operations import issue_progress_token
    from tests.applications.test_api import BASE
    from tests.applications.test_views import login, page_of

    with clock.frozen(datetime(2027, 1, 20, 10)):
        case = case_in("accepted", "money")  # due 2027-02-19, counted Monday to Friday
        done = case_in("completed", "promise")  # its dates are history: never flagged
        token = issue_progress_token(case)
        db_session.commit()
        public = make_client()
        public.set_cookie("lang", "zh_Hans_CN")
        shown = public.get(f"/api/v1/progress/{token}").get_json()
        qr_page = page_of(public, f"/q/{token}")
        listed = {c["id"]: c for c in api_for(citizen).get(BASE).get_json()["items"]}
        browser = login(make_client(), db_session, citizen.phone)
        browser.set_cookie("lang", "zh_Hans_CN")
        mine = page_of(browser, "/applications/")
    assert shown["due_date"] == "2027-02-19" and shown["is_estimated"] is True and "2027" in shown["estimate_reason"]
    assert listed[case.id]["is_estimated"] is True and "2027" in listed[case.id]["estimate_reason"]
    assert listed[done.id]["is_estimated"] is False and listed[done.id]["estimate_reason"] is None
    for html in (qr_page, mine):
        assert 'id="estimated-note"' in html and "2027" in html
        assert "按周一至周五估算，待国务院公布节假日安排后更新" in html
    assert mine.count('class="tag tag-info estimated"') == 1  # the open case's due date, not the completed one's

    with clock.frozen(datetime(2027, 1, 20, 10, 5)):
        schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
        db_session.commit()
        shown = public.get(f"/api/v1/progress/{token}").get_json()
        qr_page = page_of(public, f"/q/{token}")
        listed = {c["id"]: c for c in api_for(citizen).get(BASE).get_json()["items"]}
        mine = page_of(browser, "/applications/")
    assert shown["due_date"] == "2027-02-26" and shown["is_estimated"] is False and shown["estimate_reason"] is None
    assert listed[case.id]["is_estimated"] is False
    assert 'id="estimated-note"' not in qr_page and 'id="estimated-note"' not in mine


def test_a_progress_page_does_not_read_the_calendar_for_every_view(app, case_in, make_client, db_session):
    """Whether a year is estimated is kept for the day once a page has asked (calendar.engine.kept_for_display): the
    second view of a QR progress page sends no calendar statement, and still says its dates are estimated."""
    from portal.applications.operations import issue_progress_token
    from tests.factories import sent_statements

    with clock.frozen(datetime(2027, 1, 20, 10)):
        case = case_in("accepted", "money")
        token = issue_progress_token(case)
        db_session.commit()
        public = make_client()
        first_status, first = sent_statements(app, public, f"/q/{token}")
        status, again = sent_statements(app, public, f"/q/{token}")
        page = public.get(f"/q/{token}").get_data(as_text=True)
    assert first_status == status == 200
    assert any("calendar_" in s for s in first)
    assert not [s for s in again if "calendar_" in s], again
    assert 'id="estimated-note"' in page
