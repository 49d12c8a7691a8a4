"""The encrypted file store: ``EncryptedStore`` above the storage port (``portal.integrations.storage``), the only
way the portal writes or reads a file body.

Only ciphertext reaches a backend: ``EncryptedStore.save`` encrypts the chunks as they arrive (see ``stream.py``) and
never writes plaintext anywhere, not even to a temporary file. The backend's writes are atomic (see the port).

The caller keeps the ``StoredFile`` metadata (storage key, key id, wrapped data key, sizes, stream header) in
the database; object names are random and carry no personal data.

No plaintext digest is kept: an unkeyed SHA-256 of an ID card scan in the database would let anyone who can
read the database confirm that a given document was uploaded, and hashing cost more than the encryption.
What it used to prove comes from the encryption itself: each body only decrypts under its own random data
key, so any other body (swapped, restored from another file, spliced) fails its first tag; truncation,
reordering and alteration fail as ``stream.py`` describes; and the recorded stream header (random per file,
authenticated by every tag) ties a row to its body even if someone rewrites the key columns of a row.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

from ..integrations.storage import ObjectNotFound, Storage, StorageError, storage_from_config
from . import stream
from .keys import FileKeyring, keyring_from_config

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["EncryptedStore", "FileMeta", "ObjectNotFound", "Storage", "StorageError", "StoredFile",
           "encrypted_store_from_config", "new_storage_key", "storage_from_config"]


def encrypted_store_from_config(app: Flask) -> EncryptedStore:
    """The app's encrypted file store: its storage backend and its file keys."""
    return EncryptedStore(storage_from_config(app), keyring_from_config(app))


# -- encryption above the backends ------------------------------------------------------------------------

def new_storage_key() -> str:
    """A random object name (128 bits): it says nothing about the file or its owner."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class StoredFile:
    """What the database keeps about a stored body; all of it is needed to read the file back."""

    storage_key: str
    kid: str
    wrapped_dek: bytes
    size_plain: int
    size_stored: int
    stream_header: bytes  # the stream header: random per file, so it names this body (see the module docstring)


class FileMeta(Protocol):
    """What ``read`` and ``rewrap`` need: a ``StoredFile`` or a database row with the same attributes."""

    @property
    def storage_key(self) -> str: ...
    @property
    def kid(self) -> str: ...
    @property
    def wrapped_dek(self) -> bytes: ...
    @property
    def size_plain(self) -> int: ...
    @property
    def stream_header(self) -> bytes | None: ...


class EncryptedStore:
    """Encrypts bodies on their way into a ``Storage`` and decrypts and verifies them on their way out."""

    def __init__(self, storage: Storage, keyring: FileKeyring, *, segment_size: int = stream.SEGMENT_SIZE):
        self.storage = storage
        self.keyring = keyring
        self.segment_size = segment_size

    def save(self, src: BinaryIO | Iterable[bytes]) -> StoredFile:
        """Encrypt ``src`` under a new data key, wrapped under the newest KEK, into a new random key.

        Plaintext only passes through memory, a segment at a time. If ``src`` or the backend fails, the
        exception propagates and nothing is stored.
        """
        dek = stream.new_data_key()
        kid, wrapped = self.keyring.wrap(dek)  # before writing: a key problem must not leave an object behind
        meter = _Meter()
        storage_key = new_storage_key()
        body = stream.encrypt_stream(meter.count(src, self.segment_size), dek, segment_size=self.segment_size,
                                     reuse_buffer=True)  # put() writes each chunk out before asking for the next
        header = next(body)  # encrypt_stream yields the header alone, first
        size_stored = self.storage.put(storage_key, _prepend(header, body))
        return StoredFile(storage_key, kid, wrapped, meter.size, size_stored, header)

    def read(self, meta: FileMeta) -> Iterator[bytes]:
        """The plaintext of a stored file, one verified segment at a time.

        Raise FileKeyError at once when its data key does not unwrap. While iterating, raise ObjectNotFound,
        or TamperedError when the body's header is not the recorded one, when a segment does not verify (a body
        under another data key fails at once), or, at the end, when the size differs from the metadata.
        """
        dek = self.keyring.unwrap(meta.kid, meta.wrapped_dek)
        return self._verified(meta, self._decrypted(meta, dek))

    def _decrypted(self, meta: FileMeta, dek: bytes) -> Iterator[bytes]:
        expected = meta.stream_header  # None for a row recorded before headers were kept: the tags still hold
        open_file = getattr(self.storage, "open_file", None)
        if open_file is None:
            yield from stream.decrypt_stream(self.storage.open(meta.storage_key), dek, expected_header=expected)
            return
        with open_file(meta.storage_key) as fh:
            yield from stream.decrypt_stream(fh, dek, expected_header=expected)

    def rewrap(self, meta: FileMeta) -> tuple[str, bytes]:
        """``(key id, wrapped data key)`` under the newest KEK; the body is not touched. Raise FileKeyError
        when the current wrapping does not unwrap."""
        return self.keyring.rewrap(meta.kid, meta.wrapped_dek)

    def delete(self, meta: FileMeta) -> None:
        self.storage.delete(meta.storage_key)

    @staticmethod
    def _verified(meta: FileMeta, plaintext: Iterator[bytes]) -> Iterator[bytes]:
        size = 0
        for piece in plaintext:
            size += len(piece)
            yield piece
        if size != meta.size_plain:
            raise stream.TamperedError(f"stored file {meta.storage_key} decrypts but is not the recorded file "
                                       f"({size} bytes, not {meta.size_plain})")


class _Meter:
    """Counts the bytes that pass through ``count``."""

    def __init__(self) -> None:
        self.size = 0

    def count(self, src: BinaryIO | Iterable[bytes], read_size: int) -> Iterator[bytes]:
        for chunk in stream.as_chunks(src, read_size):
            self.size += len(chunk)
            yield chunk


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
