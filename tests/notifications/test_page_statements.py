"""What a logged-in page sends to the database: its session and the header's unread count in one statement, then
one statement per thing it shows (tests/core/test_request_path.py has the transaction rules)."""

from __future__ import annotations

from sqlalchemy import event

from portal.accounts.models import Role
from portal.core.db import db
from tests.factories import log_in_staff


def _sent_by(app, client, path: str) -> tuple[int, list[str]]:
    sent: list[str] = []
    engine = app.extensions["portal_db_engine"]

    def on_sql(_conn, _cursor, statement, *_args):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN")):
            sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        status = client.get(path).status_code
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
    return status, sent


def test_a_logged_in_page_reads_its_session_and_unread_count_in_one_statement(app, citizen, web_login):
    client = web_login(citizen)
    client.get("/me/records")  # the day's calendar answers are kept from here on
    status, sent = _sent_by(app, client, "/me/records")
    assert status == 200
    reading = [s.split()[1].split(".")[0] for s in sent if s.startswith("SELECT")]  # the table of its first column
    # the session (with the header's count), then enrolments, contributions, the account, benefits and claims:
    # one statement each, none twice, and nothing written
    assert reading == ["login_session", "enrolment", "contribution", "personal_account", "benefit", "claim"], sent
    assert "FROM notification" in sent[0] and len(sent) == 6


def test_a_queue_page_reads_its_cases_as_plain_rows(app, case_in, make_client, make_staff):
    case_in("submitted")
    _account, secret = make_staff("rowclerk", roles={Role.ACCEPTOR, Role.REVIEWER})
    db.session.commit()
    clerk = log_in_staff(make_client(), "rowclerk", secret)
    clerk.get("/staff/queues/intake")
    status, sent = _sent_by(app, clerk, "/staff/queues/intake")
    assert status == 200
    listing = [s for s in sent if s.startswith("SELECT application.id")]
    assert len(listing) == 1 and "account_1.display_name" in listing[0]
    assert "form_json" not in listing[0] and "person" not in listing[0]  # nothing the list does not show
    assert len([s for s in sent if s.startswith("SELECT")]) == 2  # the session (with its count) and the list
