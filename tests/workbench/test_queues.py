"""Queues: where each state lands, deadlines (due soon, overdue), filters, keyset pages, constant query count."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.applications.constants import State
from portal.core import clock
from portal.core.db import db
from portal.insurance.models import id_number_index
from portal.workbench.queues import Filters, Queue, queue_of, queue_page
from tests.factories import sent_statements
from tests.workbench.conftest import PROMISE_ITEM


@pytest.mark.parametrize(("state", "accepted", "money", "expected"), [
    ("draft", False, False, "draft"),
    ("submitted", False, False, "intake"),
    ("resubmitted", False, False, "intake"),
    ("resubmitted", True, False, "review"),
    ("correction_requested", True, False, "correction"),
    ("accepted", True, False, "review"),
    ("under_review", True, False, "review"),
    ("approved", True, False, "review"),
    ("approved", True, True, "payment"),
    ("paying", True, True, "payment"),
    ("completed", True, False, "done"),
    ("delivered", True, False, "done"),
    ("not_accepted", False, False, "closed"),
    ("denied", True, False, "closed"),
    ("withdrawn", False, False, "closed"),
])
def test_every_state_has_its_queue(state, accepted, money, expected):
    assert queue_of(state, accepted=accepted, is_money=money) == expected


@pytest.mark.parametrize("state", [s.value for s in State])
def test_the_row_carries_the_queue_of_its_state(case_in, state):
    variant = "money" if state == "paying" else "promise"
    case = case_in(state, variant, accepted=state in ("correction_requested", "resubmitted"))
    db.session.flush()
    assert case.queue == queue_of(state, accepted=case.accepted_at is not None, is_money=case.is_money)
    if case.queue == "intake":
        assert case.work_due == case.accept_by
    elif case.queue in ("review", "payment"):
        assert case.work_due == case.due_date
    else:
        assert case.work_due is None


def _ids(page):
    return [c.id for c in page.rows]


def test_due_soon_and_overdue_follow_the_working_day_calendar(make_case, citizen, make_citizen):
    # Mon 2026-06-01 … accept within 5 working days → due Mon 06-08
    with clock.frozen(datetime(2026, 6, 1, 10, 0)):
        case = make_case(PROMISE_ITEM, citizen)
    assert case.work_due == date(2026, 6, 8)
    today = date(2026, 6, 4)  # Thursday: two working days on is Monday 06-08
    assert _ids(queue_page(Queue.DUE_SOON, today=today)) == [case.id]
    assert _ids(queue_page(Queue.OVERDUE, today=today)) == []
    assert _ids(queue_page(Queue.DUE_SOON, today=date(2026, 6, 3))) == []  # Monday is three working days away
    assert _ids(queue_page(Queue.OVERDUE, today=date(2026, 6, 9))) == [case.id]


def test_filters_by_item_state_date_and_applicant(make_case, citizen, make_citizen):
    from tests.workbench.conftest import MONEY_ITEM

    with clock.frozen(datetime(2026, 6, 1, 10, 0)):
        early = make_case(PROMISE_ITEM, citizen)
    with clock.frozen(datetime(2026, 6, 3, 10, 0)):
        other = make_citizen("孙三")
        late = make_case(MONEY_ITEM, other)
    today = date(2026, 6, 3)
    assert _ids(queue_page(Queue.INTAKE, Filters(item_codes=(MONEY_ITEM,)), today=today)) == [late.id]
    assert _ids(queue_page(Queue.INTAKE, Filters(item_codes=()), today=today)) == []
    assert _ids(queue_page(Queue.INTAKE, Filters(submitted_to=date(2026, 6, 2)), today=today)) == [early.id]
    assert _ids(queue_page(Queue.INTAKE, Filters(submitted_from=date(2026, 6, 3)), today=today)) == [late.id]
    assert _ids(queue_page(Queue.INTAKE, Filters(state=State.RESUBMITTED), today=today)) == []
    person = Filters(person_index=id_number_index(other.person.id_number))
    assert _ids(queue_page(Queue.INTAKE, person, today=today)) == [late.id]


def test_the_id_search_finds_cases_about_the_person_and_filed_on_their_behalf(make_case, citizen, make_citizen):
    with clock.frozen(datetime(2026, 6, 1, 10, 0)):
        own = make_case(PROMISE_ITEM, citizen)
    with clock.frozen(datetime(2026, 6, 2, 10, 0)):
        other = make_citizen("孙四")
        for_them = make_case(PROMISE_ITEM, other)
        unrelated = make_case(PROMISE_ITEM, make_citizen("孙五"))
    for_them.principal_id_index = id_number_index(citizen.person.id_number)  # filed by 孙四 on 张's behalf
    db.session.flush()
    today = date(2026, 6, 3)
    searched = Filters(person_index=id_number_index(citizen.person.id_number))
    assert _ids(queue_page(Queue.INTAKE, searched, today=today)) == [own.id, for_them.id]  # by deadline
    assert _ids(queue_page(Queue.INTAKE, searched, per_page=1, today=today)) == [own.id]
    second = queue_page(Queue.INTAKE, searched, per_page=1, today=today,
                        after=queue_page(Queue.INTAKE, searched, per_page=1, today=today).next_cursor)
    assert _ids(second) == [for_them.id] and second.next_cursor is None
    assert unrelated.id in _ids(queue_page(Queue.INTAKE, today=today))
    assert _ids(queue_page(Queue.INTAKE, Filters(person_index="0" * 64), today=today)) == []


def test_a_cursor_that_does_not_parse_starts_at_the_first_page(make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    for cursor in ("", "!!!", "bm9uc2Vuc2U", "x" * 100):
        assert _ids(queue_page(Queue.INTAKE, after=cursor)) == [case.id]


def test_pages_cost_the_same_few_queries_however_many_cases(make_case, make_citizen, monkeypatch):
    """The queue page is one query for its rows (staff and people joined in), on every page."""
    counted: list[str] = []

    def count(*args, **_kwargs):
        counted.append(args[2] if len(args) > 2 else "")

    for i in range(7):
        make_case(PROMISE_ITEM, make_citizen(f"周{i}"))
    db.session.flush()
    engine = db.session.get_bind()
    target = engine if hasattr(engine, "dispatch") else engine.engine
    event.listen(target, "before_cursor_execute", count)
    try:
        sizes = []
        after = None
        for _ in range(3):
            counted.clear()
            page = queue_page(Queue.INTAKE, per_page=3, after=after)
            for case in page.rows:  # what the queue page reads of each row
                _ = case.assignee_name, case.applicant_name, case.item_name
            sizes.append(len(counted))
            after = page.next_cursor
    finally:
        event.remove(target, "before_cursor_execute", count)
    assert sizes == [1, 1, 1], sizes


def test_work_due_moves_with_the_due_date_after_a_paused_clock(case_in):
    with clock.frozen(datetime(2026, 6, 1, 10, 0)) as frozen:
        case = case_in("correction_requested", accepted=True)
        assert case.work_due is None
        frozen.tick(timedelta(days=2))
        from portal.applications import operations as case_ops
        from portal.applications.constants import MaterialMode

        listed = case.open_notice.material_ids
        case_ops.resubmit_application(case, case_ops.Resubmission(
            materials=dict.fromkeys(listed, MaterialMode.AT_WINDOW.value)), by=case.applicant, actor=queues_system())
        db.session.flush()
    assert case.queue == "review" and case.work_due == case.due_date and case.paused_working_days >= 1


def queues_system():
    from portal.core.audit import Actor

    return Actor.system()


def test_mine_lists_only_the_cases_the_member_of_staff_is_working(make_case, citizen, make_citizen, staff):
    from portal.core.audit import Actor
    from portal.workbench import operations as ops

    mine = make_case(PROMISE_ITEM, citizen)
    other = make_case(PROMISE_ITEM, make_citizen("冯一"))
    ops.claim_case(mine, by=staff["acceptor"], actor=Actor.system())
    assert _ids(queue_page(Queue.INTAKE, Filters(mine_for=staff["acceptor"].id))) == [mine.id]
    assert set(_ids(queue_page(Queue.INTAKE))) == {mine.id, other.id}


def _page_statements(app, client, url: str) -> list[str]:
    """Every statement one request of ``url`` sends, read from a session that holds nothing yet (no case is
    already loaded, so a column or relation read row by row would show up as a statement of its own)."""
    db.session.flush()
    db.session.expunge_all()
    status, seen = sent_statements(app, client, url)
    assert status == 200, url
    return seen


def test_a_queue_page_costs_the_same_statements_at_two_sizes_and_reads_only_what_it_shows(
        app, make_case, make_citizen, citizen, browser_as):
    """The whole page (login, rows, audit row, header) at 3 and at 15 cases: the same statements, and the row query
    reads the listed columns and the assignee's name only — not the sealed form, nor the applicant's account,
    person and unit (which it used to join for every row)."""
    from portal.accounts.models import Role
    from portal.workbench import operations as ops

    client, clerk = browser_as("sizeclerk", Role.ACCEPTOR, Role.REVIEWER)
    claimed = make_case(PROMISE_ITEM, citizen)
    ops.claim_case(claimed, by=clerk, actor=queues_system())  # a row with an assignee (their name is shown)
    for i in range(2):
        make_case(PROMISE_ITEM, make_citizen(f"陈{i}"))
    client.get("/staff/queues/intake")  # the day's calendar answers (the deadlines' years) are kept from here on
    small = _page_statements(app, client, "/staff/queues/intake")
    for i in range(12):
        make_case(PROMISE_ITEM, make_citizen(f"林{i}"))
    large = _page_statements(app, client, "/staff/queues/intake")
    page = client.get("/staff/queues/intake").get_data(as_text=True)
    assert page.count('class="case-number"') == 15
    assert [s.split(" FROM ")[0] for s in small] == [s.split(" FROM ")[0] for s in large]
    assert len(small) == len(large) <= 5, small
    rows = next(s for s in large if s.startswith("SELECT application.id"))
    assert "form_json" not in rows and "principal_id_number" not in rows
    assert " person" not in rows and " unit" not in rows and rows.count("JOIN account") == 1


def test_the_filter_options_are_made_once_per_language_and_follow_the_page_language(app, catalog):
    """Kept per catalog and language: the same options again in one language, the other language's in the other."""
    from flask_babel import refresh

    from portal.workbench.forms import filter_choices

    item = sorted(catalog.items, key=lambda i: i.code)[0]
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        refresh()  # (the language is kept per app context, which the tests share)
        english = filter_choices(catalog)
        assert filter_choices(catalog) is english
        assert english[0][0].label == "All items" and english[2][0].label == "All states"
        named = english[0][1].label
    with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):
        refresh()
        chinese = filter_choices(catalog)
        assert chinese is not english and chinese[0][0].label == "全部事项"
        assert chinese[0][1].label == f"{item.name.zh} ({item.code})"
    assert named == f"{item.name.en or item.name.zh} ({item.code})"
