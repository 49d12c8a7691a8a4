"""The local adapter of the storage port: objects as files in one directory (mode 0700, files 0600).

A file is written under a temporary name in the same directory, synced and renamed into place, and the directory
synced; a crash mid-write leaves only a temporary file, which ``sweep_incomplete`` removes.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .. import Health
from . import KEY_PATTERN, READ_SIZE, ObjectNotFound, check_key

WRITE_BUFFER = 1024 * 1024  # gathers small chunks into fewer, larger writes; larger ones go straight through
TEMP_PREFIX = ".tmp-"  # never a valid key, so a temporary file is never listed or opened


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

    def modified_at(self, key: str) -> datetime | None:
        try:
            return datetime.fromtimestamp(self._path(key).stat().st_mtime, UTC)
        except FileNotFoundError:
            return None

    def health(self) -> Health:
        if not self.root.is_dir():
            return Health(False, f"the file store {self.root} is not a directory")
        if not os.access(self.root, os.W_OK | os.X_OK):
            return Health(False, f"the file store {self.root} is not writable by this process")
        free = shutil.disk_usage(self.root).free
        return Health(True, f"local directory {self.root}, {free / 2**30:.1f} GiB free")

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
