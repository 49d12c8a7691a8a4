"""The lean request path: what every request pays, paid only where needed.

- a page view's audit row is committed once with the response, in the request's one transaction (not a commit of
  its own in the middle of the view, then a second transaction for the rest of the page);
- the calendar a page only shows (the queues' "due soon" cut-off, estimated dates, the missing-schedule banner)
  is kept for the day, so a page view does not read the calendar tables; a change staff make is seen at once, a
  change made by another process within the minute;
- a pooled connection is checked with a round trip only after lying idle, not at every request;
- the options of a database URL (e.g. a ``search_path``) survive the app's own connection options.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, text

from portal.accounts.models import Role
from portal.calendar import engine as calendar_engine
from portal.calendar.models import CalendarOverride
from portal.core import audit, clock
from portal.core.db import PING_AFTER_IDLE_SECONDS, db, make_engine
from portal.workbench import queues
from tests.factories import log_in_staff

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def _statements(app):
    """Every statement sent while the block runs, in order, with "COMMIT" where a transaction (or, inside the
    tests' outer transaction, its savepoint) was committed."""
    seen: list[str] = []
    engine = app.extensions["portal_db_engine"]

    def on_sql(_conn, _cursor, statement, *_args):
        if not statement.startswith("RELEASE SAVEPOINT"):  # the commit itself, logged as "COMMIT" below
            seen.append(" ".join(statement.split()))

    def on_commit(*_args):
        seen.append("COMMIT")

    return seen, engine, on_sql, on_commit


@pytest.fixture
def clerk(app, make_client, make_staff, monkeypatch):
    from argon2 import PasswordHasher

    from portal.accounts import passwords

    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    _account, secret = make_staff("leanclerk", roles={Role.ACCEPTOR, Role.REVIEWER})
    db.session.flush()
    return log_in_staff(make_client(), "leanclerk", secret)


def test_a_queue_view_is_audited_in_one_transaction_and_reads_no_calendar(app, clerk):
    clerk.get("/staff/queues/review")  # the day's calendar answers are kept from here on
    seen, engine, on_sql, on_commit = _statements(app)
    event.listen(engine, "before_cursor_execute", on_sql)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "release_savepoint", on_commit)
    try:
        response = clerk.get("/staff/queues/intake")
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "release_savepoint", on_commit)
    assert response.status_code == 200
    assert not [s for s in seen if "calendar_" in s]
    assert len([s for s in seen if s.startswith("INSERT INTO audit_event")]) == 1
    # one transaction: begun once (SQLite's BEGIN, or the tests' savepoint), committed once, after the last read
    assert len([s for s in seen if s == "BEGIN" or s.startswith("SAVEPOINT")]) == 1
    assert seen.count("COMMIT") == 1 and seen[-1] == "COMMIT"
    row = db.session.execute(select(audit.AuditEvent).order_by(audit.AuditEvent.id.desc())).scalars().first()
    assert (row.action, row.object_id) == ("workbench.queue_view", "intake")


def test_a_page_that_fails_after_its_audit_row_sends_nothing_and_keeps_nothing(app, clerk, monkeypatch):
    before = db.session.execute(select(audit.AuditEvent.id).order_by(audit.AuditEvent.id.desc())).scalars().first()

    def broken(*_args, **_kwargs):
        raise RuntimeError("rendering failed")

    from portal.workbench import views

    monkeypatch.setattr(views, "render_template", broken)
    app.testing, propagate = False, app.config.get("PROPAGATE_EXCEPTIONS")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        assert clerk.get("/staff/queues/review").status_code == 500
    finally:
        app.testing, app.config["PROPAGATE_EXCEPTIONS"] = True, propagate
    after = db.session.execute(select(audit.AuditEvent.id).order_by(audit.AuditEvent.id.desc())).scalars().first()
    assert after == before  # the view that showed nothing left no audit row of a view


def _next_working_days(today: date, count: int) -> list[date]:
    days, day = [], today
    while len(days) < count:
        day += timedelta(days=1)
        if calendar_engine.is_workday(day):
            days.append(day)
    return days


def test_the_due_soon_cut_off_is_kept_for_the_day_and_a_staff_change_is_seen_at_once(app, db_session):
    today = clock.today()
    first, second = _next_working_days(today, 2)
    assert queues.due_soon_cutoff(today) == second
    seen, engine, on_sql, _on_commit = _statements(app)
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        assert queues.due_soon_cutoff(today) == second
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
    assert seen == []  # kept: no calendar read
    # staff make the next working day a holiday: the cut-off moves one working day on, at once
    calendar_engine.set_override(first, is_workday=False, name="测试假日", actor=audit.Actor.system())
    assert queues.due_soon_cutoff(today) == _next_working_days(second, 1)[0]


def test_a_change_made_by_another_process_is_seen_within_the_minute(app, db_session, monkeypatch):
    today = clock.today()
    first, second = _next_working_days(today, 2)
    assert queues.due_soon_cutoff(today) == second
    # another worker wrote the override: this process was not told, and keeps its answer for up to a minute
    db_session.add(CalendarOverride(day=first, is_workday=False, name="测试假日", created_by="system"))
    db_session.flush()
    assert queues.due_soon_cutoff(today) == second
    later = time.monotonic() + calendar_engine.SHOWN_KEPT_SECONDS + 1
    monkeypatch.setattr(calendar_engine, "time", SimpleNamespace(monotonic=lambda: later))  # this module's clock
    from flask import g

    g.pop("_calendar_overrides", None)  # a new request: the app context's own copy is gone
    assert queues.due_soon_cutoff(today) == _next_working_days(second, 1)[0]


def test_a_new_day_gets_its_own_answer(app, db_session):
    today = clock.today()
    assert queues.due_soon_cutoff(today) == _next_working_days(today, 2)[1]
    tomorrow = today + timedelta(days=1)
    assert queues.due_soon_cutoff(tomorrow) == _next_working_days(tomorrow, 2)[1]


@pytest.mark.no_db
def test_a_pooled_connection_is_pinged_only_after_lying_idle(tmp_path, monkeypatch):
    import portal.core.db as core_db

    if PG_URL.startswith("postgresql"):
        engine = make_engine(PG_URL)  # as the app makes it
    else:  # SQLite needs no ping (a local file); the same listeners, on a file of its own
        engine = make_engine(f"sqlite:///{tmp_path / 'ping.db'}")
        core_db._ping_after_idle(engine)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    now = [1000.0]
    monkeypatch.setattr(core_db, "time", SimpleNamespace(monotonic=lambda: now[0]))
    for _ in range(5):  # in steady use: no round trip before the request's own statements
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        now[0] += 1
    assert pings == []
    now[0] += PING_AFTER_IDLE_SECONDS + 1
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert pings == [1]
    engine.dispose()


@pytest.mark.no_db
@pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PORTAL_TEST_DATABASE_URL (PostgreSQL)")
def test_the_urls_own_connection_options_are_kept():
    admin = make_engine(PG_URL)
    schema = f"opt_{threading.get_ident() % 100000}"
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    try:
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
        engine = make_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SHOW search_path")).scalar() == schema
            assert connection.execute(text("SHOW lock_timeout")).scalar() == "10s"  # the app's own, too
        engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_the_health_check_reads_the_keys_at_most_every_half_minute(app, monkeypatch):
    from portal.pages import views as pages

    app.extensions.pop("portal_keys_health", None)
    seen, engine, on_sql, _on_commit = _statements(app)
    now = [5000.0]
    monkeypatch.setattr(pages, "time", SimpleNamespace(monotonic=lambda: now[0]))  # this module's clock
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        with app.test_request_context("/healthz"):
            answers = []
            for _ in range(3):
                answers.append(pages._keys_health())
                now[0] += 1
            now[0] += pages.KEYS_KEPT_SECONDS
            answers.append(pages._keys_health())
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
        app.extensions.pop("portal_keys_health", None)
    assert len(set(answers)) == 1 and answers[0] in ("ok", "unchecked", "mismatch")
    assert len([s for s in seen if "FROM key_check" in s]) == 2  # once, then again after the half minute


def test_the_staff_menu_is_worked_out_once_for_each_set_of_roles(app, clerk, make_staff, make_client, monkeypatch):
    from portal.workbench import menu

    calls = []
    real = menu._entries
    monkeypatch.setattr(menu, "_entries", lambda: calls.append(1) or real())
    monkeypatch.setitem(app.extensions, "portal_staff_menu", {})  # nothing worked out yet
    page = clerk.get("/staff/queues/review").get_data(as_text=True)
    assert len(calls) == 1  # the header's menu and the page's links (staff_may_open) share one answer
    assert 'href="/staff/queues/intake"' in page or "/staff/queues/intake" in page
    clerk.get("/staff/queues/intake")
    assert len(calls) == 1  # the next page, and anyone with the same roles, reads it as it was worked out
    _finance, secret = make_staff("menufin", roles={Role.FINANCE})
    db.session.flush()
    payments = log_in_staff(make_client(), "menufin", secret).get("/staff/queues/payment").get_data(as_text=True)
    assert len(calls) == 2 and "/staff/payments" in payments  # other roles, another menu


# --- no transaction until one is needed ------------------------------------------------------------------------


@pytest.mark.parametrize(("statement", "writes"), [
    ("SELECT a.id FROM account AS a WHERE a.id = %(id)s", False),
    ("  select version_num from alembic_version", False),
    ("SELECT a.id FROM account AS a WHERE a.id = 1 FOR UPDATE", True),
    ("SELECT a.id FROM account a FOR NO KEY UPDATE SKIP LOCKED", True),
    ("SELECT 1 FROM person FOR SHARE", True),
    ("SELECT pg_advisory_xact_lock(42)", True),
    ("SELECT nextval(pg_get_serial_sequence('person', 'id'))", True),
    ("SELECT * INTO copied FROM person", True),
    ("WITH gone AS (DELETE FROM otp_challenge RETURNING id) SELECT count(*) FROM gone", True),
    ("INSERT INTO audit_event (action) VALUES ('x')", True),
    ("UPDATE login_session SET last_seen_at = now()", True),
    ("SAVEPOINT sa_savepoint_1", True),
    ("SET LOCAL lock_timeout = 0", True),
])
def test_only_a_plain_select_goes_without_a_transaction(statement, writes):
    from portal.core.db import statement_may_write

    assert statement_may_write(statement) is writes


@pytest.mark.no_db
def test_a_request_that_never_touches_the_database_takes_no_connection(app):
    engine = app.extensions["portal_db_engine"]
    checkouts, statements = [], []

    def on_checkout(*_args):
        checkouts.append(1)

    def on_sql(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        client = app.test_client()
        assert client.get("/lang/en?next=/guide/").status_code == 302
        assert client.get("/elder/on").status_code == 302
        static = client.get("/static/css/portal.css")
        static.close()  # the file it streamed
        assert static.status_code == 200
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "before_cursor_execute", on_sql)
    assert checkouts == [] and statements == []


class _WireTrace:
    """What the app's pooled connections send to PostgreSQL, from libpq's own protocol trace: each frontend
    message (``Query "BEGIN"``, ``Parse``…) and the backend's ``ReadyForQuery`` (one per round trip)."""

    def __init__(self, engine, folder):
        self.engine, self.path = engine, folder / "wire.trace"
        self.file = open(self.path, "w")  # noqa: SIM115 (libpq writes to its descriptor while connections are out)

    def _start(self, dbapi_connection, *_args):
        dbapi_connection.pgconn.trace(self.file.fileno())

    def _stop(self, dbapi_connection, *_args):
        dbapi_connection.pgconn.untrace()

    def __enter__(self):
        event.listen(self.engine, "checkout", self._start)
        event.listen(self.engine, "checkin", self._stop)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "checkout", self._start)
        event.remove(self.engine, "checkin", self._stop)
        self.file.close()

    def _messages(self) -> list[list[str]]:
        """[timestamp, F or B, length, type, text]; a statement's own line breaks continue the text."""
        messages: list[list[str]] = []
        for line in self.path.read_text().splitlines():
            fields = line.split("\t", 4)
            if len(fields) >= 4 and fields[1] in ("F", "B") and fields[0][:4].isdigit():
                messages.append([*fields, ""][:5])
            elif messages:
                messages[-1][4] += " " + line
        return messages

    def sent(self) -> list[str]:
        return [f"{m[3]} {' '.join(m[4].split())}" for m in self._messages()
                if m[1] == "F" and m[3] in ("Query", "Parse")]

    def round_trips(self) -> int:
        return sum(1 for m in self._messages() if m[1] == "B" and m[3] == "ReadyForQuery")


def _pg_only():
    return pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PORTAL_TEST_DATABASE_URL (PostgreSQL)")


@pytest.mark.no_db
@_pg_only()
def test_the_health_check_reads_in_one_round_trip_without_a_transaction(app, tmp_path):
    engine = app.extensions["portal_db_engine"]
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the keys and the calendar are kept from here on
    with _WireTrace(engine, tmp_path) as kept:
        assert client.get("/healthz").status_code == 200
    assert kept.sent() == []  # within the second, the schema's good answer is kept too: under load, nothing is sent
    app.extensions.pop("portal_schema_health")  # the second is over
    with _WireTrace(engine, tmp_path) as wire:
        assert client.get("/healthz").status_code == 200
    assert wire.sent() == ['Query "SELECT version_num FROM alembic_version"'] and wire.round_trips() == 1


@pytest.mark.no_db
@_pg_only()
def test_a_read_only_request_sends_its_selects_alone_no_begin_and_no_rollback(app, tmp_path):
    engine = app.extensions["portal_db_engine"]
    app.extensions.pop("portal_keys_health", None)  # read again: through the ORM session this time
    app.extensions.pop("portal_schema_health", None)
    calendar_engine.forget_gaps()
    with _WireTrace(engine, tmp_path) as wire:
        assert app.test_client().get("/healthz").status_code == 200
    sent = wire.sent()
    assert any("FROM key_check" in s for s in sent) and any("calendar_" in s for s in sent)
    assert not [s for s in sent if s.split(" ", 1)[1].strip('"').split()[0] in ("BEGIN", "ROLLBACK", "COMMIT")]
    assert wire.round_trips() == len(sent)  # one per statement, nothing else


@pytest.mark.no_db
@_pg_only()
def test_the_first_statement_that_locks_opens_the_transaction_which_holds_to_its_end(app, tmp_path):
    from sqlalchemy.orm import Session

    engine = app.extensions["portal_db_engine"]
    key = 7_000_000 + threading.get_ident() % 100_000
    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND granted"
    with _WireTrace(engine, tmp_path) as wire, Session(engine) as session, engine.connect() as observer:
        session.execute(text("SELECT 1"))
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        session.execute(text("SELECT 2"))
        assert observer.execute(text(held), {"k": key}).scalar() == 1  # still held: a transaction, not autocommit
        session.commit()
        assert observer.execute(text(held), {"k": key}).scalar() == 0
        session.execute(text("SELECT 3"))
    statements = [s for s in wire.sent() if "pg_locks" not in s]
    assert statements == ['Query "SELECT 1"', 'Query "BEGIN"',
                          'Parse "" "SELECT pg_advisory_xact_lock($1)" 1 23',  # one parameter, an int4
                          'Query "SELECT 2"', 'Query "COMMIT"', 'Query "SELECT 3"'], statements


@pytest.mark.no_db
@_pg_only()
def test_what_follows_the_first_write_is_rolled_back_with_it(app):
    from sqlalchemy.orm import Session

    engine = app.extensions["portal_db_engine"]
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        session.execute(text("CREATE TEMP TABLE lean_probe (n int)"))
        session.execute(text("INSERT INTO lean_probe VALUES (1)"))
        assert session.execute(text("SELECT count(*) FROM lean_probe")).scalar() == 1  # in the transaction
        session.rollback()
        assert session.execute(text("SELECT to_regclass('pg_temp.lean_probe')")).scalar() is None


def test_csrf_still_refuses_a_form_sent_without_its_token(client, get_csrf):
    """The CSRF check now looks at the method first (a GET needs no look-up of its view's exemption): a form posted
    without the page's token is refused as before, and one with it gets through to the form's own checks."""
    refused = client.post("/login/citizen", data={"phone": "13800000000"})
    assert refused.status_code == 400
    token = get_csrf("/login/citizen")
    checked = client.post("/login/citizen", data={"csrf_token": token, "phone": "not a phone"})
    assert checked.status_code == 422  # the form's own answer: the token was accepted
    api = client.post("/api/v1/applications", json={"item_code": "x"})  # the API is exempt (bearer tokens, S8)
    assert api.status_code == 401

