"""Staff credentials: argon2id passwords with 等保 complexity rules, and TOTP second factor.

ASVS and 等保 disagree on composition rules and forced rotation; staff follow 等保 (SECURITY.md):
at least 10 characters from three of four classes, changed every 90 days, never the username.
Citizens and agents have no password at all.
"""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..core.translation import gettext as _

MIN_LENGTH = 10
MAX_LENGTH = 128
TOTP_STEP_SECONDS = 30

# One hasher per process (argon2id, library defaults). Tests may wrap it to count hashes.
hasher = PasswordHasher()
# A hash of a random string, verified for unknown usernames so their timing matches a real account's.
_DUMMY_HASH = hasher.hash("no such account: timing equaliser")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. Unknown accounts (``None``) still cost one hash (no timing oracle)."""
    try:
        return hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Every complexity rule the password breaks, as sentences the user can act on (empty when fine)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password must be at least %(n)s characters long.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("The password must be at most %(n)s characters long.", n=MAX_LENGTH))
    classes = sum(bool(re.search(pattern, password)) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        problems.append(_("The password must mix at least three of: lower-case letters, capital letters, "
                          "digits and symbols."))
    if username and username.lower() in password.lower():
        problems.append(_("The password must not contain the username."))
    if re.search(r"(.)\1\1\1", password):
        problems.append(_("The password must not repeat one character four times in a row."))
    return problems


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_step(code: str, secret: str, moment: datetime) -> int | None:
    """The time step the 6-digit ``code`` belongs to (the current one ± 1), or None when it matches none."""
    if not re.fullmatch(r"\d{6}", code or ""):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    now_step = int(moment.timestamp()) // TOTP_STEP_SECONDS
    for step in (now_step, now_step - 1, now_step + 1):  # valid_window=1
        if totp.verify(code, for_time=step * TOTP_STEP_SECONDS, valid_window=0):
            return step
    return None


def current_totp(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).at(moment)


def provisioning_uri(secret: str, username: str, issuer: str = "Medical Security Portal") -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(name=username, issuer_name=issuer)
