"""Staff login throttling: per (username, client address), a delay that grows with each failure.

A hard lock of the account after N failures let any stranger lock any member of staff out for half an hour
by guessing (a denial of service), and only existing usernames said "locked" (username enumeration). Instead:

- failures are counted per (username, address), whether or not the username exists, and the answer a client
  gets depends only on that count, never on the account: one message for every refusal;
- the first ``PORTAL_STAFF_MAX_FAILURES`` failures cost nothing (typing errors); each further one makes that
  pair wait ``PORTAL_STAFF_THROTTLE_BASE_SECONDS``, doubling, up to ``PORTAL_STAFF_LOCK_MINUTES``; an attempt
  during the wait is refused before any password hash is computed (S4), and does not lengthen it;
- the member of staff can still log in from their own address, whatever a stranger does elsewhere;
- when failures against an existing account pile up (``PORTAL_STAFF_MAX_FAILURES`` in a row, from anywhere),
  its owner gets an inbox message and the audit log an ``account.login_failures`` row (see ``login_staff``).

Rows are keyed by a blind index of the pair (neither the username nor the address is stored in clear) and
deleted on success; rows idle for a day are pruned as new failures come in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, String, delete, update
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..core.crypto import blind_index
from ..core.db import Base, db

PURPOSE = "staff_login_throttle"
IDLE = timedelta(days=1)


class LoginThrottle(Base):
    """Failed staff logins of one (username, client address) pair."""

    __tablename__ = "staff_login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # blind index of "username\0address"
    user_key: Mapped[str] = mapped_column(String(64), index=True)  # blind index of the username (unlock)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime]
    wait_until: Mapped[datetime | None]


def _key(username: str, client_ip: str) -> str:
    return blind_index(f"{username}\x00{client_ip}", PURPOSE)


def wait_seconds(username: str, client_ip: str) -> int:
    """Seconds this pair must still wait before its next attempt (0: it may try now)."""
    row = db.session.get(LoginThrottle, _key(username, client_ip), populate_existing=True)
    if row is None or row.wait_until is None:
        return 0
    return max(0, int((row.wait_until - clock.now()).total_seconds() + 0.999))


def delay_after(failures: int) -> timedelta:
    """The wait after the ``failures``-th failure in a row: none for the first few, then doubling to the cap."""
    free = current_app.config["PORTAL_STAFF_MAX_FAILURES"]
    if failures < free:
        return timedelta(0)
    base = current_app.config["PORTAL_STAFF_THROTTLE_BASE_SECONDS"]
    cap = current_app.config["PORTAL_STAFF_LOCK_MINUTES"] * 60
    return timedelta(seconds=min(cap, base * 2 ** min(failures - free, 20)))


def record_failure(username: str, client_ip: str) -> int:
    """Count a failure of the pair; returns the seconds it must now wait. Flushes, never commits.

    The count is the database's (an insert, or ``failures + 1`` on the existing row, in one statement), so
    failures sent at the same moment are each counted and the first two cannot both insert the row; the wait is
    set by the request whose count is still the row's, so a later, longer wait is never shortened by an earlier
    request finishing last."""
    now = clock.now()
    key = _key(username, client_ip)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_failed_at < now - IDLE))
    insert = db.upsert(LoginThrottle).values(
        key=key, user_key=blind_index(username, PURPOSE), failures=1, last_failed_at=now)
    failures = db.session.execute(
        insert.on_conflict_do_update(index_elements=["key"], set_={
            "failures": LoginThrottle.failures + 1, "last_failed_at": now}).returning(LoginThrottle.failures)
    ).scalar_one()
    delay = delay_after(failures)
    db.session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key, LoginThrottle.failures == failures)
        .values(wait_until=now + delay if delay else None),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()
    return int(delay.total_seconds())


def clear(username: str, client_ip: str | None = None) -> None:
    """Forget the failures of the pair (a success), or of every address of ``username`` (an administrator's
    ``portal staff unlock``)."""
    if client_ip is not None:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == _key(username, client_ip)))
    else:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.user_key == blind_index(username, PURPOSE)))
    db.session.flush()
