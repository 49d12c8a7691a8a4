from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import event, select

from portal.calendar import engine
from portal.calendar.engine import (
    Source,
    add_working_days,
    calendar_warnings,
    coverage,
    day_info,
    deadline,
    due_date,
    is_workday,
    must_be_covered,
    next_working_day,
    set_override,
    working_days_between,
)
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.db import db

STAFF = Actor("staff", "7", "admin")
UNCOVERED = 2027  # chinesecalendar stops at 2026; tests/calendar/notices/FAKE-2027.txt is an invented schedule
FAKE_NOTICE = Path(__file__).parent / "notices" / "FAKE-2027.txt"
# these tests are about a year the library lacks; an upgraded chinesecalendar that covers 2027 skips them
needs_uncovered_2027 = pytest.mark.skipif(engine.library_covers(UNCOVERED), reason="chinesecalendar covers 2027")

# 2026 holiday blocks (国办发明电〔2025〕7号), first and last day
HOLIDAYS_2026 = {
    "元旦": (date(2026, 1, 1), date(2026, 1, 3)),
    "春节": (date(2026, 2, 15), date(2026, 2, 23)),
    "清明节": (date(2026, 4, 4), date(2026, 4, 6)),
    "劳动节": (date(2026, 5, 1), date(2026, 5, 5)),
    "端午节": (date(2026, 6, 19), date(2026, 6, 21)),
    "中秋节": (date(2026, 9, 25), date(2026, 9, 27)),
    "国庆节": (date(2026, 10, 1), date(2026, 10, 7)),
}
ADJUSTED_WORKDAYS_2026 = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                          date(2026, 9, 20), date(2026, 10, 10)]


@pytest.fixture
def override_queries():
    """Count the SELECTs that read calendar overrides."""
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "calendar_override" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    yield statements
    event.remove(db.engine, "before_cursor_execute", _count)


# --- the 2026 schedule ---


def test_domain_example_accepted_before_national_day():
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_acceptance_day_does_not_count():
    assert add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert add_working_days(date(2026, 9, 29), 1) == date(2026, 9, 30)
    assert next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)  # 调休 Saturday


@pytest.mark.parametrize("name", HOLIDAYS_2026)
def test_every_2026_holiday_block_has_working_days_on_both_sides(name):
    first, last = HOLIDAYS_2026[name]
    assert is_workday(first - timedelta(days=1))
    assert is_workday(last + timedelta(days=1))
    day = first
    while day <= last:
        assert not is_workday(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize("day", ADJUSTED_WORKDAYS_2026, ids=str)
def test_2026_adjusted_weekend_days_are_working_days(day):
    assert day.weekday() >= 5
    assert is_workday(day)


def test_ordinary_weekend_is_not_a_working_day():
    assert not is_workday(date(2026, 3, 7))
    assert is_workday(date(2026, 3, 9))


def test_day_info_names_the_holiday_and_its_source():
    info = day_info(date(2026, 10, 1))
    assert (info.is_workday, info.source, info.is_estimated) == (False, Source.LIBRARY, False)
    assert info.name == "National Day"


def test_datetimes_are_refused_to_avoid_time_zone_slips():
    with pytest.raises(TypeError):
        is_workday(datetime(2026, 10, 1, 12))


# --- paused intervals ---


def test_paused_working_days_are_added_back():
    paused = [(date(2026, 10, 8), date(2026, 10, 9))]  # Thu and Fri, waiting for corrections
    assert due_date(date(2026, 9, 30), 5, paused=paused) == date(2026, 10, 15)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 15), paused=paused) == 5


def test_pause_during_a_holiday_changes_nothing():
    paused = [(date(2026, 10, 1), date(2026, 10, 7))]
    assert due_date(date(2026, 9, 30), 5, paused=paused) == date(2026, 10, 13)


def test_working_days_between_counts_after_start_up_to_end():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert working_days_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert working_days_between(date(2026, 10, 13), date(2026, 9, 30)) == 0
    paused = [(date(2026, 10, 12), date(2026, 10, 12)), (date(2026, 10, 13), date(2026, 10, 20))]
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 13), paused=paused) == 3


def test_backwards_pause_and_negative_count_are_errors():
    with pytest.raises(ValueError, match="ends before it starts"):
        due_date(date(2026, 9, 30), 5, paused=[(date(2026, 10, 9), date(2026, 10, 8))])
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 9, 30), -1)


# --- overrides ---


def test_override_beats_the_library():
    set_override(date(2026, 10, 8), is_workday=False, name="临时休息日", actor=STAFF)
    assert not is_workday(date(2026, 10, 8))
    assert day_info(date(2026, 10, 8)).source is Source.OVERRIDE
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 14)  # 10-09, 10-10, 10-12, 10-13, 10-14
    set_override(date(2026, 10, 11), is_workday=True, name="调休", actor=STAFF)
    assert is_workday(date(2026, 10, 11))  # a Sunday
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)  # 10-09, 10-10, 10-11, 10-12, 10-13
    assert coverage(2026).source is Source.LIBRARY


def test_setting_an_override_again_replaces_it():
    set_override(date(2026, 10, 8), is_workday=False, name="临时休息日", actor=STAFF)
    row = set_override(date(2026, 10, 8), is_workday=True, name="恢复上班", actor=STAFF)
    assert is_workday(date(2026, 10, 8))
    assert (row.name, row.created_by) == ("恢复上班", "7")
    entries = db.session.execute(select(AuditEvent).where(AuditEvent.action == "calendar.set_override")).scalars()
    assert [(e.actor_id, e.object_id) for e in entries] == [("7", "2026-10-08")] * 2


@needs_uncovered_2027
def test_overrides_are_read_once_per_year(override_queries):
    add_working_days(date(UNCOVERED, 1, 4), 200)
    add_working_days(date(UNCOVERED, 3, 2), 20)
    is_workday(date(UNCOVERED, 6, 1))
    assert len(override_queries) == 1


# --- years the library lacks ---


@needs_uncovered_2027
def test_uncovered_year_falls_back_to_monday_to_friday_with_a_warning(app):
    cov = coverage(UNCOVERED)
    assert (cov.source, cov.is_covered) == (Source.FALLBACK, False)
    first_monday = date(UNCOVERED, 1, 1) + timedelta(days=(7 - date(UNCOVERED, 1, 1).weekday()) % 7)
    assert is_workday(first_monday)
    assert not is_workday(first_monday + timedelta(days=5))
    assert day_info(first_monday).is_estimated
    with app.test_request_context("/"), force_locale("en"):
        assert calendar_warnings([date(UNCOVERED, 3, 2)]) == [
            f"Working days in {UNCOVERED} are estimated as Monday to Friday, because the official holiday "
            "schedule for that year has not been entered yet. Dates shown may still change."
        ]


@needs_uncovered_2027
def test_deadline_across_new_year_is_flagged_as_estimated(app):
    start = date(UNCOVERED - 1, 12, 24)
    with app.test_request_context("/"):
        estimated = deadline(start, 10)
        exact = deadline(date(UNCOVERED - 1, 9, 30), 5)
    assert estimated.is_estimated and len(estimated.warnings) == 1 and str(UNCOVERED) in estimated.warnings[0]
    assert not exact.is_estimated and exact.warnings == ()
    assert calendar_warnings([]) == [] and calendar_warnings([None]) == []


@needs_uncovered_2027
def test_single_days_entered_by_hand_never_cover_a_year():
    set_override(date(UNCOVERED, 1, 1), is_workday=False, name="元旦", actor=STAFF)
    set_override(date(UNCOVERED, 1, 2), is_workday=False, name="元旦", actor=STAFF)
    cov = coverage(UNCOVERED)
    assert (cov.source, cov.is_covered, cov.override_count) == (Source.FALLBACK, False, 2)
    assert not is_workday(date(UNCOVERED, 1, 1))  # the day itself is as entered
    assert day_info(date(UNCOVERED, 2, 9)).is_estimated  # every other day is still an estimate


@needs_uncovered_2027
def test_a_single_adjusted_workday_does_not_cover_a_year():
    set_override(date(UNCOVERED, 2, 6), is_workday=True, name="春节调休", actor=STAFF)
    assert coverage(UNCOVERED).source is Source.FALLBACK


@pytest.mark.parametrize(("today", "year", "needed"), [
    (date(2026, 11, 30), 2027, False),
    (date(2026, 12, 1), 2027, True),
    (date(2026, 12, 1), 2028, False),
    (date(2027, 1, 2), 2027, True),
    (date(2027, 1, 2), 2026, True),
])
def test_next_year_is_needed_from_the_first_of_december(today, year, needed):
    assert must_be_covered(year, today) is needed


# --- commands ---


def run(app, *args):
    return app.test_cli_runner().invoke(args=["portal", "calendar", *args])


@needs_uncovered_2027
def test_check_command_prints_coverage_and_passes_before_december(app):
    with clock.frozen(datetime(UNCOVERED - 1, 11, 30, 12)):
        result = run(app, "check")
    assert result.exit_code == 0, result.output
    assert f"{UNCOVERED - 1}: covered by chinesecalendar" in result.output
    assert f"{UNCOVERED}: NOT covered" in result.output


@needs_uncovered_2027
def test_check_command_fails_in_december_until_next_year_is_imported(app):
    with clock.frozen(datetime(UNCOVERED - 1, 12, 1, 9)):
        assert run(app, "check").exit_code == 1
        added = run(app, "add", f"{UNCOVERED}-01-01", "--holiday", "--name", "元旦", "--note", "国办发明电")
        assert added.exit_code == 0, added.output
        still = run(app, "check")
        imported = run(app, "import", "--year", str(UNCOVERED), str(FAKE_NOTICE))
        assert imported.exit_code == 0, imported.output
        result = run(app, "check")
    assert still.exit_code == 1 and "single days entered by hand do not cover a year" in still.output
    assert result.exit_code == 0, result.output
    assert f"{UNCOVERED}: covered by the imported schedule (FAKE-2027.txt" in result.output
    assert not is_workday(date(UNCOVERED, 1, 1))


@needs_uncovered_2027
def test_check_command_warns_from_november(app):
    with clock.frozen(datetime(UNCOVERED - 1, 11, 1, 9)):
        result = run(app, "check")
    assert result.exit_code == 0
    assert f"warning: the holidays of {UNCOVERED} are not known yet" in result.output


@needs_uncovered_2027
def test_import_command_dry_run_writes_nothing_and_refuses_bad_text(app, tmp_path):
    dry = run(app, "import", "--year", str(UNCOVERED), "--dry-run", str(FAKE_NOTICE))
    assert dry.exit_code == 0, dry.output
    assert f"{UNCOVERED}-02-08 放假 春节" in dry.output and f"{UNCOVERED}-02-20 上班 春节调休" in dry.output
    assert coverage(UNCOVERED).source is Source.FALLBACK
    bad = tmp_path / "bad.txt"
    bad.write_text("一、元旦：1月1日（周四）放假。", encoding="utf-8")
    refused = run(app, "import", "--year", str(UNCOVERED), str(bad))
    assert refused.exit_code == 1 and "不是" in refused.output
    assert coverage(UNCOVERED).source is Source.FALLBACK


@needs_uncovered_2027
def test_list_and_delete_commands(app):
    with clock.frozen(datetime(UNCOVERED, 1, 5, 9)):
        assert run(app, "import", "--year", str(UNCOVERED), str(FAKE_NOTICE)).exit_code == 0
        again = run(app, "import", "--year", str(UNCOVERED), str(FAKE_NOTICE))
        listed = run(app, "list")
        days = run(app, "list", "--year", str(UNCOVERED))
        deleted = run(app, "delete", str(UNCOVERED))
    assert "the same schedule is already imported; nothing changed" in again.output
    assert f"{UNCOVERED}  notice  " in listed.output and "FAKE-2027.txt" in listed.output
    assert f"{UNCOVERED}-02-08  放假  春节  (imported)" in days.output
    assert deleted.exit_code == 0 and coverage(UNCOVERED).source is Source.FALLBACK


@needs_uncovered_2027
def test_imported_schedule_wins_over_the_library_and_check_lists_the_differences(app):
    from portal.calendar import schedules

    text = (FAKE_NOTICE.parent / "2026.txt").read_text(encoding="utf-8").replace(
        "5月9日(周六)上班", "5月9日(周六)、5月10日(周日)上班")  # a made-up difference from the real 2026
    schedules.apply_schedule(2026, text, source="changed-2026.txt", actor=STAFF)
    assert is_workday(date(2026, 5, 10)) and engine.library_disagreements(2026) == [(date(2026, 5, 10), True, False)]
    with clock.frozen(datetime(2026, 6, 1, 9)):
        result = run(app, "check")
    assert "2026-05-10: imported schedule says working day, chinesecalendar says holiday" in result.output


@needs_uncovered_2027
def test_add_command_requires_workday_or_holiday(app):
    result = run(app, "add", f"{UNCOVERED}-01-01", "--name", "元旦")
    assert result.exit_code == 2
    assert "--workday or --holiday" in result.output
    assert coverage(UNCOVERED).override_count == 0
