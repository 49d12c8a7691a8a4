"""The in-portal inbox: the unread count in the navigation, reading and marking messages, and its API."""

from __future__ import annotations

import re

from flask import g, session
from sqlalchemy import event

from portal.accounts.auth import _load_from_session
from portal.core.db import db
from portal.notifications.constants import Event
from portal.notifications.operations import mark_read, notify, unread_count

CONTEXT = {"destination": "海南省", "expires_on": "2026-12-31"}


def _badge(html: str) -> str | None:
    match = re.search(r'class="nav-inbox">[^<]*(?:<span class="badge"[^>]*>(\d+)</span>)?', html)
    assert match, "no inbox link in the navigation"
    return match.group(1)


def test_the_navigation_counts_unread_messages_and_reading_clears_them(citizen, web_login):
    client = web_login(citizen)
    assert _badge(client.get("/me").get_data(as_text=True)) is None
    first = notify(citizen, Event.FILING_EXPIRING, CONTEXT)
    notify(citizen, Event.FILING_EXPIRING, CONTEXT)
    assert _badge(client.get("/me").get_data(as_text=True)) == "2"

    page = client.get("/inbox").get_data(as_text=True)
    assert page.count("Filing about to expire") == 2 and "海南省" in page
    token = client.csrf("/inbox")
    assert client.post(f"/inbox/{first.id}/read", data={"csrf_token": token}).status_code == 302
    assert _badge(client.get("/me").get_data(as_text=True)) == "1"
    client.post("/inbox/read-all", data={"csrf_token": token})
    assert _badge(client.get("/me").get_data(as_text=True)) is None


def test_another_persons_message_answers_404(citizen, make_citizen, web_login):
    other = make_citizen("赵六")
    theirs = notify(other, Event.FILING_EXPIRING, CONTEXT)
    client = web_login(citizen)
    token = client.csrf("/inbox")
    assert client.post(f"/inbox/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    assert theirs.read_at is None


def test_the_inbox_api_lists_and_marks_messages(citizen, bearer, client):
    message = notify(citizen, Event.FILING_EXPIRING, CONTEXT)
    headers = bearer(citizen)
    body = client.get("/api/v1/inbox", headers=headers).get_json()
    assert body["total"] == 1 and body["unread"] == 1
    [item] = body["messages"]
    assert set(item) == {"id", "event", "subject", "body", "created_at", "is_read", "application_id"}
    assert item["event"] == "filing_expiring" and item["subject"] == "Filing about to expire"
    assert "海南省" in item["body"] and item["is_read"] is False
    answer = client.post(f"/api/v1/inbox/{message.id}/read", headers=headers)
    assert answer.status_code == 200 and answer.get_json() == {"unread": 0}
    assert client.post("/api/v1/inbox/999999/read", headers=headers).status_code == 404


def test_the_case_message_links_to_the_case(case_in, citizen, web_login):
    case = case_in("accepted")
    client = web_login(citizen)
    page = client.get("/inbox").get_data(as_text=True)
    assert "Application accepted" in page and case.number in page
    message_id = re.search(r'action="/inbox/(\d+)/read"', page).group(1)
    answer = client.post(f"/inbox/{message_id}/read", data={"csrf_token": client.csrf("/inbox"), "open": "case"})
    assert answer.headers["Location"].endswith(f"/applications/{case.id}")


def _statements_of(app, client, path: str) -> list[str]:
    engine = app.extensions["portal_db_engine"]
    sent: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        html = client.get(path).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return [html, *sent]


def test_the_count_comes_with_the_session_and_is_never_stale_within_a_request(app, citizen, web_login):
    client = web_login(citizen)
    notify(citizen, Event.FILING_EXPIRING, CONTEXT)
    html, *sent = _statements_of(app, client, "/me")
    assert _badge(html) == "1"
    counting = [s for s in sent if "FROM notification" in s]
    assert len(counting) == 1 and "FROM login_session" in counting[0]  # one statement: the session's own
    # a message written in the request, and one read in it: the header of that same request counts again
    with client.session_transaction() as browser:
        cookie_session = dict(browser)
    with app.test_request_context("/me"):
        session.update(cookie_session)
        account = _load_from_session(None)
        assert unread_count(account) == 1 and g.unread_count == (account.id, 1)
        new = notify(account, Event.FILING_EXPIRING, CONTEXT)
        assert unread_count(account) == 2
        mark_read(new.id, by=account)
        assert unread_count(account) == 1
        assert unread_count(type("Other", (), {"is_authenticated": True, "id": account.id + 10_000})()) == 0
        db.session.rollback()
