"""Keys checked against the data: a check value per key id in the database, never the key.

The keys live outside the database (``PORTAL_KEYS_FILE``, or ``instance/keys.json`` in development). A lost or
wrong keys file used to start "healthy" and then fail one page at a time: personal pages 500 because sealed
values do not open, genuine certificates verify as "not found" because the blind index changed, and existing
citizens get a second account because their 身份证 no longer finds the first. So each key id has a row in
``key_check``: an HMAC-SHA256 under the key of a constant naming the key's kind and id. The row proves which key
wrote the data without revealing it (HMAC is a pseudorandom function: the value says nothing about the key).

Kinds: ``field`` (AES-GCM column keys ``f1``, ``f2``…), ``index`` (the blind-index key, id ``index``) and ``file``
(the key-encryption keys of stored files ``k1``, ``k2``…). The session secret signs only cookies that expire, and
the certificate signing key is checked against its certificate (``portal doctor``), so neither is recorded here.

- At start (``verify_at_start``, from ``create_app``): a loaded key whose check differs, or a recorded key that is
  not loaded, refuses to start with a message naming the key id; keys not yet recorded are recorded.
- ``report()`` is what ``portal keys status``, ``/healthz`` and ``portal doctor`` show.
- ``database_holds_data(url)`` lets the configuration refuse to generate development keys over existing data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import String, create_engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, mapped_column

from ..config import ConfigError
from . import clock
from .db import Base, db

log = logging.getLogger("portal.keys")
CONSTANT = b"portal key check v1"
TABLE = "key_check"


class KeyState(StrEnum):
    OK = "ok"  # loaded, and its check value matches the recorded one
    MISMATCH = "mismatch"  # loaded under an id the database knows, but it is another key
    MISSING = "missing"  # recorded (data may be sealed under it) but not loaded
    UNRECORDED = "unrecorded"  # loaded, no check value recorded yet (recorded at the next start)


class KeyCheck(Base):
    __tablename__ = TABLE

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # f1, index, k1
    kind: Mapped[str] = mapped_column(String(16))  # field, index, file
    check_value: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)


class KeyCheckFailed(ConfigError):
    """The loaded keys are not the keys that wrote the data; the message names the key ids and what to do."""


@dataclass(frozen=True)
class KeyLine:
    key_id: str
    kind: str
    state: KeyState


@dataclass(frozen=True)
class KeyReport:
    lines: tuple[KeyLine, ...]

    def ids(self, state: KeyState) -> list[str]:
        return [line.key_id for line in self.lines if line.state is state]

    @property
    def ok(self) -> bool:
        """No loaded key contradicts the database and none it records is missing."""
        return not self.ids(KeyState.MISMATCH) and not self.ids(KeyState.MISSING)

    def problems(self) -> list[str]:
        out = [f"{_kind_label(line.kind)} {line.key_id} is not the key that wrote the data (its check value differs)"
               for line in self.lines if line.state is KeyState.MISMATCH]
        out += [f"{_kind_label(line.kind)} {line.key_id} is recorded in the database but not loaded from the keys "
                "file" for line in self.lines if line.state is KeyState.MISSING]
        return out


def _kind_label(kind: str) -> str:
    return {"field": "field-encryption key", "index": "blind-index key", "file": "file key"}.get(kind, kind)


def loaded_keys(keys: Mapping[str, Any]) -> dict[str, tuple[str, bytes]]:
    """``{key id: (kind, key bytes)}`` of a keys mapping (the keys file's content)."""
    out: dict[str, tuple[str, bytes]] = {}
    for kid, value in (keys.get("field_keys") or {}).items():
        out[kid] = ("field", base64.b64decode(value))
    if keys.get("index_key"):
        out["index"] = ("index", base64.b64decode(keys["index_key"]))
    for kid, value in (keys.get("file_keys") or {}).items():
        out[kid] = ("file", base64.b64decode(value))
    return out


@lru_cache(maxsize=256)
def check_value(kind: str, key_id: str, key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of a constant naming the kind and id (so one key under two ids differs)."""
    return hmac.new(key, b"\x00".join((CONSTANT, kind.encode(), key_id.encode())), hashlib.sha256).hexdigest()


def _recorded() -> dict[str, KeyCheck]:
    return {row.key_id: row for row in db.session.execute(select(KeyCheck)).scalars()}


def report(keys: Mapping[str, Any]) -> KeyReport:
    """Compare the loaded keys with the recorded check values (in the current app context's session)."""
    recorded = _recorded()
    lines = []
    for kid, (kind, key) in loaded_keys(keys).items():
        row = recorded.pop(kid, None)
        if row is None:
            state = KeyState.UNRECORDED
        elif row.kind == kind and hmac.compare_digest(row.check_value, check_value(kind, kid, key)):
            state = KeyState.OK
        else:
            state = KeyState.MISMATCH
        lines.append(KeyLine(kid, kind, state))
    lines += [KeyLine(kid, row.kind, KeyState.MISSING) for kid, row in recorded.items()]
    return KeyReport(tuple(lines))


def record_unrecorded(keys: Mapping[str, Any]) -> list[str]:
    """Record the check value of every loaded key the database does not know yet; return their ids. Flushes."""
    known = set(_recorded())
    added = []
    for kid, (kind, key) in loaded_keys(keys).items():
        if kid not in known:
            db.session.add(KeyCheck(key_id=kid, kind=kind, check_value=check_value(kind, kid, key)))
            added.append(kid)
    db.session.flush()
    return added


def forget(key_id: str) -> bool:
    """Delete the check value of a key retired on purpose (the caller has made sure no data uses it). Flushes."""
    row = db.session.get(KeyCheck, key_id)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def key_in_use(key_id: str) -> str | None:
    """What is still sealed under ``key_id`` (e.g. "3 values in person.id_number"), or None."""
    from .crypto import Encrypted
    from .models_registry import import_all_models

    import_all_models()
    row = db.session.get(KeyCheck, key_id)
    kind = row.kind if row is not None else ""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if kind == "field" and isinstance(column.type, Encrypted):
                where = text(f"{column.name} LIKE :prefix")  # sealed values are "<key id>:<base64>"
                count = db.session.execute(select(func.count()).select_from(table).where(where),
                                           {"prefix": f"{key_id}:%"}).scalar_one()
            elif kind == "file" and column.name == "kid" and table.name == "material_file":
                count = db.session.execute(select(func.count()).select_from(table)
                                           .where(column == key_id)).scalar_one()
            elif kind == "index" and column.name.endswith("_index") and isinstance(column.type, String):
                count = db.session.execute(select(func.count()).select_from(table)
                                           .where(column.is_not(None))).scalar_one()
            else:
                continue
            if count:
                found.append(f"{count} values in {table.name}.{column.name}")
    return ", ".join(found) or None


def table_exists() -> bool:
    return inspect(db.session.connection()).has_table(TABLE)


def failure_message(result: KeyReport) -> str:
    return ("the keys do not match the data in the database:\n  - " + "\n  - ".join(result.problems()) +
            "\nRestore the keys file that belongs to this database (the one backed up with it; see the README, "
            "Backup and restore) and start again. `portal keys status` shows every key id.")


def verify_at_start(keys: Mapping[str, Any]) -> None:
    """Refuse (KeyCheckFailed) keys that contradict the database; record the check values of new keys.

    Runs in an app context and commits its own work. An unmigrated database (no ``key_check`` table yet) is
    left alone: it is checked at the next start. An unreachable one is logged: ``/healthz`` reports it.
    """
    try:
        if not table_exists():
            log.info("key check skipped: the database has no %s table yet (run `portal db upgrade`)", TABLE)
            return
        result = report(keys)
        if not result.ok:
            raise KeyCheckFailed(failure_message(result))
        if result.ids(KeyState.UNRECORDED):
            try:
                added = record_unrecorded(keys)
                db.session.commit()
            except IntegrityError:  # another worker recorded them at the same moment: compare with its rows
                db.session.rollback()
                result = report(keys)
                if not result.ok:
                    raise KeyCheckFailed(failure_message(result)) from None
            else:
                log.info("recorded the check values of keys %s", ", ".join(added))
    except (OperationalError, ProgrammingError):
        db.session.rollback()
        log.warning("key check skipped: the database cannot be read at start", exc_info=True)
    finally:
        db.session.remove()


def database_holds_data(url: str) -> bool:
    """True when any table but Alembic's has a row. Raise OperationalError when the database cannot be read."""
    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = url.removeprefix("sqlite:///")
        if path in ("", ":memory:") or not Path(path).exists():
            return False
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                if table == "alembic_version":
                    continue
                quoted = connection.dialect.identifier_preparer.quote(table)
                if connection.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:  # noqa: S608
                    return True
        return False
    finally:
        engine.dispose()


def echo_report(keys: Mapping[str, Any]) -> bool:
    """Print each key id's state (``portal keys status``); return False on a mismatch or a missing key."""
    import click

    if not table_exists():
        click.echo("keys: not checked, the database has no key_check table yet (run `portal db upgrade`)")
        return True
    result = report(keys)
    notes = {KeyState.OK: "matches the data", KeyState.UNRECORDED: "not recorded yet (recorded at the next start)",
             KeyState.MISMATCH: "WRONG KEY: not the key that wrote the data",
             KeyState.MISSING: "NOT LOADED: recorded in the database, missing from the keys file"}
    for line in result.lines:
        click.echo(f"{_kind_label(line.kind)} {line.key_id}: {notes[line.state]}")
    return result.ok


def health(keys: Mapping[str, Any], *, schema_at_head: bool = False) -> str:
    """``/healthz``'s word for the keys: ``ok``; ``unchecked`` (nothing recorded to compare with yet: an
    unmigrated database, or keys recorded at the next start); ``mismatch`` (a wrong or missing key: logged with
    its id, which the public health check does not show)."""
    if not schema_at_head and not table_exists():  # at head the table exists: no catalog query per health check
        return "unchecked"
    result = report(keys)
    if not result.ok:
        log.error("health check: %s", "; ".join(result.problems()))
        return "mismatch"
    return "unchecked" if result.ids(KeyState.UNRECORDED) else "ok"
