"""An open rectification's due date follows an imported holiday schedule; a closed one is never rewritten.

FAKE-2027.txt is an invented notice (春节 5–13 Feb 2027, 调休 Sat 20 Feb), not the State Council's.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from portal.calendar import engine, schedules
from portal.core import clock
from portal.core.db import db
from portal.ratings import operations as rating_ops

from .conftest import SYSTEM

FAKE_2027 = (Path(__file__).parents[1] / "calendar" / "notices" / "FAKE-2027.txt").read_text(encoding="utf-8")
pytestmark = pytest.mark.skipif(engine.library_covers(2027),
                                reason="these dates assume chinesecalendar lacks 2027")
MOMENT = datetime(2027, 1, 27, 10)  # Wednesday: 15 working days end on 17 Feb counted Monday to Friday


@pytest.fixture
def rectification(case_in, citizen):
    with clock.frozen(MOMENT):
        case = case_in("completed", "promise")
        rating = rating_ops.rate_case(case, rating_ops.RatingInput(level="dissatisfied", comment="窗口态度差"),
                                      by=citizen, actor=SYSTEM)
    return rating.rectification


def test_an_open_rectification_is_recounted_with_the_same_number_of_working_days(rectification):
    assert rectification.due_date == date(2027, 2, 17)
    with clock.frozen(MOMENT):
        applied = schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
        db.session.flush()
    # 28 Jan – 4 Feb: 6 days; 5–13 Feb off; 15–19 Feb: 5; Sat 20 Feb: 1; 22–24 Feb: 3 → 15 on 24 Feb
    assert rectification.due_date == date(2027, 2, 24)
    assert applied.moved["recompute_rectifications"] == 1
    with clock.frozen(MOMENT):
        again = schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
    assert again.unchanged and rectification.due_date == date(2027, 2, 24)


def test_a_closed_rectification_keeps_its_date(rectification, staff):
    chief = staff["chief"]
    with clock.frozen(MOMENT):
        rating_ops.check_rectification(rectification, rating_ops.CheckInput(False, "经调阅记录，按时办结"), by=chief,
                                       actor=SYSTEM)
        rating_ops.follow_up(rectification, rating_ops.FollowUpInput("电话回访，已说明", "satisfied"), by=chief,
                             actor=SYSTEM)
        assert rectification.state == "closed"
        schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
        db.session.flush()
    assert rectification.due_date == date(2027, 2, 17)
