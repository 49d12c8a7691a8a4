"""Encryption of sensitive columns and keyed blind indexes (ARCHITECTURE decision 4).

Values are sealed with AES-256-GCM under a key with an id (``f1``...); the newest key seals, every
loaded key opens, so keys can rotate. The column's name is authenticated as associated data, so a
value copied into another column does not open. Exact lookup uses an HMAC-SHA256 blind index over
the normalised value, under a separate key. Keys are loaded from outside the database at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator


class KeyError_(RuntimeError):
    """A key is missing or a sealed value does not open."""


class FieldKeyring:
    def __init__(self, field_keys: dict[str, str], index_key: str):
        if not field_keys:
            raise KeyError_("no field-encryption key loaded")
        self._keys = {kid: AESGCM(base64.b64decode(k)) for kid, k in field_keys.items()}
        self.current_id = sorted(field_keys)[-1]
        self._index_key = base64.b64decode(index_key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        ct = self._keys[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.current_id}:{base64.b64encode(nonce + ct).decode()}"

    def open(self, sealed: str, context: str) -> str:
        try:
            kid, body = sealed.split(":", 1)
            raw = base64.b64decode(body)
            return self._keys[kid].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (ValueError, KeyError, InvalidTag) as exc:
            raise KeyError_(f"a sealed {context} value does not open (wrong key or tampered)") from exc

    def blind_index(self, value: str, purpose: str) -> str:
        mac = hmac.new(self._index_key, f"{purpose}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()


_keyring: FieldKeyring | None = None


def install_keyring(keys: dict[str, Any]) -> FieldKeyring:
    """Load the field keys for this process (called by create_app)."""
    global _keyring
    _keyring = FieldKeyring(keys["field_keys"], keys["index_key"])
    return _keyring


def keyring() -> FieldKeyring:
    if _keyring is None:
        raise KeyError_("field keys are not loaded; create the app first")
    return _keyring


def blind_index(value: str, purpose: str) -> str:
    """The keyed lookup hash of an already-normalised value (e.g. an upper-cased 身份证 number)."""
    return keyring().blind_index(value, purpose)


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class Encrypted(TypeDecorator):
    """A text column stored sealed. ``context`` (e.g. 'person.id_number') is bound into the ciphertext."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str):
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().seal(value, self.context)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().open(value, self.context)


BlindIndex = String(64)
