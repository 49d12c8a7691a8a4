"""API bearer tokens of the mini-program (S2): 256 random bits from ``secrets``, stored as SHA-256 only,
expiring after ``PORTAL_API_TOKEN_LIFETIME``, revoked by logout, password or role change and removal.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload, lazyload

from ..core import clock
from ..core.crypto import sha256_hex
from ..core.db import db, stamp_unless_taken
from .models import Account, ApiToken

LAST_USED_GRANULARITY = timedelta(minutes=1)
# built once, as the browser session's (auth.py): the account with its person and mandate; an agent's unit or
# institution is read when the request asks for it
_TOKEN_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(
    joinedload(ApiToken.account).options(lazyload(Account.unit), lazyload(Account.institution)))


def issue_token(account: Account, *, label: str = "wechat") -> tuple[str, ApiToken]:
    """A new token for ``account``: returns the raw value (shown once, to the client) and its row."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(token_hash=sha256_hex(raw), account=account, account_id=account.id, label=label,
                     created_at=now, expires_at=now + current_app.config["PORTAL_API_TOKEN_LIFETIME"])
    db.session.add(token)
    db.session.flush()
    return raw, token


def revoke_tokens(account: Account) -> int:
    """Revoke every live token of ``account``; returns how many."""
    result = db.session.execute(
        update(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    db.session.flush()
    return result.rowcount or 0


def account_from_bearer(raw_token: str) -> Account | None:
    """The account of a live token, or None (unknown, expired, revoked, or account disabled).

    Called by the API shell before the view runs; refreshing ``last_used_at`` (at most once a minute)
    is committed here, while the request has changed nothing else yet.
    """
    token = db.session.execute(_TOKEN_BY_HASH, {"token_hash": sha256_hex(raw_token)}).scalar_one_or_none()
    now = clock.now()
    if token is None or token.revoked_at is not None or now >= token.expires_at or not token.account.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        stamp_unless_taken(token, "last_used_at", now)  # a parallel call of the client may be doing it
        db.session.commit()
    return token.account
