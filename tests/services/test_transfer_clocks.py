"""The 5/10/5 working days of 转移接续 on the portal's calendar: 林口's guide states them (its words kept with the
item); a region whose guide does not uses the same figures as this service's choice; holidays, 调休 working days and
the agency's own imported overrides move the deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from portal.calendar import engine as calendar_engine
from portal.core.audit import Actor
from portal.services.transfer import operations as transfer
from portal.services.transfer.clocks import Clocks, clocks_for

pytestmark = pytest.mark.usefixtures("english")


def test_linkou_states_the_clocks_and_its_words_are_kept(region, app):
    region("linkou")
    clocks = transfer.clocks()
    assert (clocks.letter, clocks.sheet, clocks.complete, clocks.from_guide) == (5, 10, 5, True)
    assert "转入地经办机构应在受理后5个工作日内生成并发出《联系函》" in clocks.quote
    assert "收到《联系函》后10个工作日内生成、发出《信息表》并划转资金" in clocks.quote


def test_a_region_whose_guide_states_no_figures_uses_the_national_ones_as_this_services_choice(region, app):
    region("jilin")
    assert transfer.clocks() == Clocks(5, 10, 5, from_guide=False, quote="")
    assert clocks_for(None) == Clocks()


def test_the_national_day_holiday_and_its_saturday_working_day_count_as_the_calendar_says(region, app):
    region("linkou")
    clocks = transfer.clocks()
    # accepted Wed 30 Sep 2026: 1-7 Oct off, Sat 10 Oct a 调休 working day → 8, 9, 10, 12, 13 Oct
    assert clocks.letter_due(date(2026, 9, 30)) == date(2026, 10, 13)
    # letter received Fri 25 Sep: 28, 29, 30 Sep, 8, 9, 10, 12, 13, 14, 15 Oct
    assert clocks.sheet_due(date(2026, 9, 25)) == date(2026, 10, 15)
    # the 信息表 on Fri 9 Oct, the funds on Mon 12 Oct: five working days from the later → 13-16, 19 Oct
    assert clocks.complete_due(date(2026, 10, 9), date(2026, 10, 12)) == date(2026, 10, 19)
    assert clocks.complete_due(date(2026, 10, 12), date(2026, 10, 9)) == date(2026, 10, 19)


def test_a_holiday_the_agency_imports_moves_the_deadline(region, app, db_session):
    region("linkou")
    clocks = transfer.clocks()
    assert clocks.letter_due(date(2026, 12, 1)) == date(2026, 12, 8)  # Wed 2 … Tue 8 Dec
    calendar_engine.set_override(date(2026, 12, 7), is_workday=False, name="测试放假", actor=Actor.system())
    assert clocks.letter_due(date(2026, 12, 1)) == date(2026, 12, 9)
    calendar_engine.set_override(date(2026, 12, 5), is_workday=True, name="测试调休", actor=Actor.system())
    assert clocks.letter_due(date(2026, 12, 1)) == date(2026, 12, 8)  # a Saturday worked gives the day back
