"""The key-encryption keys (KEKs) of uploaded files.

Each file has its own random data key; the data key is stored wrapped (AES key wrap, RFC 3394) under a
KEK named by a key id. The KEKs come from ``PORTAL_KEYS["file_keys"]`` (``{"k1": base64 of 32 bytes,
...}``), kept outside the database. Several can be loaded at once: the newest wraps, every loaded one
unwraps, so ``portal keys rotate`` can move data keys to a new KEK without rewriting file bodies.

Key ids are ``k<n>`` with ``n`` a positive whole number without leading zeros; the newest is the one with
the largest ``n`` (``k10`` is newer than ``k9``). Any other id refuses to load, so "newest" is never a
guess.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from ..core.crypto import KeyError_

if TYPE_CHECKING:
    from flask import Flask

KEK_SIZE = 32
KEY_ID = re.compile(r"k([1-9][0-9]{0,8})")


class FileKeyError(KeyError_):
    """A file key is missing or malformed, or a wrapped data key does not unwrap."""


class FileKeyring:
    """The loaded KEKs; ``current_id`` is the newest, which wraps new data keys."""

    def __init__(self, file_keys: Mapping[str, str]):
        if not file_keys:
            raise FileKeyError("no file key loaded: PORTAL_KEYS needs file_keys, e.g. {\"k1\": <base64 32 bytes>}")
        self._keks = {kid: _decode(kid, value) for kid, value in file_keys.items()}
        self.current_id = max(self._keks, key=key_number)

    @property
    def key_ids(self) -> list[str]:
        """The loaded key ids, oldest first."""
        return sorted(self._keks, key=key_number)

    def wrap(self, dek: bytes) -> tuple[str, bytes]:
        """Wrap a data key under the newest KEK; return ``(key id, wrapped key)``."""
        return self.current_id, aes_key_wrap(self._keks[self.current_id], dek)

    def unwrap(self, kid: str, wrapped: bytes) -> bytes:
        """The data key wrapped under ``kid``. Raise FileKeyError when that KEK is not loaded or it does not
        unwrap (altered, or wrapped under another key)."""
        kek = self._keks.get(kid)
        if kek is None:
            raise FileKeyError(f"file key {kid!r} is not loaded (loaded: {', '.join(self.key_ids)})")
        try:
            return aes_key_unwrap(kek, bytes(wrapped))
        except (InvalidUnwrap, ValueError) as exc:
            raise FileKeyError(f"a data key wrapped under {kid!r} does not unwrap (altered or wrong key)") from exc

    def rewrap(self, kid: str, wrapped: bytes) -> tuple[str, bytes]:
        """``(key id, wrapped)`` of the same data key under the newest KEK (unchanged if already there, since
        key wrap is deterministic). Raise FileKeyError when it does not unwrap."""
        return self.wrap(self.unwrap(kid, wrapped))


def key_number(kid: str) -> int:
    """The order of a key id (``k10`` → 10). Raise FileKeyError for an id that is not ``k<n>``."""
    match = KEY_ID.fullmatch(kid)
    if match is None:
        raise FileKeyError(f"file key id {kid!r} is not k<n> (k1, k2, ..., without leading zeros)")
    return int(match.group(1))


def keyring_from_config(app: Flask) -> FileKeyring:
    """The file keyring of the app's ``PORTAL_KEYS``."""
    return FileKeyring(app.config["PORTAL_KEYS"].get("file_keys") or {})


def _decode(kid: str, value: str) -> bytes:
    key_number(kid)
    try:
        kek = base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError; so is non-ASCII text
        raise FileKeyError(f"file key {kid!r} is not base64") from exc
    if len(kek) != KEK_SIZE:
        raise FileKeyError(f"file key {kid!r} has {len(kek)} bytes; a file key has {KEK_SIZE}")
    return kek
