"""Due dates of cases around the 2026 holidays and 调休 days, with the clock stopped while the applicant corrects.

Expected dates are written out, and also counted here independently with ``engine.is_workday`` (the
calendar's own day-by-day answer), so a change in either the counting or the calendar shows up. Times are
02:00 UTC, 10:00 in China, so the local date is the date written, except where a test crosses midnight on purpose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.applications import deadlines
from portal.applications import operations as ops
from portal.applications.constants import Defect, State
from portal.calendar import engine
from portal.catalog.schema import LimitKind
from portal.core import clock

from .conftest import INSTANT_ITEM, PROMISE_ITEM, SELF_SERVICE_ITEM, SYSTEM, UNIT_ITEM

ONE_DAY = timedelta(days=1)


def at(day: date, hour: int = 2) -> datetime:
    """``hour`` o'clock UTC on ``day``: 10:00 the same day in China for the default."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def count_workdays(first: date, last: date) -> int:
    """Working days from ``first`` to ``last``, both included, by asking the calendar about each day."""
    return sum(1 for d in days(first, last) if engine.is_workday(d))


def add_workdays(start: date, n: int, paused: tuple[date, date] | None = None) -> date:
    """The day on which ``n`` working days after ``start`` have passed, skipping a paused interval."""
    day = start
    while n:
        day += ONE_DAY
        if engine.is_workday(day) and not (paused and paused[0] <= day <= paused[1]):
            n -= 1
    return day


@pytest.fixture
def unit_case(make_case, agent):
    """A unit's case of a 5-working-day item, submitted on the given day."""

    def _make(submitted: date):
        with clock.frozen(at(submitted)):
            return make_case(UNIT_ITEM, agent)

    return _make


def accept(case, staff, day: date, hour: int = 2) -> None:
    with clock.frozen(at(day, hour)):
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)


def notify(case, staff, day: date):
    material = (case.item_code == UNIT_ITEM and "base_declaration") or "diagnosis"
    with clock.frozen(at(day)):
        return ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry(material, Defect.DEFECTIVE, "有误"),),
                                                            new_defect=bool(case.notices)),
                                      by=staff["reviewer"], actor=SYSTEM)


def resubmit(case, by, day: date) -> None:
    with clock.frozen(at(day)):
        listed = case.open_notice.material_ids
        ops.resubmit_application(case, ops.Resubmission(materials=dict.fromkeys(listed, "upload")), by=by,
                                 actor=SYSTEM)


# --- the 2026 calendar the tests rely on ----------------------------------------------------------------


@pytest.mark.parametrize(("day", "is_workday"), [
    (date(2026, 2, 14), True), (date(2026, 2, 15), False), (date(2026, 2, 23), False), (date(2026, 2, 24), True),
    (date(2026, 2, 28), True), (date(2026, 3, 1), False),  # 春节 Feb 15–23, 调休 Sat Feb 14 and Sat Feb 28
    (date(2026, 4, 26), False), (date(2026, 5, 1), False), (date(2026, 5, 5), False), (date(2026, 5, 9), True),
    (date(2026, 9, 20), True), (date(2026, 9, 25), False), (date(2026, 9, 27), False),  # 中秋 Sep 25–27
    (date(2026, 10, 1), False), (date(2026, 10, 7), False), (date(2026, 10, 10), True), (date(2026, 10, 11), False),
], ids=str)
def test_2026_calendar_as_the_tests_expect_it(day, is_workday):
    assert engine.is_workday(day) is is_workday


# --- acceptance around the holidays ---------------------------------------------------------------------


@pytest.mark.parametrize(("accepted", "due"), [
    (date(2026, 9, 30), date(2026, 10, 13)),  # DOMAIN.md: 国庆 10-01..07, Sat 10-10 works
    (date(2026, 9, 24), date(2026, 10, 9)),  # before 中秋 (09-25..27) and 国庆
    (date(2026, 2, 11), date(2026, 2, 25)),  # 02-12, 02-13, Sat 02-14, then 春节, 02-24, 02-25
    (date(2026, 2, 13), date(2026, 2, 27)),  # Sat 02-14, 02-24 … 02-27
    (date(2026, 2, 24), date(2026, 3, 2)),  # 02-25 … Sat 02-28, Mon 03-02
    (date(2026, 4, 30), date(2026, 5, 11)),  # 劳动节 05-01..05, Sat 05-09 works
    (date(2026, 4, 24), date(2026, 5, 6)),  # Sun 04-26 does not work in 2026
    (date(2025, 12, 31), date(2026, 1, 8)),  # 元旦 01-01..03, Sun 01-04 works
], ids=str)
def test_five_working_days_after_acceptance(accepted, due, unit_case, staff):
    case = unit_case(accepted)
    accept(case, staff, accepted)
    assert case.due_date == due == add_workdays(accepted, 5)
    assert case.events[-1].detail == {"due": due.isoformat()}
    assert count_workdays(accepted + ONE_DAY, due) == 5


def test_twenty_working_days_across_the_spring_festival(make_case, citizen, staff):
    with clock.frozen(at(date(2026, 2, 13))):
        case = make_case(PROMISE_ITEM, citizen)
    accept(case, staff, date(2026, 2, 13))
    assert case.due_date == add_workdays(date(2026, 2, 13), 20) == date(2026, 3, 19)


def test_acceptance_counts_in_the_local_date(unit_case, staff):
    case = unit_case(date(2026, 10, 9))
    accept(case, staff, date(2026, 10, 9), hour=16)  # 00:00 on Sat 10-10 in China, a 调休 working day
    assert clock.to_local(case.accepted_at).date() == date(2026, 10, 10)
    assert case.due_date == add_workdays(date(2026, 10, 10), 5) == date(2026, 10, 16)


@pytest.mark.parametrize(("submitted", "hour", "accept_by"), [
    (date(2026, 2, 13), 2, date(2026, 2, 27)),
    (date(2026, 2, 13), 17, date(2026, 2, 28)),  # 01:00 on Sat 02-14 in China: counted from that 调休 day
    (date(2026, 9, 28), 2, date(2026, 10, 10)),
], ids=str)
def test_accept_by_is_five_working_days_after_submission(submitted, hour, accept_by, make_case, agent):
    with clock.frozen(at(submitted, hour)):
        case = make_case(UNIT_ITEM, agent)
    local = clock.to_local(case.submitted_at).date()
    assert case.accept_by == accept_by == add_workdays(local, deadlines.ACCEPT_WITHIN_WORKING_DAYS)


def test_a_notice_before_acceptance_gives_the_agency_its_days_again_from_the_corrected_filing(
        make_case, agent, staff):
    with clock.frozen(at(date(2026, 2, 13))):
        case = make_case(UNIT_ITEM, agent)
    notify(case, staff, date(2026, 2, 24))
    resubmit(case, agent, date(2026, 3, 2))
    assert case.accept_by == add_workdays(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert case.events[-1].detail == {"accept_by": "2026-03-09"}
    assert case.due_date is None


# --- the clock stops while the applicant corrects -------------------------------------------------------


@pytest.mark.parametrize(("accepted", "noticed", "resubmitted"), [
    (date(2026, 9, 30), date(2026, 10, 9), date(2026, 10, 14)),  # over Sat 10-10 (a working day)
    (date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 8)),  # over 国庆: only 09-30 was a working day
    (date(2026, 2, 11), date(2026, 2, 13), date(2026, 2, 25)),  # over 春节 and its 调休 Saturday
    (date(2026, 4, 29), date(2026, 4, 30), date(2026, 5, 7)),  # over 劳动节
    (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)),  # one ordinary working day
], ids=str)
def test_notice_during_review_moves_the_due_date_by_the_paused_working_days(accepted, noticed, resubmitted,
                                                                             unit_case, staff, agent):
    case = unit_case(accepted)
    accept(case, staff, accepted)
    with clock.frozen(at(accepted)):
        ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    due_before = case.due_date
    notice = notify(case, staff, noticed)
    assert notice.pauses_clock
    resubmit(case, agent, resubmitted)

    paused = count_workdays(noticed, resubmitted - ONE_DAY)  # the notice's day up to the day before resubmission
    assert case.paused_working_days == paused
    assert case.due_date == add_workdays(due_before, paused)
    assert case.due_date == add_workdays(accepted, 5, paused=(noticed, resubmitted - ONE_DAY))
    assert case.events[-1].detail == {
        "shift_days": paused, "shift_unit": "working_days", "paused_from": noticed.isoformat(),
        "paused_to": resubmitted.isoformat(), "due_before": due_before.isoformat(),
        "due_after": case.due_date.isoformat(),
    }
    with clock.frozen(at(resubmitted)):
        ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    assert case.state == State.UNDER_REVIEW


def test_pause_over_national_day_adds_one_working_day_not_eight_days(unit_case, staff, agent):
    case = unit_case(date(2026, 9, 29))
    accept(case, staff, date(2026, 9, 29))
    assert case.due_date == date(2026, 10, 12)
    notify(case, staff, date(2026, 9, 30))
    resubmit(case, agent, date(2026, 10, 8))
    assert (case.paused_working_days, case.due_date) == (1, date(2026, 10, 13))


def test_pause_inside_a_holiday_adds_nothing(unit_case, staff, agent):
    case = unit_case(date(2026, 9, 30))
    accept(case, staff, date(2026, 9, 30))
    notify(case, staff, date(2026, 10, 2))
    resubmit(case, agent, date(2026, 10, 8))
    assert (case.paused_working_days, case.due_date) == (0, date(2026, 10, 13))
    assert case.events[-1].detail["shift_days"] == 0


def test_resubmission_on_the_day_of_the_notice_pauses_nothing(unit_case, staff, agent):
    case = unit_case(date(2026, 3, 2))
    accept(case, staff, date(2026, 3, 2))
    notify(case, staff, date(2026, 3, 3))
    resubmit(case, agent, date(2026, 3, 3))
    assert (case.paused_working_days, case.due_date) == (0, date(2026, 3, 9))


def test_notice_on_the_day_of_acceptance_pauses_only_days_the_clock_counts(unit_case, staff, agent):
    case = unit_case(date(2026, 3, 2))
    accept(case, staff, date(2026, 3, 2))  # due 03-09; the day of acceptance itself never counts
    notify(case, staff, date(2026, 3, 2))
    resubmit(case, agent, date(2026, 3, 4))  # paused 03-02 and 03-03: only 03-03 was a counted day
    assert case.paused_working_days == 1 == case.events[-1].detail["shift_days"]
    assert case.due_date == date(2026, 3, 10)


def test_pauses_of_two_notices_add_up(unit_case, staff, agent):
    case = unit_case(date(2026, 3, 2))
    accept(case, staff, date(2026, 3, 2))
    notify(case, staff, date(2026, 3, 3))
    resubmit(case, agent, date(2026, 3, 5))  # paused 03-03, 03-04
    notify(case, staff, date(2026, 3, 6))
    resubmit(case, agent, date(2026, 3, 10))  # paused 03-06, (weekend), 03-09
    assert case.paused_working_days == 4
    assert case.events[-1].detail["shift_days"] == 2
    assert case.due_date == add_workdays(date(2026, 3, 9), 4) == date(2026, 3, 13)


def test_notice_before_acceptance_does_not_stop_a_clock_that_has_not_started(unit_case, staff, agent):
    case = unit_case(date(2026, 9, 21))
    notice = notify(case, staff, date(2026, 9, 22))
    resubmit(case, agent, date(2026, 9, 29))
    accept(case, staff, date(2026, 9, 30))
    assert not notice.pauses_clock and case.paused_working_days == 0
    assert case.due_date == date(2026, 10, 13)


def test_open_notice_after_acceptance_pauses_the_flags(unit_case, staff):
    case = unit_case(date(2026, 9, 30))
    accept(case, staff, date(2026, 9, 30))
    notify(case, staff, date(2026, 10, 9))
    with clock.frozen(at(date(2026, 10, 20))):  # past the old due date, but the clock is stopped
        flags = deadlines.flags(case.due_date, is_closed=case.is_closed,
                                is_paused=case.state == State.CORRECTION_REQUESTED)
    assert flags == deadlines.Flags(False, False, None)


# --- limits in natural days and months ------------------------------------------------------------------


def test_natural_day_limit_counts_calendar_days_and_pauses_in_calendar_days(unit_case, staff, agent):
    case = unit_case(date(2026, 9, 30))
    case.limit_kind, case.limit_value = LimitKind.natural_days.value, 10
    accept(case, staff, date(2026, 9, 30))
    assert case.due_date == date(2026, 10, 10)  # holidays count in natural days
    notify(case, staff, date(2026, 10, 2))
    resubmit(case, agent, date(2026, 10, 6))  # paused 10-02 … 10-05: four days
    assert (case.paused_working_days, case.due_date) == (4, date(2026, 10, 14))
    assert case.events[-1].detail["shift_unit"] == "days"


def test_month_limit_on_a_case(unit_case, staff, agent):
    case = unit_case(date(2026, 11, 30))
    case.limit_kind, case.limit_value = LimitKind.months.value, 3
    accept(case, staff, date(2026, 11, 30))
    assert case.due_date == date(2027, 2, 28)


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 12, 31), 2, date(2027, 2, 28)),
    (date(2026, 11, 15), 3, date(2027, 2, 15)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2026, 5, 20), 12, date(2027, 5, 20)),
    (date(2026, 5, 20), 25, date(2028, 6, 20)),
    (date(2026, 5, 20), 0, date(2026, 5, 20)),
], ids=str)
def test_add_months_keeps_the_day_or_takes_the_months_last(start, months, expected):
    assert deadlines.add_months(start, months) == expected


@pytest.mark.parametrize(("kind", "value", "paused", "expected"), [
    ("natural_days", 10, [], date(2026, 10, 10)),
    ("natural_days", 10, [(date(2026, 10, 2), date(2026, 10, 5))], date(2026, 10, 14)),
    ("natural_days", 10, [(date(2026, 9, 30), date(2026, 10, 1))], date(2026, 10, 11)),  # acceptance day: no count
    ("natural_days", 10, [(date(2026, 10, 10), date(2026, 10, 12))], date(2026, 10, 13)),  # straddles the due date
    ("natural_days", 10, [(date(2026, 10, 12), date(2026, 10, 20))], date(2026, 10, 10)),  # after it: no effect
    ("months", 1, [], date(2026, 10, 30)),
    ("months", 1, [(date(2026, 10, 1), date(2026, 10, 7))], date(2026, 11, 6)),
    ("working_days", 5, [(date(2026, 10, 1), date(2026, 10, 7))], date(2026, 10, 13)),
    ("working_days", 5, [(date(2026, 10, 8), date(2026, 10, 9))], date(2026, 10, 15)),
    ("working_days", 5, [(date(2026, 10, 20), date(2026, 10, 22))], date(2026, 10, 13)),
], ids=str)
def test_due_date_of_every_counted_kind_with_pauses(kind, value, paused, expected):
    accepted = date(2026, 9, 30)
    assert deadlines.due_date(kind, value, accepted, paused) == expected
    plain = deadlines.due_date(kind, value, accepted)
    moved = (engine.working_days_between(plain, expected) if kind == "working_days" else (expected - plain).days)
    assert deadlines.paused_days(kind, value, paused, accepted) == moved


@pytest.mark.parametrize("kind", [LimitKind.immediate, LimitKind.same_day])
def test_immediate_and_same_day_limits_are_due_on_the_day_of_acceptance(kind):
    assert deadlines.due_date(kind.value, None, date(2026, 10, 1)) == date(2026, 10, 1)
    assert deadlines.paused_days(kind.value, None, [(date(2026, 10, 1), date(2026, 10, 3))], date(2026, 10, 1)) == 0


def test_no_limit_has_no_due_date():
    assert deadlines.due_date(LimitKind.none.value, None, date(2026, 3, 2)) is None
    assert deadlines.paused_days(LimitKind.none.value, None, [(date(2026, 3, 3), date(2026, 3, 4))],
                                 date(2026, 3, 2)) == 0


def test_working_day_limit_without_a_value_is_due_at_acceptance():
    assert deadlines.due_date("working_days", None, date(2026, 3, 2)) == date(2026, 3, 2)


def test_same_day_item_is_due_the_day_it_is_accepted(make_case, citizen, staff):
    with clock.frozen(at(date(2026, 9, 30))):
        case = make_case(INSTANT_ITEM, citizen)  # 当日办结
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert case.due_date == date(2026, 9, 30)


def test_self_service_item_is_due_and_done_on_the_day(make_case, citizen):
    with clock.frozen(at(date(2026, 10, 1))):  # even on a holiday: the portal answers at once
        case = make_case(SELF_SERVICE_ITEM, citizen)
    assert case.due_date == date(2026, 10, 1) and case.state == State.COMPLETED


def test_case_of_an_item_without_limit_has_no_due_date(unit_case, staff):
    case = unit_case(date(2026, 3, 2))
    case.limit_kind, case.limit_value = LimitKind.none.value, None
    accept(case, staff, date(2026, 3, 2))
    assert case.due_date is None and case.events[-1].detail == {"due": None}


# --- pause intervals, the correction deadline -----------------------------------------------------------


def test_pause_runs_from_the_notice_to_the_day_before_resubmission():
    assert deadlines.pause_interval(date(2026, 3, 3), date(2026, 3, 5)) == (date(2026, 3, 3), date(2026, 3, 4))
    assert deadlines.pause_interval(date(2026, 3, 3), date(2026, 3, 4)) == (date(2026, 3, 3), date(2026, 3, 3))
    assert deadlines.pause_interval(date(2026, 3, 3), date(2026, 3, 3)) is None


def test_open_pause_runs_to_today():
    with clock.frozen(at(date(2026, 3, 6))):
        assert deadlines.pause_interval(date(2026, 3, 3), None) == (date(2026, 3, 3), date(2026, 3, 6))
    assert deadlines.pause_interval(date(2026, 3, 3), None, today=date(2026, 3, 2)) is None


def test_correction_deadline_counts_working_days_from_the_notice():
    assert deadlines.correction_due(date(2026, 9, 30), 15) == add_workdays(date(2026, 9, 30), 15) == date(2026, 10, 27)


# --- overdue and due-soon flags -------------------------------------------------------------------------


@pytest.mark.parametrize(("today", "overdue", "soon", "left"), [
    (date(2026, 9, 30), False, False, 5),
    (date(2026, 10, 9), False, False, 3),  # 10-10 (Sat, works), 10-12, 10-13
    (date(2026, 10, 10), False, True, 2),
    (date(2026, 10, 11), False, True, 2),  # a Sunday
    (date(2026, 10, 13), False, True, 0),  # the due date itself
    (date(2026, 10, 14), True, False, -1),
    (date(2026, 10, 20), True, False, -5),
], ids=str)
def test_flags_with_a_frozen_clock(today, overdue, soon, left):
    with clock.frozen(at(today)):
        flags = deadlines.flags(date(2026, 10, 13), is_closed=False, is_paused=False)
    assert flags == deadlines.Flags(overdue, soon, left)


@pytest.mark.parametrize(("closed", "paused"), [(True, False), (False, True)])
def test_closed_or_paused_case_is_neither_overdue_nor_due_soon(closed, paused):
    flags = deadlines.flags(date(2026, 10, 13), is_closed=closed, is_paused=paused, today=date(2026, 12, 1))
    assert flags == deadlines.Flags(False, False, None)


def test_case_without_due_date_has_no_flags():
    assert deadlines.flags(None, is_closed=False, is_paused=False, today=date(2026, 3, 2)) == deadlines.Flags(
        False, False, None)


def test_accepted_case_becomes_overdue_on_the_working_day_after_its_due_date(unit_case, staff):
    case = unit_case(date(2026, 9, 30))
    accept(case, staff, date(2026, 9, 30))
    with clock.frozen(at(date(2026, 10, 13))):
        assert not deadlines.flags(case.due_date, is_closed=case.is_closed, is_paused=False).is_overdue
    with clock.frozen(at(date(2026, 10, 13), hour=16)):  # 00:00 on 10-14 in China
        assert deadlines.flags(case.due_date, is_closed=case.is_closed, is_paused=False).is_overdue
