"""S19/S20 with real concurrency: two submissions of one draft with the same Idempotency-Key at the same instant.

Two threads, each with its own app context, session and database connection, both read the draft before either
writes, then both submit (the mini-program retried, or a double tap reached two workers). The database serialises
the two UPDATEs of the case row; the second finds the version moved. Both must answer the same submitted case
(the replay returns what the first committed) — never a 500, never two submissions.
"""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import passwords, tokens
from portal.applications import operations as case_ops
from portal.applications.models import Application, ApplicationEvent
from portal.core.audit import Actor
from portal.core.db import Base, db
from tests.applications.conftest import PROMISE_ITEM, all_materials, sample_value
from tests.factories import mobile, valid_id_number

pytestmark = pytest.mark.no_db
SYSTEM = Actor.system()


@pytest.fixture
def committed_draft(app, monkeypatch):
    """A citizen's complete draft and their API token, committed for real; every table emptied afterwards."""
    if app.extensions["portal_db_engine"].dialect.name != "postgresql":
        # SQLite (development) lets one writer in at a time and refuses a write from a transaction that read
        # before another's commit, so two requests cannot interleave as they do here
        pytest.skip("needs PostgreSQL (PORTAL_TEST_DATABASE_URL)")
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
        from portal.insurance.models import Person

        number = valid_id_number(seq="771")
        person = Person(insured_no="P-race-submit", name="钱同时", gender="M", birth_date=date(1985, 3, 12))
        person.set_id_number(number)
        phone = mobile()
        person.set_phone(phone)
        db.session.add(person)
        db.session.flush()
        code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.21")
        citizen = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="127.0.0.21")
        binding_ops.bind_real_name(citizen, binding_ops.RealNameBinding(person.name, number), actor=SYSTEM)
        item = app.extensions["portal_catalog"].get(PROMISE_ITEM)
        case = case_ops.start_application(item, by=citizen, actor=SYSTEM)
        data = dict(case.form_data)
        for spec in case_ops.specs_for(case, item):
            if spec.required and spec.key not in data:
                data[spec.key] = sample_value(spec)
        case_ops.save_draft(case, case_ops.DraftInput(form=data, materials=all_materials(item)), by=citizen,
                            actor=SYSTEM)
        token = tokens.issue_token(citizen, label="race")[0]
        db.session.commit()
        ids = case.id, token
    yield ids
    with app.app_context():
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


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
