"""The estimated-date note on the citizen's case page (issue 16), in Chromium against ``portal up``.

The live server runs on the real clock, so the test does not rely on which years are covered today: it files
a case, then moves its accept-by date into 2099 (a year no holiday library or import covers) in the live
database, and the case page must say the dates are estimated.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser.conftest import LIVE
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.test_filing import CITIZEN_ITEM, EMPLOYEE, _file

pytestmark = pytest.mark.browser
NOTE = "按周一至周五估算，待国务院公布节假日安排后更新"


def test_case_page_and_my_cases_say_dates_are_estimated(phone, live_server):
    _log_in_citizen(phone, EMPLOYEE)
    _item, number = _file(phone, CITIZEN_ITEM, texts={"f_pooling_area": "长春市", "f_scope": "高血压"},
                          choices={"f_insurance_type": "职工医保", "f_category": "门诊慢病",
                                   "f_recognition_place": "本地"})
    with sqlite3.connect(LIVE["instance"] / "portal.db") as db:
        (case_id,) = db.execute("SELECT id FROM application WHERE number = ?", (number,)).fetchone()
        db.execute("UPDATE application SET accept_by = '2099-01-05' WHERE id = ?", (case_id,))
    phone.goto(f"/applications/{case_id}")
    note = phone.locator("#estimated-note")
    assert note.is_visible()
    assert NOTE in note.inner_text() and "2099" in note.inner_text()
    phone.goto("/applications/")  # my cases: the note once, and the case's due date tagged
    listed = phone.locator("#estimated-note")
    assert listed.is_visible() and NOTE in listed.inner_text() and "2099" in listed.inner_text()
