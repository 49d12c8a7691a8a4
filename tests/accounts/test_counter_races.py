"""Counters and once-only values of accounts under requests at the same moment (PostgreSQL: each request its own
session and connection, the rows committed before). Every request has read the row before any of them writes, the
worst order for a count kept in Python:

- parallel wrong staff passwords are each counted, on the account and on the (username, address) wait, and the
  owner hears once;
- one TOTP code sent twice at once logs in once (S5);
- parallel real-name tries never learn more than the account's five tries allow;
- two first logins of one phone at once end in one account, both logged in.

Each test failed on the code before these counters were kept by the database (checked)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import passwords, staff_login, throttling
from portal.accounts.models import Account, Role
from portal.accounts.throttling import LoginThrottle
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.db import db
from portal.core.errors import AuthenticationFailed, RateLimited, ValidationFailed
from portal.notifications.models import Notification
from tests.factories import STAFF_PASSWORD, mobile, valid_id_number
from tests.race_support import SYSTEM, empty_every_table, outcomes_at_once, race_setup

pytestmark = pytest.mark.no_db

STRANGER = "203.0.113.77"


@pytest.fixture
def no_rate_limits(app, monkeypatch):
    """The database's counters must hold by themselves (the limiter bounds requests per address, not these)."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)


@pytest.fixture
def clerk(app, monkeypatch, no_rate_limits):
    """A member of staff, committed: (account id, TOTP secret)."""
    with race_setup(app, monkeypatch):
        account, secret = account_ops.create_staff(
            account_ops.NewStaff("raceclerk", "Race Clerk", STAFF_PASSWORD, frozenset({Role.ACCEPTOR})), actor=SYSTEM)
        db.session.commit()
        ids = account.id, secret
    yield ids
    empty_every_table(app)


def _all_past(monkeypatch, module, name: str, parties: int) -> None:
    """Make each request's first call of ``module.name`` wait, after doing its work, until ``parties`` requests
    have all made theirs: every request has then read what it reads before its first write."""
    real = getattr(module, name)
    together = threading.Barrier(parties, timeout=20)
    seen = threading.local()

    def waiting(*args, **kwargs):
        result = real(*args, **kwargs)
        if not getattr(seen, "waited", False):
            seen.waited = True
            together.wait()
        return result

    monkeypatch.setattr(module, name, waiting)


def _run(app, work, arguments) -> list[str]:
    """Each request's outcome; refusals are committed, as the views commit them (they keep their counts)."""
    return outcomes_at_once(app, work, arguments, (AuthenticationFailed, ValidationFailed, RateLimited),
                            keep_refused=True)


def _staff_login(password: str, totp: str) -> None:
    staff_login.login_staff(account_ops.StaffLogin("raceclerk", password, totp), actor=Actor("anonymous"),
                            client_ip=STRANGER)


def _read(app, query):
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def test_parallel_wrong_staff_passwords_are_each_counted(app, clerk, monkeypatch):
    account_id, _secret = clerk
    guesses = 6
    _all_past(monkeypatch, passwords, "verify_password", guesses)
    outcomes = _run(app, _staff_login, [(f"Wrong-Password-{n}", "000000") for n in range(guesses)])
    assert outcomes == ["AuthenticationFailed"] * guesses

    def state():
        row = db.session.execute(select(LoginThrottle)).scalar_one()
        notices = db.session.scalar(select(func.count()).select_from(Notification)
                                    .where(Notification.account_id == account_id))
        audits = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "account.login_failures"))
        return (db.session.get(Account, account_id).failed_logins, row.failures,
                row.wait_until - row.last_failed_at, notices, audits)

    with app.app_context():
        delay = throttling.delay_after(guesses)
    # six failures on the account and on the pair, the wait of the sixth, one notice at the fifth
    assert _read(app, state) == (guesses, guesses, delay, 1, 1)


def test_one_totp_code_sent_twice_at_once_logs_in_once(app, clerk, monkeypatch):
    account_id, secret = clerk
    code = passwords.current_totp(secret, clock.now())
    _all_past(monkeypatch, passwords, "verify_password", 2)
    assert _run(app, _staff_login, [(STAFF_PASSWORD, code), (STAFF_PASSWORD, code)]) == \
        ["AuthenticationFailed", "ok"]
    assert _read(app, lambda: db.session.get(Account, account_id).failed_logins) == 1


@pytest.fixture
def stranger(app, monkeypatch, no_rate_limits):
    """A citizen account, logged in by SMS and not bound, committed: its id."""
    with race_setup(app, monkeypatch):
        code = account_ops.request_login_code(account_ops.CodeRequest(mobile()), actor=SYSTEM, client_ip=STRANGER)
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip=STRANGER)
        db.session.commit()
        account_id = account.id
    yield account_id
    empty_every_table(app)


def test_parallel_real_name_tries_learn_no_more_than_the_limit(app, stranger, monkeypatch):
    tries = binding_ops.BIND_MAX_FAILURES + 3
    _all_past(monkeypatch, binding_ops, "_limit", tries)  # each has read the account and passed its block check

    def bind(seq: str) -> None:
        binding_ops.bind_real_name(db.session.get(Account, stranger),
                                   binding_ops.RealNameBinding("赵不在", valid_id_number(seq=seq)), actor=SYSTEM,
                                   client_ip=STRANGER)

    outcomes = _run(app, bind, [(f"{600 + n}",) for n in range(tries)])
    # five are told "no match" (the fifth: "try again after 24 hours"); the others find the account blocked
    assert outcomes == ["RateLimited"] * 3 + ["ValidationFailed"] * binding_ops.BIND_MAX_FAILURES

    def state():
        account = db.session.get(Account, stranger)
        return account.bind_failures, account.bind_blocked_until is not None and account.bind_blocked_until > \
            clock.now()

    assert _read(app, state) == (0, True)


@pytest.fixture
def phone(app, monkeypatch, no_rate_limits):
    with race_setup(app, monkeypatch):
        pass
    yield mobile()
    empty_every_table(app)


def test_two_first_logins_of_one_phone_at_once_make_one_account(app, phone, monkeypatch):
    _all_past(monkeypatch, account_ops, "_account_by_key", 2)
    ids: list[int] = []

    def first_login(n: int) -> None:
        ids.append(account_ops.citizen_account(phone, actor=SYSTEM).id)

    assert _run(app, first_login, [(0,), (1,)]) == ["ok", "ok"]
    assert len(set(ids)) == 1

    def counts():
        return (db.session.scalar(select(func.count()).select_from(Account)),
                db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "account.created")))

    assert _read(app, counts) == (1, 1)
