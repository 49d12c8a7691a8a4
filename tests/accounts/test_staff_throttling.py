"""Staff login throttling (issue 25, point 5): failures slow down one (username, address) pair with a growing
wait instead of locking the account, every refusal reads the same whether the username exists or not, and
the owner hears when failures pile up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from portal.accounts import operations, passwords, staff_login
from portal.accounts.throttling import LoginThrottle
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.errors import AuthenticationFailed
from portal.notifications.models import Notification
from tests.factories import STAFF_PASSWORD

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
STRANGER = "203.0.113.66"
GUESS = "Wrong-Password-1"


class CountingHasher(PasswordHasher):
    calls = 0

    def verify(self, hash, password):
        CountingHasher.calls += 1
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """A cheap argon2id that counts its work (the default costs ~0.4 s a hash)."""
    CountingHasher.calls = 0
    monkeypatch.setattr(passwords, "hasher", CountingHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return CountingHasher


def attempt(username: str, password: str | None = None, totp: str = "000000", ip: str = STRANGER):
    """One login by the operation (a wrong password unless given); returns None on success, else the refusal's
    (status, code, message)."""
    password = password or GUESS
    try:
        staff_login.login_staff(operations.StaffLogin(username, password, totp), actor=Actor("anonymous"),
                                client_ip=ip)
    except AuthenticationFailed as refusal:
        return refusal.status, refusal.code, refusal.message
    return None


def test_failures_make_the_pair_wait_longer_and_longer(make_staff, staff_login):
    account, secret = make_staff("clerk")
    with clock.frozen(T0) as frozen:
        for _ in range(4):
            assert staff_login("clerk", secret, password="Wrong-Password-1").status_code == 401
        fifth = staff_login("clerk", secret, password="Wrong-Password-1")
        assert fifth.status_code == 401 and "Wait 30 seconds" in fifth.get_data(as_text=True)
        waiting = staff_login("clerk", secret)  # the right password and code, but within the wait
        assert waiting.status_code == 401 and "Wait 30 seconds" in waiting.get_data(as_text=True)
        frozen.tick(timedelta(seconds=31))
        sixth = staff_login("clerk", secret, password="Wrong-Password-1")
        assert "Wait 60 seconds" in sixth.get_data(as_text=True)  # doubled
        frozen.tick(timedelta(seconds=61))
        assert staff_login("clerk", secret).status_code == 302
    assert account.failed_logins == 0 and account.locked_until is None


def test_the_wait_stops_growing_at_the_cap(app):
    from portal.accounts.throttling import delay_after

    assert [delay_after(n).total_seconds() for n in (1, 4, 5, 6, 7)] == [0, 0, 30, 60, 120]
    assert delay_after(40) == timedelta(minutes=app.config["PORTAL_STAFF_LOCK_MINUTES"])


def test_a_stranger_cannot_lock_the_owner_out(make_staff, staff_login, db_session):
    account, secret = make_staff("clerk")
    with clock.frozen(T0):
        for _ in range(12):
            assert attempt("clerk") is not None
        assert staff_login("clerk", secret).status_code == 302  # the owner, from their own address
    assert account.locked_until is None


def test_every_refusal_reads_the_same_whether_the_username_exists_or_not(make_staff, db_session):
    make_staff("clerk")
    with clock.frozen(T0) as frozen:
        known = [attempt("clerk") for _ in range(7)]
        unknown = [attempt("nosuchclerk") for _ in range(7)]
        frozen.tick(timedelta(seconds=1))
        known.append(attempt("clerk", password=STAFF_PASSWORD))
        unknown.append(attempt("nosuchclerk", password=STAFF_PASSWORD))
    assert known == unknown
    assert len({status for status, _code, _message in known}) == 1 and "locked" not in str(known)


def test_a_wrong_verification_code_counts_like_a_wrong_password(make_staff):
    _account, secret = make_staff("clerk")
    with clock.frozen(T0):
        good = passwords.current_totp(secret, T0)
        bad = f"{(int(good) + 500_000) % 1_000_000:06d}"
        refusals = [attempt("clerk", password=STAFF_PASSWORD, totp=bad) for _ in range(5)]
    assert "Wait 30 seconds" in refusals[-1][2]


def test_an_attempt_during_the_wait_costs_no_hash(make_staff, cheap_hashes):
    make_staff("clerk")
    with clock.frozen(T0):
        for _ in range(5):
            attempt("clerk")
        cheap_hashes.calls = 0
        assert attempt("clerk", password=STAFF_PASSWORD) is not None
    assert cheap_hashes.calls == 0


def test_the_owner_hears_when_failures_pile_up(make_staff, db_session):
    account, _secret = make_staff("clerk")
    with clock.frozen(T0):
        for n in range(5):
            attempt("clerk", ip=f"198.51.100.{n}")  # from five addresses: no wait anywhere, still counted
    notices = db_session.execute(select(Notification).where(Notification.account_id == account.id)).scalars().all()
    assert [n.event for n in notices] == ["login_failures"] and notices[0].context["failures"] == "5"
    actions = db_session.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(account.id))).scalars()
    assert "account.login_failures" in list(actions)


def test_the_pair_is_stored_as_blind_indexes_and_cleared_by_unlock(make_staff, db_session):
    account, _secret = make_staff("clerk")
    with clock.frozen(T0):
        for _ in range(5):
            attempt("clerk")
        rows = db_session.execute(select(LoginThrottle)).scalars().all()
        assert len(rows) == 1 and STRANGER not in rows[0].key and "clerk" not in rows[0].key
        operations.unlock_staff(account, actor=Actor.system())
        assert db_session.execute(select(LoginThrottle)).first() is None
        assert attempt("clerk", password=STAFF_PASSWORD, totp=passwords.current_totp(account.totp_secret, T0)) \
            is None
