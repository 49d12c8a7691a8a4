"""On PostgreSQL: a browser's parallel requests do not queue behind each other to refresh their session's
``last_seen_at`` (nor a mini-program's behind its token's ``last_used_at``). Whichever request takes the row refreshes
it; one that finds the row taken goes on at once without writing. Real rows, committed, and a second connection that
holds the row's lock as a parallel request's refresh would."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.accounts.auth import SESSION_KEY, start_session
from portal.accounts.tokens import issue_token
from portal.core import clock
from portal.core.db import db
from tests.race_support import bound_citizen, empty_every_table, race_setup

pytestmark = pytest.mark.no_db


@pytest.fixture
def committed(app, monkeypatch):
    """A bound citizen with a browser session and an API token, both last used a minute and a half ago."""
    with race_setup(app, monkeypatch):
        citizen = bound_citizen(seq="774", insured_no="P-race-sid", name="钱并行", gender="F", client_ip="127.0.0.21")
        with clock.frozen(clock.now() - timedelta(seconds=90)):
            raw_session = start_session(citizen, ip="127.0.0.21", user_agent="race")
            raw_token, _token = issue_token(citizen, label="race")
        db.session.commit()
        yield raw_session, raw_token
    empty_every_table(app)


LOCK_SESSION = "SELECT id FROM login_session FOR UPDATE"  # the one row of each (the tables are emptied after)
LOCK_TOKEN = "SELECT id FROM api_token FOR UPDATE"
TOKEN_USED = "SELECT last_used_at FROM api_token"


def _while_locked(app, lock: str, request) -> tuple[bool, int]:
    """``request()`` run while another connection holds the row's lock: (whether it finished before the lock was let
    go, its status)."""
    engine = app.extensions["portal_db_engine"]
    outcome: dict[str, int] = {}
    with engine.connect() as holder:
        holder.execute(text(lock))  # a parallel refresh, mid-way
        worker = threading.Thread(target=lambda: outcome.setdefault("status", request()))
        worker.start()
        worker.join(timeout=10)
        finished_first = not worker.is_alive()
        holder.rollback()
    worker.join(timeout=30)
    return finished_first, outcome.get("status", 0)


def _stamp(app, sql: str):
    with app.app_context():
        return db.session.execute(text(sql)).scalar()


def test_a_page_does_not_wait_for_a_parallel_refresh_of_its_session(app, committed):
    raw_session, _raw_token = committed
    client = app.test_client()
    with client.session_transaction() as browser:
        browser[SESSION_KEY] = raw_session
    before = _stamp(app, "SELECT last_seen_at FROM login_session")

    def page() -> int:
        with app.app_context():
            return client.get("/me").status_code

    finished_first, status = _while_locked(app, LOCK_SESSION, page)
    assert finished_first and status == 200  # did not wait on the lock
    assert _stamp(app, "SELECT last_seen_at FROM login_session") == before  # the refresh was left to the holder
    assert page() == 200  # the row free again: this one refreshes it
    assert _stamp(app, "SELECT last_seen_at FROM login_session") > before


def test_an_api_call_does_not_wait_for_a_parallel_refresh_of_its_token(app, committed):
    _raw_session, raw_token = committed
    client = app.test_client()
    before = _stamp(app, TOKEN_USED)

    def call() -> int:
        with app.app_context():
            return client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw_token}"}).status_code

    finished_first, status = _while_locked(app, LOCK_TOKEN, call)
    assert finished_first and status == 200
    assert _stamp(app, TOKEN_USED) == before
    assert call() == 200
    assert before is None  # never used yet
    assert _stamp(app, TOKEN_USED) is not None
