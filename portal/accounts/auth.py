"""Server-side login sessions (S1–S3).

The Flask cookie holds only a random session id (256 bits); ``login_session`` keeps its SHA-256 with
the account, times, IP and user agent. Every request looks the id up, refuses revoked sessions and
those past the idle or absolute timeout of the account's kind (``PORTAL_SESSION_IDLE`` /
``PORTAL_SESSION_ABSOLUTE``, measured with ``portal.core.clock``), and refreshes ``last_seen_at`` at
most once a minute. Revoking the rows ends the sessions at once, whatever the browser still holds.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, current_app, g, redirect, request, session, url_for
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload, lazyload

from ..core import clock
from ..core.crypto import sha256_hex
from ..core.db import db, stamp_unless_taken
from ..core.translation import gettext as _
from ..core.web import error_envelope, is_api_request
from ..extensions import login_manager
from ..notifications.models import Notification
from ..notifications.operations import UNREAD_KEY
from . import staff_area
from .models import Account, AnonymousAccount, LoginSession

SESSION_KEY = "sid"
LAST_SEEN_GRANULARITY = timedelta(minutes=1)
# Built once: every page of a logged-in visitor runs it (SQLAlchemy then finds its compiled form by the same key).
# The account comes with its person (citizens' pages read it) and mandate (``is_active`` reads it); an agent's unit
# or institution is read by its key when a page asks for it (nobody else has one), not joined into every request.
# The header's unread-message count comes in the same statement (one round trip less on every page).
_UNREAD = (select(func.count()).select_from(Notification)
           .where(Notification.account_id == LoginSession.account_id, Notification.read_at.is_(None))
           .correlate(LoginSession).scalar_subquery())
_SESSION_BY_HASH = select(LoginSession, _UNREAD).where(LoginSession.token_hash == bindparam("token_hash")).options(
    joinedload(LoginSession.account).options(lazyload(Account.unit), lazyload(Account.institution)))


def start_session(account: Account, *, ip: str | None, user_agent: str | None) -> str:
    """Record a new login session for ``account``; returns the raw id to put in the cookie."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(LoginSession(token_hash=sha256_hex(raw), account_id=account.id, kind=account.kind,
                                created_at=now, last_seen_at=now, ip=ip, user_agent=(user_agent or "")[:200]))
    db.session.flush()
    return raw


def revoke_sessions(account: Account, reason: str) -> int:
    """Revoke every live session of ``account`` (logout, password or role change, removal)."""
    result = db.session.execute(
        update(LoginSession).where(LoginSession.account_id == account.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    db.session.flush()
    return result.rowcount or 0


def login_browser(account: Account) -> None:
    """Start a server-side session and put only its id in a fresh cookie (no fixation, no remember-me)."""
    previous = g.get("login_session")
    if previous is not None and previous.revoked_at is None:  # logging in again replaces the old session
        previous.revoked_at = clock.now()
        previous.revoked_reason = "replaced"
    raw = start_session(account, ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
    session.clear()
    session.permanent = False  # a browser-session cookie; the server enforces the real lifetimes
    session[SESSION_KEY] = raw
    g.pop("_login_user", None)
    g.pop("login_session", None)


def forget_browser() -> None:
    session.clear()
    g.pop("_login_user", None)


def session_is_current(record: LoginSession) -> bool:
    """False when ``record`` is revoked, idle too long or too old for its kind of account."""
    if record.revoked_at is not None or not record.account.is_active:
        return False
    now = clock.now()
    idle = current_app.config["PORTAL_SESSION_IDLE"][record.kind]
    absolute = current_app.config["PORTAL_SESSION_ABSOLUTE"][record.kind]
    return now - record.last_seen_at < idle and now - record.created_at < absolute


def _load_from_session(_request) -> Account | None:
    if is_api_request():  # the API takes bearer tokens only (S8); a browser cookie means nothing there
        return None
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, str) or not raw:
        return None
    found = db.session.execute(_SESSION_BY_HASH, {"token_hash": sha256_hex(raw)}).one_or_none()
    record, unread = found if found is not None else (None, 0)
    if record is None or not session_is_current(record):
        session.pop(SESSION_KEY, None)
        return None
    now = clock.now()
    if now - record.last_seen_at >= LAST_SEEN_GRANULARITY:
        stamp_unless_taken(record, "last_seen_at", now)  # a parallel request of the browser may be doing it
        db.session.commit()  # runs in before_request, before the view has changed anything
    g.login_session = record
    setattr(g, UNREAD_KEY, (record.account_id, unread))
    return record.account


def current_login_session() -> LoginSession | None:
    return g.get("login_session")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # our own server-side sessions replace it
    login_manager.anonymous_user = AnonymousAccount
    login_manager.login_message = None

    @login_manager.user_loader
    def _never(_user_id: str) -> None:  # login_user() is not used; the session id is the only key
        return None

    login_manager.request_loader(_load_from_session)

    @login_manager.unauthorized_handler
    def _unauthorized():
        if is_api_request():
            return error_envelope("unauthorized", _("Please log in first."), 401)
        return redirect(url_for("accounts.login", next=request.path))

    @app.before_request
    def _resolve_user() -> None:
        # Load (and refresh) the session before any view runs, so its commit never carries view changes. Directly,
        # where flask-login's own loading would first hash the client's address and user agent for a session
        # protection that is off, send a signal nobody hears, and look for a remember-me cookie never issued; its
        # ``current_user`` reads what is put here (as ``core.failures`` and ``forget_browser`` do).
        if request.endpoint != "static" and not is_api_request() and "_login_user" not in g:
            g._login_user = _load_from_session(request) or login_manager.anonymous_user()

    app.before_request(staff_area.guard)  # after the user is known: one rule for every /staff URL
