"""What a logged-in page sends to the database: its session and the header's unread count in one statement, then
one statement per thing it shows (tests/core/test_request_path.py has the transaction rules; the queue page's
statements are in tests/workbench/test_queues.py)."""

from __future__ import annotations

from tests.factories import SAVEPOINTS, sent_statements


def test_a_logged_in_page_reads_its_session_and_unread_count_in_one_statement(app, citizen, web_login):
    client = web_login(citizen)
    client.get("/me/records")  # the day's calendar answers are kept from here on
    status, sent = sent_statements(app, client, "/me/records", skip=(*SAVEPOINTS, "BEGIN"))
    assert status == 200
    reading = [s.split()[1].split(".")[0] for s in sent if s.startswith("SELECT")]  # the table of its first column
    # the session (with the header's count), then enrolments, contributions, the account, benefits and claims:
    # one statement each, none twice, and nothing written
    assert reading == ["login_session", "enrolment", "contribution", "personal_account", "benefit", "claim"], sent
    assert "FROM notification" in sent[0] and len(sent) == 6

