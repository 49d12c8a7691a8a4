"""S19/S20 with real concurrency: two submissions of one draft with the same Idempotency-Key at the same instant.

Two threads, each with its own app context, session and database connection, both read the draft before either
writes, then both submit (the mini-program retried, or a double tap reached two workers). The database serialises
the two UPDATEs of the case row; the second finds the version moved. Both must answer the same submitted case
(the replay returns what the first committed) — never a 500, never two submissions.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from portal.accounts import tokens
from portal.applications import operations as case_ops
from portal.applications.models import Application, ApplicationEvent
from portal.core.db import db
from tests.race_support import bound_citizen, complete_draft, empty_every_table, race_setup

pytestmark = pytest.mark.no_db


@pytest.fixture
def committed_draft(app, monkeypatch):
    """A citizen's complete draft and their API token, committed for real; every table emptied afterwards."""
    with race_setup(app, monkeypatch):
        citizen = bound_citizen(seq="771", insured_no="P-race-submit", name="钱同时", gender="M",
                                client_ip="127.0.0.21")
        case = complete_draft(app, citizen)
        token = tokens.issue_token(citizen, label="race")[0]
        db.session.commit()
        ids = case.id, token
    yield ids
    empty_every_table(app)


def test_two_submits_with_one_key_at_the_same_instant_answer_the_same_submitted_case(app, committed_draft,
                                                                                       monkeypatch):
    case_id, token = committed_draft
    key = str(uuid.uuid4())
    both_read = threading.Barrier(2, timeout=20)
    waited = threading.local()
    real_check = case_ops.check_idempotency_key

    def check_then_wait(case, sent_key):  # the API's first look at the draft: both have read it, then both submit
        real_check(case, sent_key)
        if not getattr(waited, "done", False):
            waited.done = True
            both_read.wait()

    monkeypatch.setattr(case_ops, "check_idempotency_key", check_then_wait)
    answers: dict[int, object] = {}

    def submit(slot: int) -> None:
        try:
            response = app.test_client().post(f"/api/v1/applications/{case_id}/submit", headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": key, "Accept-Language": "en"})
            answers[slot] = (response.status_code, response.get_json())
        except Exception as error:  # recorded, so the assertion below shows it
            answers[slot] = error

    threads = [threading.Thread(target=submit, args=(slot,)) for slot in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(answer[0] for answer in answers.values())
    assert statuses == [200, 200], answers  # the replay answers what the first committed: not 500, not 409
    first, second = (answers[slot][1] for slot in (1, 2))
    assert first["number"] and first["number"] == second["number"] and first["id"] == second["id"] == case_id
    assert first["state"] == second["state"] != "draft"
    with app.app_context():
        case = db.session.get(Application, case_id)
        assert case.idempotency_key == key and case.number == first["number"]
        submits = db.session.execute(select(func.count()).select_from(ApplicationEvent).where(
            ApplicationEvent.application_id == case_id, ApplicationEvent.action == "submit")).scalar_one()
        assert submits == 1
        db.session.remove()
