"""Two logins with one 医保电子凭证 code at the same moment, in two processes' worth of sessions and connections
(PostgreSQL): exactly one logs in; the other is refused as a replay, never a 500 and never a second session."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.ecredential_login import ECredentialLogin, login_with_ecredential
from portal.accounts.models import Account
from portal.core.db import db
from portal.core.errors import AuthenticationFailed
from portal.insurance.models import Person
from tests.factories import mobile, valid_id_number
from tests.race_support import SYSTEM, empty_every_table, outcomes_at_once, race_setup

pytestmark = pytest.mark.no_db


@pytest.fixture
def holder(app, monkeypatch):
    with race_setup(app, monkeypatch):
        number = valid_id_number(seq="781")
        person = Person(insured_no="P-race-ecred", name="钱晓燕", gender="F", birth_date=date(1979, 5, 2))
        person.set_id_number(number)
        person.set_phone(mobile())
        db.session.add(person)
        db.session.commit()
        code = f"ecred-{number}-{person.name}"
    yield code
    empty_every_table(app)


def test_two_logins_with_one_code_at_once_let_exactly_one_in(app, holder, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)  # the guard holds without the rate limiter
    start = threading.Barrier(2, timeout=20)

    def attempt(n: int) -> None:
        start.wait()
        login_with_ecredential(ECredentialLogin(holder), actor=SYSTEM, client_ip=f"127.0.0.{60 + n}")

    assert outcomes_at_once(app, attempt, [(0,), (1,)], (AuthenticationFailed,), ok="logged in") == \
        ["AuthenticationFailed", "logged in"]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Account)
                                  .where(Account.person_id.is_not(None))).scalar() == 1
