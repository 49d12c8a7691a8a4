"""One SMS code checked by several requests at the same moment (PostgreSQL, each request its own session and
connection, the challenge committed before): parallel guesses never spend more attempts than the limit, so the limit
is not a per-request one; and of two right answers sent at once, only one uses the code up (one login, not two)."""

from __future__ import annotations

import threading

import pytest

from portal.accounts import otp
from portal.accounts.models import OtpChallenge, OtpPurpose
from portal.core.db import db
from tests.factories import mobile
from tests.race_support import empty_every_table, race_setup, run_at_once

pytestmark = pytest.mark.no_db


@pytest.fixture
def challenge(app, monkeypatch):
    """A live login code for a phone: (its handle, the code)."""
    with race_setup(app, monkeypatch):
        issued = otp.issue(OtpPurpose.CITIZEN_LOGIN, mobile())
        db.session.commit()
        handle, code = issued.handle, issued.code
    yield handle, code
    empty_every_table(app)


def _check_at_once(app, handle: str, codes: list[str]) -> list[bool]:
    """Each code checked by its own request; all have read the challenge before any checks it."""
    loaded = threading.Barrier(len(codes), timeout=20)
    outcomes: list[bool] = []

    def attempt(code: str) -> None:
        with app.app_context(), app.test_request_context("/"):
            try:
                found = otp.find_by_handle(handle)
                loaded.wait()
                outcomes.append(otp.check(found, code))
                db.session.commit()
            finally:
                db.session.remove()

    run_at_once(attempt, [(code,) for code in codes])
    assert len(outcomes) == len(codes)
    return outcomes


def _attempts(app, handle: str) -> int:
    with app.app_context():
        try:
            return otp.find_by_handle(handle).attempts
        finally:
            db.session.remove()


def test_parallel_guesses_spend_no_more_than_the_limit(app, challenge):
    handle, code = challenge
    limit = app.config["PORTAL_OTP_MAX_ATTEMPTS"]
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, limit + 4)]
    assert _check_at_once(app, handle, wrong) == [False] * len(wrong)
    assert _attempts(app, handle) == limit
    assert _check_at_once(app, handle, [code]) == [False]  # spent: the right code no longer logs in


def test_two_right_answers_at_once_use_the_code_once(app, challenge):
    handle, code = challenge
    assert sorted(_check_at_once(app, handle, [code, code])) == [False, True]
    with app.app_context():
        try:
            assert db.session.get(OtpChallenge, otp.find_by_handle(handle).id).used_at is not None
        finally:
            db.session.remove()
