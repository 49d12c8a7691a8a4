"""The supervisor's dashboard: figures asserted on a known set of cases, a constant number of queries whatever the
number of cases, the SVG charts with their text equivalents, the CSV export, and who may see them."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select

from portal.accounts.models import Role
from portal.applications.models import Application
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.core.db import db
from portal.dashboard import charts, queries
from tests.applications.conftest import citizen, staff  # noqa: F401 (fixtures)
from tests.factories import log_in_staff

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # Mon 2026-03-16 10:00 in China
REGION = "jilin"
PERIOD = queries.Period(date(2026, 1, 1), date(2026, 3, 16))


def local(day: int, hour: int = 10, month: int = 3) -> datetime:
    """A moment given in China's local time (UTC+8), stored in UTC."""
    return datetime(2026, month, day, hour, tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(NOW):
        yield


_numbers = iter(range(1, 10_000))


def add_case(db_session, applicant, *, item="X1", name="甲事项", state="completed", accepted=None, completed=None,
             due=None, paused=0, assignee=None, submitted=None):
    case = Application(
        number=f"T{next(_numbers):08d}", region=REGION, item_code=item, item_name=name, handler="generic",
        audience="individual", limit_kind="working_days", limit_value=5, applicant_id=applicant.id,
        applicant_name="测试", state=state, submitted_at=submitted or accepted or local(1),
        accepted_at=accepted, completed_at=completed, due_date=due, paused_working_days=paused,
        assignee_id=assignee.id if assignee else None)
    db_session.add(case)
    return case


@pytest.fixture
def known_cases(db_session, citizen, staff):
    reviewer, acceptor = staff["reviewer"], staff["acceptor"]
    add_case(db_session, citizen, accepted=local(2), completed=local(4), due=date(2026, 3, 6))  # 2 days, on time
    add_case(db_session, citizen, accepted=local(2), completed=local(9), due=date(2026, 3, 6))  # 5 days, late
    add_case(db_session, citizen, accepted=local(2), completed=local(9), due=date(2026, 3, 10), paused=2)  # 3, on time
    # accepted Fri 03-06 01:00 local (still 03-05 in UTC), completed Mon 03-09: one working day; no due date
    add_case(db_session, citizen, item="Y1", name="乙事项", accepted=local(6, 1), completed=local(9, 9))
    add_case(db_session, citizen, state="under_review", accepted=local(6), due=date(2026, 3, 13), assignee=reviewer)
    add_case(db_session, citizen, state="accepted", accepted=local(13), due=date(2026, 3, 20), assignee=reviewer)
    add_case(db_session, citizen, state="correction_requested", accepted=local(3), due=date(2026, 3, 10),
             assignee=acceptor)
    add_case(db_session, citizen, state="submitted", submitted=local(16, 9))
    draft = add_case(db_session, citizen, state="draft")
    draft.number, draft.submitted_at = None, None
    db_session.flush()


def test_cases_per_state_leave_drafts_out(known_cases):
    assert queries.state_counts(REGION) == {"completed": 4, "under_review": 1, "accepted": 1,
                                            "correction_requested": 1, "submitted": 1}


def test_on_time_rate_and_working_days_per_item(known_cases):
    figures = {f.item_code: f for f in queries.item_figures(REGION, PERIOD)}
    x1, y1 = figures["X1"], figures["Y1"]
    assert (x1.item_name, x1.completed, x1.on_time, x1.working_days) == ("甲事项", 3, 2, 2 + 5 + 3)
    assert x1.on_time_rate == pytest.approx(2 / 3) and x1.average_working_days == pytest.approx(10 / 3)
    assert (y1.completed, y1.on_time, y1.working_days) == (1, 1, 1)  # local days: Fri → Mon is one working day
    assert queries.item_figures(REGION, queries.Period(date(2026, 3, 5), date(2026, 3, 8))) == []


def test_overdue_list_leaves_out_cases_waiting_for_the_applicant(known_cases, staff):
    late, total = queries.overdue(REGION)
    assert total == 1 and [(c.state, c.due_date, c.days_late, c.assignee) for c in late] == [
        ("under_review", date(2026, 3, 13), 3, staff["reviewer"].username)]


def test_load_per_staff_member(known_cases, staff):
    load = queries.staff_load(REGION)
    assert [(w.username, w.open_cases, w.overdue) for w in load] == [
        (staff["reviewer"].username, 2, 1), (staff["acceptor"].username, 1, 0)]


def test_weekly_trend(known_cases):
    weeks = queries.weekly_trend(REGION, weeks=3)
    assert [(w.monday, w.submitted, w.completed) for w in weeks] == [
        (date(2026, 3, 2), 6, 1), (date(2026, 3, 9), 1, 3), (date(2026, 3, 16), 1, 0)]


def _count_queries(run) -> int:
    seen = []
    engine = db.session.get_bind()
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def _all_figures():
    queries.state_counts(REGION)
    queries.item_figures(REGION, PERIOD)
    queries.overdue(REGION)
    queries.staff_load(REGION)
    queries.weekly_trend(REGION)


def test_the_number_of_queries_does_not_grow_with_the_cases(known_cases, db_session, citizen, staff):
    _all_figures()  # the holiday overrides of the year are read once per request
    before = _count_queries(_all_figures)
    for day in range(2, 13):
        add_case(db_session, citizen, item=f"Z{day}", accepted=local(day), completed=local(day + 3),
                 due=date(2026, 3, 20), assignee=staff["finance"])
    db_session.flush()
    assert _count_queries(_all_figures) == before == 8


# --- charts ---------------------------------------------------------------------------------------------


def test_bar_chart_is_accessible_svg_with_escaped_labels():
    svg = str(charts.bar_chart("各状态办件", [("<已受理>", 3), ("办结", 12)]))
    assert svg.startswith("<svg") and 'role="img"' in svg and "aria-labelledby" in svg
    assert "<title" in svg and "&lt;已受理&gt;: 3; 办结: 12" in svg and "<已受理>" not in svg
    assert "href" not in svg and "<script" not in svg


def test_column_chart_states_every_figure_in_its_description():
    svg = str(charts.column_chart("每周", ["03-02", "03-09"], [("收件", [6, 1]), ("办结", [1, 3])]))
    assert "03-02: 收件 6, 办结 1; 03-09: 收件 1, 办结 3" in svg and svg.count("<rect") == 4 + 2


# --- pages ----------------------------------------------------------------------------------------------


def browser_for(make_client, make_staff, username, role):
    _account, secret = make_staff(username, roles={role})
    return log_in_staff(make_client(), username, secret)


def test_chief_sees_the_dashboard_with_charts_and_tables(known_cases, make_client, make_staff, db_session):
    browser = browser_for(make_client, make_staff, "boss", Role.CHIEF)
    response = browser.get("/staff/dashboard?from=2026-01-01&to=2026-03-16")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('<svg class="chart"') == 3 and "甲事项" in html and "66.7 %" in html and "3.3" in html
    assert db_session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "dashboard.view")).scalar_one() == 1


def test_unreadable_period_falls_back_with_a_message(known_cases, make_client, make_staff):
    browser = browser_for(make_client, make_staff, "boss", Role.CHIEF)
    response = browser.get("/staff/dashboard?from=yesterday&to=2026-03-16")
    assert response.status_code == 200 and "could not be read" in response.get_data(as_text=True)


def test_export_per_item_as_csv(known_cases, make_client, make_staff, db_session):
    browser = browser_for(make_client, make_staff, "boss", Role.CHIEF)
    response = browser.get("/staff/dashboard/export.csv?kind=items&from=2026-01-01&to=2026-03-16")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Item code", "Item", "Completed"]
    assert rows[1] == ["X1", "甲事项", "3", "2", "0.6667", "3.33"] and rows[2] == ["Y1", "乙事项", "1", "1", "1.0000",
                                                                                   "1.00"]
    assert db_session.execute(select(AuditEvent.detail).where(AuditEvent.action == "dashboard.export")
                              ).scalar_one().find('"kind": "items"') >= 0


def test_export_guards_against_spreadsheet_formulas(db_session, citizen, make_client, make_staff):
    add_case(db_session, citizen, item="F1", name="=HYPERLINK(\"x\")", accepted=local(2), completed=local(4))
    db_session.flush()
    browser = browser_for(make_client, make_staff, "boss", Role.CHIEF)
    text = browser.get("/staff/dashboard/export.csv?kind=items").get_data(as_text=True)
    assert "'=HYPERLINK" in text


@pytest.mark.parametrize("kind", ["overdue", "staff"])
def test_other_exports(kind, known_cases, make_client, make_staff, staff):
    browser = browser_for(make_client, make_staff, "boss", Role.CHIEF)
    rows = list(csv.reader(io.StringIO(browser.get(f"/staff/dashboard/export.csv?kind={kind}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + (1 if kind == "overdue" else 2)
    assert staff["reviewer"].username in rows[1]


@pytest.mark.parametrize("role", [Role.ACCEPTOR, Role.REVIEWER, Role.FINANCE, Role.ADMIN])
def test_dashboard_is_the_chiefs(role, make_client, make_staff):
    browser = browser_for(make_client, make_staff, f"u{role.value}", role)
    assert browser.get("/staff/dashboard").status_code == 403  # staff know the area exists (accounts.staff_area)
    assert browser.get("/staff/dashboard/export.csv").status_code == 403


def test_an_empty_dashboard_reads_well(make_client, make_staff):
    browser = browser_for(make_client, make_staff, "boss", Role.CHIEF)
    html = browser.get("/staff/dashboard").get_data(as_text=True)
    assert "No cases yet." in html and "No case is overdue." in html and html.count('<svg class="chart"') == 3
