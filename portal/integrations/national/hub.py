"""The hub: a small stand-in for the national platform that several portal deployments share.

It keeps what the platform keeps for the protocol (``PROTOCOL.md``): the messages between areas until their
recipient acknowledges them, the latest state of every 异地就医备案 reported to it, and, from the transfers it
carried, where a person's insurance is open or closed. Storage is one SQLite file (``:memory:`` for a throwaway
hub), so the local adapter of every deployment on one machine, and ``portal national hub`` serving it over HTTP,
see the same messages.

Rules it enforces, as the platform would: every envelope and body follows its schema; a message claims the
sender it was authenticated as; the same ``message_id`` again is the same message (a receipt marked duplicate, nothing
delivered twice) and a different content under a used id is refused; filing reports go to ``national``, documents
to another area.

It is a development and test tool: it keeps messages, which carry ID numbers and names, in its file in clear (as a
platform's database would, behind its own protection) — do not point it at a shared or backed-up directory.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from . import NATIONAL, NationalError, problems

_SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    message_id TEXT PRIMARY KEY, sender TEXT NOT NULL, recipient TEXT NOT NULL, type TEXT NOT NULL,
    envelope TEXT NOT NULL, digest TEXT NOT NULL, accepted_at TEXT NOT NULL, acknowledged_at TEXT);
CREATE INDEX IF NOT EXISTS ix_message_inbox ON message (recipient, acknowledged_at, accepted_at);
CREATE TABLE IF NOT EXISTS filing (
    insured_area TEXT NOT NULL, filing_number TEXT NOT NULL, person_key TEXT NOT NULL, state TEXT NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (insured_area, filing_number));
CREATE INDEX IF NOT EXISTS ix_filing_person ON filing (person_key);
CREATE TABLE IF NOT EXISTS enrolment (
    person_key TEXT NOT NULL, area TEXT NOT NULL, status TEXT NOT NULL, since TEXT NOT NULL,
    PRIMARY KEY (person_key, area));
"""


def person_key(id_number: str) -> str:
    """How the hub finds a person's rows: a hash of the ID number (upper-case X), not the number itself."""
    return hashlib.sha256(id_number.strip().upper().encode()).hexdigest()


def digest(envelope: dict[str, Any]) -> str:
    """The content of a message, independent of key order: what a resend under the same id must repeat."""
    return hashlib.sha256(json.dumps(envelope, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Hub:
    """The platform's side of the protocol, over one SQLite file."""

    def __init__(self, path: str, nodes: frozenset[str] | None = None):
        self.path = path
        self.nodes = nodes  # the areas it serves, when it knows them (the HTTP hub); None: any 6-digit code
        self._lock = threading.Lock()
        self._memory = (sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                        if path == ":memory:" else None)
        connection = self._memory or sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.executescript(_SCHEMA)  # its own transaction: CREATE … IF NOT EXISTS, safe to repeat
        finally:
            if self._memory is None:
                connection.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One transaction (BEGIN IMMEDIATE: writers of several processes take turns) on the hub's file."""
        with self._lock:
            connection = self._memory or sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            finally:
                if self._memory is None:
                    connection.close()

    # --- messages ----------------------------------------------------------------------------------------

    def accept(self, sender: str, envelope: Any) -> dict[str, Any]:
        """Take a message from ``sender`` (the area it was authenticated as); answer its receipt."""
        found = problems(envelope)
        if found:
            raise NationalError("invalid", "; ".join(found)[:200], retry=False)
        if envelope["sender"] != sender:
            raise NationalError("refused", "sender differs from the authenticated area", retry=False)
        recipient, kind = envelope["recipient"], envelope["type"]
        if (kind == "filing_report") != (recipient == NATIONAL):
            raise NationalError("refused", "filing reports go to 'national', documents to an area", retry=False)
        if recipient not in (NATIONAL, sender) and self.nodes is not None and recipient not in self.nodes:
            raise NationalError("refused", f"unknown recipient area {recipient}", retry=False)
        if recipient == sender:
            raise NationalError("refused", "an area does not send documents to itself", retry=False)
        content = digest(envelope)
        with self._db() as db:
            row = db.execute("SELECT digest, accepted_at FROM message WHERE message_id = ?",
                             (envelope["message_id"],)).fetchone()
            if row is not None:
                if row[0] != content:
                    raise NationalError("refused", "message id already used for another content", retry=False)
                return {"message_id": envelope["message_id"], "accepted_at": row[1], "duplicate": True}
            accepted_at = _now()
            db.execute("INSERT INTO message (message_id, sender, recipient, type, envelope, digest, accepted_at, "
                       "acknowledged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (envelope["message_id"], sender, recipient, kind, json.dumps(envelope, ensure_ascii=False),
                        content, accepted_at, accepted_at if recipient == NATIONAL else None))
            self._keep(db, envelope)
        return {"message_id": envelope["message_id"], "accepted_at": accepted_at, "duplicate": False}

    def _keep(self, db: sqlite3.Connection, envelope: dict[str, Any]) -> None:
        """What the platform learns from a message: a filing's state, where a person's insurance is."""
        body, sender = envelope["body"], envelope["sender"]
        if envelope["type"] == "filing_report":
            db.execute("INSERT INTO filing (insured_area, filing_number, person_key, state, updated_at) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (insured_area, filing_number) DO UPDATE SET "
                       "state = excluded.state, updated_at = excluded.updated_at",
                       (sender, body["filing_number"], person_key(body["person"]["id_number"]),
                        json.dumps(body, ensure_ascii=False), envelope["sent_at"]))
        elif envelope["type"] == "information_sheet":
            self._enrol(db, person_key(body["person"]["id_number"]), sender, "closed", body["issued_on"])
        elif envelope["type"] == "transfer_completed":
            letter = db.execute("SELECT envelope FROM message WHERE type = 'contact_letter' AND sender = ? AND "
                                "json_extract(envelope, '$.body.transfer_id') = ?",
                                (sender, body["transfer_id"])).fetchone()
            if letter is not None:
                person = json.loads(letter[0])["body"]["person"]
                self._enrol(db, person_key(person["id_number"]), sender, "open", body["completed_on"])

    @staticmethod
    def _enrol(db: sqlite3.Connection, key: str, area: str, status: str, since: str) -> None:
        db.execute("INSERT INTO enrolment (person_key, area, status, since) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (person_key, area) DO UPDATE SET status = excluded.status, since = excluded.since",
                   (key, area, status, since))

    def inbox(self, node: str, limit: int = 50) -> list[dict[str, Any]]:
        """The unacknowledged messages to ``node``, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT envelope FROM message WHERE recipient = ? AND acknowledged_at IS NULL "
                              "ORDER BY accepted_at, rowid LIMIT ?", (node, max(1, min(limit, 200)))).fetchall()
        return [json.loads(row[0]) for row in rows]

    def acknowledge(self, node: str, message_ids: list[str]) -> int:
        """Mark the messages to ``node`` as stored there; returns how many were newly acknowledged."""
        with self._db() as db:
            count = 0
            for message_id in message_ids:
                count += db.execute("UPDATE message SET acknowledged_at = ? WHERE message_id = ? AND recipient = ? "
                                    "AND acknowledged_at IS NULL", (_now(), message_id, node)).rowcount
        return count

    # --- queries ------------------------------------------------------------------------------------------

    def filings(self, id_number: str) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT insured_area, state FROM filing WHERE person_key = ? ORDER BY updated_at",
                              (person_key(id_number),)).fetchall()
        return [{**json.loads(state), "insured_area_code": area} for area, state in rows]

    def enrolments(self, id_number: str) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT area, status, since FROM enrolment WHERE person_key = ? ORDER BY since",
                              (person_key(id_number),)).fetchall()
        return [{"area": area, "status": status, "since": since} for area, status, since in rows]

    def count(self, *, recipient: str | None = None, kind: str | None = None) -> int:
        """How many messages the hub holds (for tests and ``portal national status``)."""
        query, args = "SELECT COUNT(*) FROM message WHERE 1 = 1", []
        if recipient:
            query, args = query + " AND recipient = ?", [*args, recipient]
        if kind:
            query, args = query + " AND type = ?", [*args, kind]
        with self._db() as db:
            return db.execute(query, args).fetchone()[0]
