"""好差评: one rating per completed case, changeable within the window, tied to the staff who handled it; a bad
rating opens a rectification that a section chief checks, rectifies and follows up within working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.notifications.constants import Event
from portal.notifications.models import Notification
from portal.ratings import operations as rating_ops
from portal.ratings import stats
from portal.ratings.constants import Level, RectState
from portal.ratings.models import Rating

from .conftest import SYSTEM

MOMENT = datetime(2026, 9, 30, 10, 0)  # Wednesday before the National Day holiday


def _rate(case, level, *, by, comment="", stages=None):
    return rating_ops.rate_case(case, rating_ops.RatingInput(level, stages or {}, comment), by=by, actor=SYSTEM)


@pytest.fixture
def completed(case_in):
    with clock.frozen(MOMENT):
        return case_in("completed")


def test_the_applicant_rates_a_completed_case_once_tied_to_the_staff_who_handled_it(completed, citizen, staff):
    with clock.frozen(MOMENT):
        rating = _rate(completed, "satisfied", by=citizen, stages={"acceptance": "very_satisfied", "review": ""})
    assert rating.level == Level.SATISFIED and rating.score == 4
    assert rating.acceptance_level == "very_satisfied" and rating.review_level is None
    assert {s.staff_id for s in rating.staff} == {staff["acceptor"].id, staff["reviewer"].id, staff["finance"].id}
    assert rating.rated_month == "2026-09" and rating.rectification is None
    assert rating.agency  # the accepting agency, for the statistics


def test_the_rating_can_be_changed_within_the_window_only(completed, citizen, app, db_session):
    with clock.frozen(MOMENT) as frozen:
        first = _rate(completed, "basically_satisfied", by=citizen)
        frozen.tick(timedelta(days=6))
        again = _rate(completed, "very_satisfied", by=citizen)
        assert again.id == first.id and again.level == "very_satisfied"
        assert db_session.execute(select(Rating).where(Rating.application_id == completed.id)).scalars().all() == \
            [first]
        frozen.tick(timedelta(days=2))
        with pytest.raises(InvalidTransition, match="can no longer be changed"):
            _rate(completed, "dissatisfied", by=citizen, comment="太慢")


def test_only_the_applicant_of_a_completed_case_rates_it(case_in, make_citizen, citizen):
    with clock.frozen(MOMENT):
        pending = case_in("under_review")
        done = case_in("completed")
    with pytest.raises(InvalidTransition, match="once it is completed"):
        _rate(pending, "satisfied", by=citizen)
    with pytest.raises(NotFound):
        _rate(done, "satisfied", by=make_citizen("周八"))


def test_bad_input_says_what_is_wrong(completed, citizen):
    with pytest.raises(ValidationFailed) as caught:
        _rate(completed, "meh", by=citizen, stages={"review": "great", "lunch": "satisfied"})
    fields = caught.value.fields
    assert "level" in fields and "stage_review" in fields and "stage_lunch" in fields
    with pytest.raises(ValidationFailed) as caught:
        _rate(completed, "very_dissatisfied", by=citizen)
    assert "comment" in caught.value.fields  # a bad rating says what went wrong


@pytest.mark.parametrize("level", ["dissatisfied", "very_dissatisfied"])
def test_a_bad_rating_opens_a_rectification_due_in_working_days(completed, citizen, staff, level, db_session):
    with clock.frozen(MOMENT):
        rating = _rate(completed, level, by=citizen, comment="窗口态度差")
    rect = rating.rectification
    assert rect.state == RectState.OPEN
    assert rect.due_date == date(2026, 10, 27)  # 15 working days after 09-30: 10-01…07 off, Sat 10-10 worked
    [alert] = db_session.execute(select(Notification).where(Notification.account_id == staff["chief"].id)).scalars()
    assert alert.event == Event.RECTIFICATION_OPENED and alert.context["number"] == completed.number
    assert [d.channel for d in alert.deliveries] == ["inbox"]


@pytest.mark.parametrize("level", ["very_satisfied", "satisfied", "basically_satisfied"])
def test_a_good_rating_opens_nothing(completed, citizen, level):
    assert _rate(completed, level, by=citizen).rectification is None


def test_a_true_complaint_is_checked_rectified_and_followed_up(completed, citizen, staff, db_session):
    chief = staff["chief"]
    with clock.frozen(MOMENT):
        rect = _rate(completed, "dissatisfied", by=citizen, comment="等了很久").rectification
        with pytest.raises(InvalidTransition):
            rating_ops.rectify(rect, "提前", by=chief, actor=SYSTEM)  # not before the check
        finding = rating_ops.CheckInput(True, "经核实，审核环节超时")
        rating_ops.check_rectification(rect, finding, by=chief, actor=SYSTEM)
        assert rect.state == RectState.RECTIFYING and rect.is_substantiated is True
        rating_ops.rectify(rect, "已对审核人员提醒并优化流程", by=chief, actor=SYSTEM)
        assert rect.state == RectState.FOLLOW_UP
        rating_ops.follow_up(rect, rating_ops.FollowUpInput("电话回访，已说明整改情况", "satisfied"), by=chief,
                             actor=SYSTEM)
    assert rect.state == RectState.CLOSED and rect.closed_on == date(2026, 9, 30) and rect.is_on_time
    done = db_session.execute(select(Notification).where(Notification.account_id == citizen.id,
                                                         Notification.event == "rectification_done")).scalar_one()
    assert done.application_id == completed.id and done.context["outcome"] == "电话回访，已说明整改情况"


def test_an_untrue_complaint_goes_straight_to_the_follow_up(completed, citizen, staff):
    with clock.frozen(MOMENT):
        rect = _rate(completed, "very_dissatisfied", by=citizen, comment="不满意").rectification
        rating_ops.check_rectification(rect, rating_ops.CheckInput(False, "经调阅记录，按时办结"), by=staff["chief"],
                                       actor=SYSTEM)
    assert rect.state == RectState.FOLLOW_UP and rect.is_substantiated is False
    with pytest.raises(InvalidTransition):
        rating_ops.rectify(rect, "无", by=staff["chief"], actor=SYSTEM)


def test_only_a_chief_who_did_not_handle_the_case_works_its_rectification(completed, citizen, staff, make_staff):

    with clock.frozen(MOMENT):
        rect = _rate(completed, "dissatisfied", by=citizen, comment="慢").rectification
    with pytest.raises(PermissionDenied):
        rating_ops.check_rectification(rect, rating_ops.CheckInput(True, "x"), by=staff["reviewer"], actor=SYSTEM)
    rect.rating.staff[0].staff_id = staff["chief"].id  # as if the chief had handled it
    with pytest.raises(PermissionDenied, match="another section chief"):
        rating_ops.check_rectification(rect, rating_ops.CheckInput(True, "x"), by=staff["chief"], actor=SYSTEM)


def test_a_step_without_its_note_is_refused(completed, citizen, staff):
    with clock.frozen(MOMENT):
        rect = _rate(completed, "dissatisfied", by=citizen, comment="慢").rectification
    with pytest.raises(ValidationFailed) as caught:
        rating_ops.check_rectification(rect, rating_ops.CheckInput(None, ""), by=staff["chief"], actor=SYSTEM)
    assert "substantiated" in caught.value.fields
    with pytest.raises(ValidationFailed):
        rating_ops.check_rectification(rect, rating_ops.CheckInput(True, "  "), by=staff["chief"], actor=SYSTEM)
    assert rect.state == RectState.OPEN


def test_statistics_per_item_agency_staff_and_month(case_in, citizen, staff):
    with clock.frozen(MOMENT):
        cases = [case_in("completed") for _ in range(3)] + [case_in("completed", "money")]
        _rate(cases[0], "very_satisfied", by=citizen)
        _rate(cases[1], "satisfied", by=citizen)
        late = _rate(cases[2], "very_dissatisfied", by=citizen, comment="差").rectification
        on_time = _rate(cases[3], "dissatisfied", by=citizen, comment="慢").rectification
        rating_ops.check_rectification(on_time, rating_ops.CheckInput(False, "不属实"), by=staff["chief"], actor=SYSTEM)
        rating_ops.follow_up(on_time, rating_ops.FollowUpInput("已回访", "satisfied"), by=staff["chief"], actor=SYSTEM)
    with clock.frozen(datetime(2026, 11, 20, 10, 0)):
        rating_ops.check_rectification(late, rating_ops.CheckInput(True, "属实"), by=staff["chief"], actor=SYSTEM)
        rating_ops.rectify(late, "已整改", by=staff["chief"], actor=SYSTEM)
        rating_ops.follow_up(late, rating_ops.FollowUpInput("已回访", "not_satisfied"), by=staff["chief"], actor=SYSTEM)

    items = {r.key: r for r in stats.by_item()}
    promise = items[cases[0].item_code]
    assert (promise.count, promise.satisfied, promise.bad, promise.mean_score) == (3, 2, 1, 3.33)
    assert items[cases[3].item_code].bad == 1
    [month] = stats.by_month()
    assert (month.key, month.count, month.bad) == ("2026-09", 4, 2) and month.satisfaction == 0.5
    per_staff = {r.key: r for r in stats.by_staff()}
    assert per_staff["tacceptor"].count == 4 and per_staff["tfinance"].count == 4
    assert sum(r.count for r in stats.by_agency()) == 4
    figures = stats.rectification_figures(date(2026, 11, 20))
    assert (figures.opened, figures.closed, figures.closed_on_time, figures.substantiated) == (2, 2, 1, 1)
    assert figures.on_time_rate == 0.5
