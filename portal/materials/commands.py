"""``portal keys status`` and ``portal keys rotate`` for the data keys of stored files.

Both work on rows ``(file id, key id, wrapped data key)`` given by a callable, and ``rotate`` hands each
re-wrapped key to another callable, so they do not depend on how the materials feature stores its file
metadata. Rotation re-wraps data keys only; file bodies are never read or rewritten.

To rotate: add ``k<n+1>`` to ``file_keys`` in the keys file, restart, run ``keys rotate`` until it reports
nothing left, check with ``keys status`` that no file uses the old id, then remove the old key.

Wiring: ``key_commands(load_rows, save_row, commit)`` builds the two click commands; :func:`register` puts
them, over the ``material_file`` table, into the ``keys`` group of ``portal/cli.py``, with ``keys retire``
(which refuses while a file still uses the key) and ``files sweep``.

Retiring a key means deleting it from ``file_keys`` in the keys file, which no command can stop. What stops a
mistake: ``keys retire k<n>`` exits 1 and names the number of files while any row is wrapped under it (or when it
is the newest key), and says it is safe only when none is; after a premature removal, ``keys status`` exits 1 and
reports the files under the missing key as NOT LOADED, and putting the key back restores them.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import with_appcontext

from .keys import FileKeyError, FileKeyring, key_number, keyring_from_config

Row = tuple[Hashable, str, bytes]  # (file id, key id, wrapped data key)
LoadRows = Callable[[], Iterable[Row]]
SaveRow = Callable[[Hashable, str, bytes], None]


@dataclass(frozen=True)
class KeyStatus:
    current_id: str
    loaded_ids: list[str]
    files_by_key: dict[str, int]  # key id → number of files wrapped under it, oldest id first

    @property
    def missing_ids(self) -> list[str]:
        """Key ids that files use but that are not loaded: those files cannot be opened."""
        return [kid for kid in self.files_by_key if kid not in self.loaded_ids]

    @property
    def outdated(self) -> int:
        """Files whose data key is not yet wrapped under the newest KEK."""
        return sum(n for kid, n in self.files_by_key.items() if kid != self.current_id)


@dataclass
class RotationReport:
    rewrapped: int = 0
    already_current: int = 0
    failed: list[tuple[Hashable, str]] = field(default_factory=list)  # (file id, reason)


def status(rows: Iterable[Row], keyring: FileKeyring) -> KeyStatus:
    """How many files each key id wraps, next to the loaded keys."""
    counts = Counter(kid for _, kid, _ in rows)
    return KeyStatus(keyring.current_id, keyring.key_ids, dict(sorted(counts.items(), key=_order)))


def rotate_all(rows: Iterable[Row], save: SaveRow, keyring: FileKeyring) -> RotationReport:
    """Re-wrap every data key that is not under the newest KEK and hand it to ``save(id, kid, wrapped)``.

    A row that does not unwrap (key not loaded, or value altered) is reported in ``failed`` and left as
    it is; the others are still rotated. Running it again is harmless.
    """
    report = RotationReport()
    for file_id, kid, wrapped in rows:
        if kid == keyring.current_id:
            report.already_current += 1
            continue
        try:
            new_kid, new_wrapped = keyring.rewrap(kid, wrapped)
        except FileKeyError as exc:
            report.failed.append((file_id, str(exc)))
            continue
        save(file_id, new_kid, new_wrapped)
        report.rewrapped += 1
    return report


def key_commands(load_rows: LoadRows, save_row: SaveRow, commit: Callable[[], None], *,
                 before_status: Callable[[], bool] | None = None) -> list[click.Command]:
    """The ``status`` and ``rotate`` commands over a source of rows, for the ``keys`` group. ``before_status``
    prints what ``status`` shows first and says whether it is sound (status then exits 1 when it is not)."""

    @click.command("status")
    @with_appcontext
    def status_command() -> None:
        """Files per file key id; exit 1 if some file uses a key that is not loaded."""
        sound = before_status() if before_status is not None else True
        result = status(load_rows(), keyring_from_config(current_app))
        click.echo(f"newest file key: {result.current_id} (loaded: {', '.join(result.loaded_ids)})")
        for kid, count in result.files_by_key.items():
            note = "" if kid in result.loaded_ids else "  NOT LOADED: these files cannot be opened"
            click.echo(f"  {kid}: {count} files{note}")
        click.echo(f"{result.outdated} files to rotate to {result.current_id}")
        if result.missing_ids or not sound:
            sys.exit(1)

    @click.command("rotate")
    @with_appcontext
    def rotate_command() -> None:
        """Re-wrap every file's data key under the newest file key (file bodies are not rewritten)."""
        report = rotate_all(load_rows(), save_row, keyring_from_config(current_app))
        commit()
        click.echo(f"re-wrapped {report.rewrapped} data keys; {report.already_current} already current")
        for file_id, reason in report.failed:
            click.echo(f"error: file {file_id}: {reason}", err=True)
        if report.failed:
            sys.exit(1)

    return [status_command, rotate_command]


def _order(item: tuple[str, int]) -> tuple[int, str]:
    try:
        return key_number(item[0]), item[0]
    except FileKeyError:
        return -1, item[0]  # an id that is not k<n> (never loadable) sorts first


# --- wiring over the material_file table -------------------------------------------------------------------


def _load_rows() -> list[Row]:
    from sqlalchemy import select

    from ..core.db import db
    from .models import MaterialFile

    # every row, removed ones included: their bodies are kept and must stay readable
    query = select(MaterialFile.id, MaterialFile.kid, MaterialFile.wrapped_dek)
    return [(file_id, kid, wrapped) for file_id, kid, wrapped in db.session.execute(query)]


def _save_row(file_id: Hashable, kid: str, wrapped: bytes) -> None:
    from sqlalchemy import update

    from ..core.db import db
    from .models import MaterialFile

    db.session.execute(update(MaterialFile).where(MaterialFile.id == file_id).values(kid=kid, wrapped_dek=wrapped))


def _commit() -> None:
    from ..core.db import db

    db.session.commit()


@click.command("retire")
@click.argument("kid")
@with_appcontext
def retire_command(kid: str) -> None:
    """Say whether file key KID may be removed from file_keys: exit 1 while any file uses it or it is the newest."""
    keyring = keyring_from_config(current_app)
    result = status(_load_rows(), keyring)
    in_use = result.files_by_key.get(kid, 0)
    if kid == keyring.current_id:
        click.echo(f"refused: {kid} is the newest file key and wraps every new file; add k<n+1> first", err=True)
        sys.exit(1)
    if in_use:
        click.echo(f"refused: {in_use} files are still wrapped under {kid}; run `portal keys rotate` first", err=True)
        sys.exit(1)
    click.echo(f"no file uses {kid}: it may be removed from file_keys in the keys file")


def register(group: click.Group) -> None:
    """Add ``keys status|rotate|retire`` to the ``keys`` group and the ``files`` group with ``sweep``."""
    from ..cli import diagnostic
    from ..core.keycheck import echo_report

    keys_group = group.commands["keys"]
    status_command, rotate_command = key_commands(_load_rows, _save_row, _commit,
                                                  before_status=lambda: echo_report(current_app.config["PORTAL_KEYS"]))
    status_command.callback = diagnostic(status_command.callback)  # it reports keys that do not match
    for command in [status_command, rotate_command, retire_command]:
        keys_group.add_command(command)

    @group.group("files")
    def files_group() -> None:
        """Uploaded files of the materials."""

    @files_group.command("sweep")
    @click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1))
    @with_appcontext
    def sweep_command(older_than_hours: int) -> None:
        """Delete uploads no case claims (of discarded drafts, removed from drafts, or never recorded)."""
        from datetime import timedelta

        from ..core.db import db
        from .operations import sweep_unclaimed

        report = sweep_unclaimed(older_than=timedelta(hours=older_than_hours))
        db.session.commit()
        click.echo(f"swept {report.rows} unclaimed files, {report.orphans} stored objects without a record, "
                   f"{report.incomplete} interrupted writes")
