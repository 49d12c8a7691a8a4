"""SMS one-time codes: 6 digits from ``secrets``, stored as an HMAC under the app secret, single use.

A challenge expires after ``PORTAL_OTP_TTL_SECONDS`` and after ``PORTAL_OTP_MAX_ATTEMPTS`` wrong
guesses; asking for a new code retires the earlier ones. Codes never appear in logs or URLs (S14):
only the SMS body carries them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..core import clock
from ..core.crypto import sha256_hex
from ..core.db import db
from ..insurance.models import phone_index
from .models import OtpChallenge


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _code_hash(salt: str, code: str) -> str:
    """HMAC-SHA256 under the app secret, salted with the challenge's handle hash."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"otp\x00{salt}\x00{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    challenge: OtpChallenge
    handle: str  # random reference the web flow keeps in its session; never the phone
    code: str  # goes into the SMS body and nowhere else


def issue(purpose: str, phone: str, unit_id: int | None = None, *, institution_id: int | None = None) -> IssuedCode:
    """Create a challenge for ``phone`` (normalised) and retire earlier live ones for the same purpose."""
    now = clock.now()
    index = phone_index(phone)
    db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.purpose == purpose, OtpChallenge.phone_index == index,
               OtpChallenge.used_at.is_(None), OtpChallenge.expires_at > now)
        .values(expires_at=now)
    )
    handle = secrets.token_urlsafe(24)
    handle_hash = sha256_hex(handle)
    code = new_code()
    challenge = OtpChallenge(
        handle_hash=handle_hash, purpose=purpose, phone=phone, phone_index=index, unit_id=unit_id,
        institution_id=institution_id,
        code_hash=_code_hash(handle_hash, code), created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["PORTAL_OTP_TTL_SECONDS"]),
    )
    db.session.add(challenge)
    db.session.flush()
    return IssuedCode(challenge, handle, code)


def find_by_handle(handle: str) -> OtpChallenge | None:
    return db.session.execute(
        select(OtpChallenge).where(OtpChallenge.handle_hash == sha256_hex(handle))
    ).scalar_one_or_none()


def latest_live(purpose: str, phone: str, unit_id: int | None = None, *,
                institution_id: int | None = None) -> OtpChallenge | None:
    now = clock.now()
    query = (select(OtpChallenge)
             .where(OtpChallenge.purpose == purpose, OtpChallenge.phone_index == phone_index(phone),
                    OtpChallenge.used_at.is_(None), OtpChallenge.expires_at > now)
             .order_by(OtpChallenge.id.desc()).limit(1))
    if unit_id is not None:
        query = query.where(OtpChallenge.unit_id == unit_id)
    if institution_id is not None:
        query = query.where(OtpChallenge.institution_id == institution_id)
    return db.session.execute(query).scalar_one_or_none()


def is_live(challenge: OtpChallenge) -> bool:
    return (challenge.used_at is None and clock.now() < challenge.expires_at
            and challenge.attempts < current_app.config["PORTAL_OTP_MAX_ATTEMPTS"])


def check(challenge: OtpChallenge, code: str) -> bool:
    """Spend one attempt on ``challenge``; True (and the challenge used up) when ``code`` is right.

    Both writes are conditional statements on the row, not values computed here: requests that check one challenge
    at the same moment take the row in turn, so parallel guesses never spend more attempts than the limit allows, and
    of two right answers sent at once only one uses the code up."""
    if not is_live(challenge):
        return False
    now = clock.now()
    spent = db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge.id, OtpChallenge.used_at.is_(None), OtpChallenge.expires_at > now,
               OtpChallenge.attempts < current_app.config["PORTAL_OTP_MAX_ATTEMPTS"])
        .values(attempts=OtpChallenge.attempts + 1)
        .returning(OtpChallenge.id),
        execution_options={"synchronize_session": False},
    ).first()
    # the database's count, read again when next asked for ("fetch" would add 1 to the count this request loaded)
    db.session.expire(challenge, ["attempts"])
    if spent is None or not hmac.compare_digest(challenge.code_hash, _code_hash(challenge.handle_hash, code)):
        return False
    used = db.session.execute(
        update(OtpChallenge).where(OtpChallenge.id == challenge.id, OtpChallenge.used_at.is_(None))
        .values(used_at=now).returning(OtpChallenge.id),
        execution_options={"synchronize_session": "fetch"},
    ).first()
    return used is not None
