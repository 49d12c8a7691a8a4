"""The storage port: where file bodies live, as opaque byte objects under random keys, and the one place that
picks the backend.

Only ciphertext reaches a backend: ``portal.materials.storage.EncryptedStore`` encrypts above this port and is the
only way the portal writes or reads a file body. Writes are atomic: a failed or interrupted ``put`` leaves no object
under its key; a crash that kills the process mid-write can leave a temporary file or an unfinished multipart upload
behind, which ``sweep_incomplete`` removes.

``PORTAL_STORAGE_BACKEND`` chooses the adapter: ``local`` (:mod:`.local`, a directory: ``PORTAL_STORAGE_DIR``, by
default ``<instance>/files``) or ``s3`` (:mod:`.s3`, any S3-compatible object store: ``PORTAL_S3_*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ...config import ConfigError
from .. import Health

if TYPE_CHECKING:
    from flask import Flask

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")  # no dots or slashes: a key can never name a path elsewhere
READ_SIZE = 1024 * 1024


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

    def modified_at(self, key: str) -> datetime | None:
        """When the object was last written (aware, UTC); None when there is no object under ``key``."""

    def sweep_incomplete(self, before: datetime) -> int:
        """Remove what writes interrupted by a crash left behind, if started before ``before``; return how many."""

    def health(self) -> Health:
        """Whether objects can be written and read here (nothing is written)."""


def check_key(key: str) -> str:
    """Return ``key``; raise ValueError when it is not 1-128 of ``A-Z a-z 0-9 _ -``."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def storage_from_config(app: Flask) -> Storage:
    """The backend named by ``PORTAL_STORAGE_BACKEND``: ``local`` (``PORTAL_STORAGE_DIR``, by default
    ``<instance>/files``) or ``s3`` (``PORTAL_S3_*``). Raise ConfigError for anything else."""
    config = app.config
    backend = config.get("PORTAL_STORAGE_BACKEND") or "local"
    if backend == "local":
        from .local import LocalStorage

        return LocalStorage(config.get("PORTAL_STORAGE_DIR") or Path(app.instance_path) / "files")
    if backend == "s3":
        if not config.get("PORTAL_S3_BUCKET"):
            raise ConfigError("PORTAL_S3_BUCKET must name the bucket when PORTAL_STORAGE_BACKEND is s3")
        from .s3 import S3Storage

        return S3Storage(config["PORTAL_S3_BUCKET"], endpoint_url=config.get("PORTAL_S3_ENDPOINT_URL"),
                         region=config.get("PORTAL_S3_REGION"), access_key=config.get("PORTAL_S3_ACCESS_KEY"),
                         secret_key=config.get("PORTAL_S3_SECRET_KEY"), prefix=config.get("PORTAL_S3_PREFIX") or "")
    raise ConfigError(f"PORTAL_STORAGE_BACKEND must be local or s3, not {backend!r}")
