"""Staff login: password AND TOTP code (S5), slowed down per (username, address) instead of locked (S4).

See ``accounts.throttling`` for why a stranger's guesses no longer lock anyone out. Like every operation it
flushes and never commits; the view keeps the refusal's counters and audit rows (``commit_failures``).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from ..core import clock
from ..core.audit import Actor, actor_of, record
from ..core.db import db
from ..core.errors import AuthenticationFailed, ValidationFailed
from ..core.translation import gettext as _
from . import passwords, throttling
from .inputs import StaffLogin
from .models import Account, staff_login_key
from .operations import _account_by_key, throttle


def _staff_refused(wait: int) -> AuthenticationFailed:
    """The one refusal of a staff login, whatever went wrong (S4): it depends only on the wait of the
    (username, address) pair, never on whether the account exists, is locked or is disabled."""
    if wait:
        return AuthenticationFailed(
            _("The username, password or verification code is wrong, or there were too many attempts. "
              "Wait %(seconds)s seconds before trying again.", seconds=wait), code="login_failed")
    return AuthenticationFailed(_("The username, password or verification code is wrong."), code="login_failed")


def _notice_failures(account: Account) -> None:
    """Tell the owner when failures against their account pile up (every ``PORTAL_STAFF_MAX_FAILURES``)."""
    every = current_app.config["PORTAL_STAFF_MAX_FAILURES"]
    if account.failed_logins % every:
        return
    record("account.login_failures", actor=Actor.system(), object_type="account", object_id=account.id,
           detail={"failures": account.failed_logins})
    from ..notifications.constants import Channel, Event
    from ..notifications.operations import notify

    notify(account, Event.LOGIN_FAILURES, {"failures": str(account.failed_logins),
                                           "last_on": clock.today().isoformat()}, channels=(Channel.INBOX,))


def _claim_step(account: Account, step: int) -> bool:
    """Make ``step`` the account's last used TOTP step, only if it is later than the last one: a conditional
    statement on the row, so of two logins with the same code at the same moment only one gets in (S5)."""
    return db.session.execute(
        update(Account).where(Account.id == account.id, Account.totp_last_step < step)
        .values(totp_last_step=step).returning(Account.id),
        execution_options={"synchronize_session": "fetch"},
    ).first() is not None


def _count_failure(account: Account) -> None:
    """One more failed login against ``account``, counted by the database (``failed_logins + 1``), so parallel
    failures are each counted, and each count is seen by one request only (the owner hears once per threshold)."""
    count = db.session.execute(
        update(Account).where(Account.id == account.id).values(failed_logins=Account.failed_logins + 1)
        .returning(Account.failed_logins),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(account, "failed_logins", count)  # the database's count (the ORM would add 1 to ours)


def login_staff(data: StaffLogin, *, actor: Actor, client_ip: str) -> Account:
    """Log a staff member in with password AND TOTP code (S5).

    Order matters (S4): the per-IP limit and the (username, address) wait are checked before any hash is
    computed. Failures slow that pair down (``accounts.throttling``) instead of locking the account, so a
    stranger cannot lock anyone out; every refusal reads the same; the owner hears of repeated failures.
    """
    username = (data.username or "").strip().lower()[:64]
    if not username or not data.password:
        raise ValidationFailed([(None, _("Enter the username, the password and the verification code."))])
    throttle("PORTAL_LIMIT_STAFF_LOGIN_IP", client_ip)
    wait = throttling.wait_seconds(username, client_ip)
    account = _account_by_key(staff_login_key(username))
    if wait:
        record("login.failed", actor=actor, object_type="account", object_id=account.id if account else None,
               result="denied", detail={"method": "password", "reason": "throttled", "wait": wait})
        raise _staff_refused(wait)
    now = clock.now()
    password_ok = passwords.verify_password(account.password_hash if account else None, data.password[:256])
    step = passwords.totp_step((data.totp or "").strip(), account.totp_secret or "", now) \
        if password_ok and account is not None else None
    if (account is None or not password_ok or step is None or step <= account.totp_last_step
            or not account.is_active or not _claim_step(account, step)):
        wait = throttling.record_failure(username, client_ip)
        if account is None:
            record("login.failed", actor=actor, result="failed", detail={"method": "password", "reason": "unknown"})
            raise _staff_refused(wait)
        _count_failure(account)
        reason = "password" if not password_ok else ("totp" if account.is_active else "disabled")
        db.session.flush()
        record("login.failed", actor=actor, object_type="account", object_id=account.id, result="failed",
               detail={"method": "password+totp", "reason": reason, "failures": account.failed_logins})
        _notice_failures(account)
        raise _staff_refused(wait)
    throttling.clear(username, client_ip)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if passwords.needs_rehash(account.password_hash or ""):
        account.password_hash = passwords.hash_password(data.password)
    db.session.flush()
    record("login.ok", actor=actor_of(account), object_type="account", object_id=account.id,
           detail={"method": "password+totp"})
    return account
