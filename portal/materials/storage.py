"""Where uploaded files live: one ``Storage`` interface, a local directory and S3-compatible object storage,
and ``EncryptedStore`` above them, which is the only way the portal writes or reads a file body.

Only ciphertext reaches a backend: ``EncryptedStore.save`` encrypts the chunks as they arrive (see
``stream.py``) and never writes plaintext anywhere, not even to a temporary file. Writes are atomic: a
local file is written under a temporary name in the same directory, synced and renamed; an object is sent
in one request or as a multipart upload that is completed at the end or aborted on any failure. So a
failed or interrupted ``put`` leaves no object under its key; a crash that kills the process mid-write can
leave a temporary file or an unfinished upload behind, which ``sweep_incomplete`` removes.

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

import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

from ..config import ConfigError
from . import stream
from .keys import FileKeyring, keyring_from_config

if TYPE_CHECKING:
    from flask import Flask

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")  # no dots or slashes: a key can never name a path elsewhere
READ_SIZE = 1024 * 1024
WRITE_BUFFER = 1024 * 1024  # gathers small chunks into fewer, larger writes; larger ones go straight through
TEMP_PREFIX = ".tmp-"  # never a valid key, so a temporary file is never listed or opened
S3_MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
S3_PART_SIZE = 8 * 1024 * 1024


class StorageError(RuntimeError):
    """A storage backend cannot do what was asked."""


class ObjectNotFound(StorageError, LookupError):
    """No object is stored under this key."""


@runtime_checkable
class Storage(Protocol):
    """A flat namespace of opaque byte objects under keys matching ``KEY_PATTERN``."""

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the chunks under ``key`` atomically (replacing any object there); return the stored size.
        If ``chunks`` raises or the write fails, nothing is left under ``key`` or anywhere else."""

    def open(self, key: str) -> Iterator[bytes]:
        """The object's bytes in chunks; ObjectNotFound is raised when iteration starts.
        A backend may also offer ``open_file(key)``: an unbuffered binary file with ``readinto``, which
        ``EncryptedStore.read`` then reads segment by segment into reused buffers."""

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """The keys starting with ``prefix``, in no particular order."""

    def sweep_incomplete(self, before: datetime) -> int:
        """Remove what writes interrupted by a crash left behind, if started before ``before``; return how many."""


def check_key(key: str) -> str:
    """Return ``key``; raise ValueError when it is not 1-128 of ``A-Z a-z 0-9 _ -``."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Objects as files in one directory (mode 0700, files 0600)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write to a randomly named temporary file beside the target, fsync, then ``os.replace`` it into
        place and fsync the directory; on any failure, remove the temporary file and re-raise."""
        final = self._path(key)
        temporary = self.root / f"{TEMP_PREFIX}{secrets.token_hex(16)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o600)
        try:
            with open(fd, "wb", buffering=WRITE_BUFFER) as fh:
                size = 0
                for chunk in chunks:
                    size += fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(self.root)
        return size

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        with fh:
            while chunk := fh.read(READ_SIZE):
                yield chunk

    def open_file(self, key: str) -> BinaryIO:
        """The object as an unbuffered binary file (``readinto`` without an extra copy). Raise ObjectNotFound."""
        try:
            return open(self._path(key), "rb", buffering=0)  # the caller closes it
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        _fsync_directory(self.root)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name.startswith(prefix) and KEY_PATTERN.fullmatch(entry.name) and entry.is_file():
                    yield entry.name

    def sweep_incomplete(self, before: datetime) -> int:
        """Remove temporary files last written before ``before`` (left by a crash in the middle of ``put``)."""
        removed = 0
        for path in self.root.glob(f"{TEMP_PREFIX}*"):
            try:
                if path.stat().st_mtime < before.timestamp():
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # renamed into place or swept by another process meanwhile
                continue
        return removed

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)


def _fsync_directory(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable (POSIX; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, cloud object storage), under ``prefix``.

    Bodies below ``part_size`` go in one PutObject; larger ones as a multipart upload of ``part_size`` parts,
    so at most one part is held in memory. Give the bucket a lifecycle rule that aborts incomplete multipart
    uploads after a day too: ``sweep_incomplete`` does the same, but only when someone runs it.
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None, prefix: str = "",
                 part_size: int = S3_PART_SIZE, client: object | None = None):
        if part_size < S3_MIN_PART_SIZE:
            raise ValueError(f"S3 parts must have at least {S3_MIN_PART_SIZE} bytes, not {part_size}")
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.client = client or _s3_client(endpoint_url, region, access_key, secret_key)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        name = self._name(key)
        parts = _parts(chunks, self.part_size)
        first = next(parts)
        if len(first) < self.part_size:  # the whole body: one request, atomic by itself
            self.client.put_object(Bucket=self.bucket, Key=name, Body=first)
            return len(first)
        return self._put_multipart(name, first, parts)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise ObjectNotFound(key) from None
        try:
            yield from body.iter_chunks(READ_SIZE)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(self.prefix):]
                if KEY_PATTERN.fullmatch(key):
                    yield key

    def sweep_incomplete(self, before: datetime) -> int:
        """Abort multipart uploads under the prefix that were started before ``before`` and never finished."""
        removed = 0
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", ()):
                if upload["Initiated"] < before:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    removed += 1
        return removed

    def _put_multipart(self, name: str, first: bytes, rest: Iterator[bytes]) -> int:
        """Upload the parts and complete; on any failure (including in the chunk source), abort the upload so
        no object and no stored part remains, and re-raise."""
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
        target = {"Bucket": self.bucket, "Key": name, "UploadId": upload_id}
        try:
            done, size = [], 0
            for number, body in enumerate(_prepend(first, rest), start=1):
                etag = self.client.upload_part(**target, PartNumber=number, Body=body)["ETag"]
                done.append({"ETag": etag, "PartNumber": number})
                size += len(body)
            self.client.complete_multipart_upload(**target, MultipartUpload={"Parts": done})
        except BaseException:
            self.client.abort_multipart_upload(**target)
            raise
        return size

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)


def _s3_client(endpoint_url: str | None, region: str | None, access_key: str | None, secret_key: str | None):
    import boto3
    from botocore.config import Config

    # Checksums only where the API requires them: several S3-compatible stores refuse the newer default
    # CRC headers, and every body is authenticated by its own encryption anyway.
    config = Config(signature_version="s3v4", request_checksum_calculation="when_required",
                    response_checksum_validation="when_required", retries={"mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None, config=config)


def _parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Group chunks into parts of at least ``size`` bytes, the last one smaller; always at least one part."""
    buffer = bytearray()
    any_yielded = False
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
            any_yielded = True
    if buffer or not any_yielded:
        yield bytes(buffer)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def storage_from_config(app: Flask) -> Storage:
    """The backend named by ``PORTAL_STORAGE_BACKEND``: ``local`` (``PORTAL_STORAGE_DIR``, by default
    ``<instance>/files``) or ``s3`` (``PORTAL_S3_*``). Raise ConfigError for anything else."""
    config = app.config
    backend = config.get("PORTAL_STORAGE_BACKEND") or "local"
    if backend == "local":
        return LocalStorage(config.get("PORTAL_STORAGE_DIR") or Path(app.instance_path) / "files")
    if backend == "s3":
        if not config.get("PORTAL_S3_BUCKET"):
            raise ConfigError("PORTAL_S3_BUCKET must name the bucket when PORTAL_STORAGE_BACKEND is s3")
        return S3Storage(config["PORTAL_S3_BUCKET"], endpoint_url=config.get("PORTAL_S3_ENDPOINT_URL"),
                         region=config.get("PORTAL_S3_REGION"), access_key=config.get("PORTAL_S3_ACCESS_KEY"),
                         secret_key=config.get("PORTAL_S3_SECRET_KEY"), prefix=config.get("PORTAL_S3_PREFIX") or "")
    raise ConfigError(f"PORTAL_STORAGE_BACKEND must be local or s3, not {backend!r}")


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
