"""岳阳's emergency filing window (3 working days) follows an imported holiday schedule (issue 16)."""

from pathlib import Path

import pytest

from portal.applications.constants import State
from portal.calendar import engine, schedules
from portal.core.errors import ValidationFailed
from portal.services.remote_care import operations as rc
from tests.services.remote_care_support import GUANGZHOU, SYSTEM, file

pytestmark = [pytest.mark.usefixtures("english"),
              pytest.mark.skipif(engine.library_covers(2027), reason="these dates assume chinesecalendar lacks 2027")]
FAKE_2027 = (Path(__file__).parents[1] / "calendar" / "notices" / "FAKE-2027.txt").read_text(encoding="utf-8")


def test_yueyang_emergency_window_follows_the_imported_schedule(region, citizen, at):
    region("yueyang")
    at(2027, 2, 12)  # the emergency was on Thursday 4 February, the eve of the (fake) Spring Festival holiday
    with pytest.raises(ValidationFailed) as error:  # Monday to Friday: the 3 working days ended on 9 February
        file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
             emergency_date="2027-02-04")
    assert "Feb 9, 2027" in error.value.fields["emergency_date"][0]
    schedules.apply_schedule(2027, FAKE_2027, source="FAKE-2027.txt", actor=SYSTEM)
    case = file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
                emergency_date="2027-02-04")  # 5–13 February are holidays now
    assert case.state == State.SUBMITTED
    at(2027, 2, 18)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
             emergency_date="2027-02-04")
    assert "Feb 17, 2027" in error.value.fields["emergency_date"][0]
