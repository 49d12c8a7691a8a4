"""Append-only, tamper-evident audit log (S13), without a lock on the way in.

Writers append rows freely: each row stores the SHA-256 of its own canonical content and nothing that depends
on any other row, so a page view, a login or a decision never waits for another request's audit row (there
used to be one advisory lock for every audited action in the whole system). A job, ``portal audit seal``,
later takes the committed rows that no seal covers yet, in id order, and seals them as one batch: the seal
holds the number of rows, their first and last id, the hash of their ``id:hash`` lines, and the hash of the
previous seal, so the seals form one hash chain (gapless numbers 1, 2, 3, ...). A row that commits late
(a long transaction, with an id below rows already sealed) is simply sealed by the next batch.

``portal audit verify`` (``verify_chain``) checks both levels: the seal chain, and for every seal that its rows
are exactly the ones it sealed (a changed, removed, added or reordered row changes the batch hash), and that
every row, sealed or not, still matches its own hash. Rows written before this scheme carry the old chain's
``prev_hash`` inside their content; they are sealed like any other row. Only the end of the log can be cut
off unseen by a hash chain: record the head hash ``portal audit verify`` prints somewhere else now and then.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, insert, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .db import Base, db

log = logging.getLogger("portal")
GENESIS = "0" * 64
_SEAL_LOCK = 7_301_455  # advisory-lock key: one sealer at a time (writers never take it)
SEAL_BATCH = 5000
_ID_RE = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9])")
_PHONE_RE = re.compile(r"(?<![0-9])(1[3-9]\d)(\d{4})(\d{4})(?![0-9])")


def scrub(value: str) -> str:
    """Mask any 身份证 or mobile number inside free text before it is logged (S12, S14)."""
    value = _ID_RE.sub(lambda m: m.group(1)[:1] + "*" * 15 + m.group(3)[-2:], value)
    return _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)


class AuditSeal(Base):
    """One sealed batch of audit rows, chained to the seal before it."""

    __tablename__ = "audit_seal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 1, 2, 3, ... no gaps
    sealed_at: Mapped[datetime]
    first_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    rows: Mapped[int] = mapped_column(Integer)
    rows_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def canonical(self) -> str:
        return json.dumps([self.id, self.sealed_at.isoformat(), self.first_id, self.last_id, self.rows,
                           self.rows_hash, self.prev_hash], separators=(",", ":"))


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        # "who opened this case?" (the workbench's supervisor view) reads the rows of one object
        Index("ix_audit_event_object", "object_type", "object_id"),
        # the sealer reads the unsealed rows in id order; verify reads one seal's rows
        Index("ix_audit_event_seal", "seal_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))  # citizen, agent, staff, system, anonymous
    actor_id: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))  # ok, denied, failed
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str | None] = mapped_column(String(64))  # rows of the old per-row chain only
    hash: Mapped[str] = mapped_column(String(64))  # of this row's canonical content
    seal_id: Mapped[int | None] = mapped_column(ForeignKey("audit_seal.id"))

    def canonical(self) -> str:
        return json.dumps(
            [self.at.isoformat(), self.actor_kind, self.actor_id, self.role, self.action, self.object_type,
             self.object_id, self.result, self.ip, self.request_id, self.detail, self.prev_hash],
            ensure_ascii=False, separators=(",", ":"),
        )


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log names them."""

    kind: str
    id: str | None = None
    role: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system", None, None)


def actor_of(user: Any) -> Actor:
    """The audit actor of a logged-in account (or anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor("anonymous")
    return Actor(getattr(user, "kind", "user"), str(user.get_id()), getattr(user, "audit_role", None))


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _hash(event: AuditEvent) -> str:
    return _sha(event.canonical())


def rows_hash(pairs: list[tuple[int, str]]) -> str:
    """The hash of a batch: its rows' ids and hashes, in id order."""
    return _sha("".join(f"{ident}:{digest}\n" for ident, digest in pairs))


# One row written as a plain INSERT (not through the session's unit of work: nothing of it is read back or changed
# in the request); the row returned is the values written and the id the database gave it.
_WRITTEN = ("at", "actor_kind", "actor_id", "role", "action", "object_type", "object_id", "result", "ip", "request_id",
            "detail", "prev_hash", "hash")
_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def record(action: str, *, actor: Actor, object_type: str | None = None, object_id: Any = None,
           result: str = "ok", detail: dict[str, Any] | None = None) -> AuditEvent:
    """Write one audit row in the current transaction (not committed), after flushing what the session holds. No
    lock, no read."""
    ip = request_id = None
    if has_request_context():
        ip = request.remote_addr
        request_id = g.get("request_id")
    event = AuditEvent(
        at=clock.now().replace(microsecond=0),
        actor_kind=actor.kind,
        actor_id=actor.id,
        role=actor.role,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        result=result,
        ip=ip,
        request_id=request_id,
        detail=scrub(json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)),
        prev_hash=None,
    )
    event.hash = _hash(event)
    db.session.flush()  # what the caller changed before is written first, as before
    event.id = db.session.execute(_INSERT, {name: getattr(event, name) for name in _WRITTEN}).scalar_one()
    return event


# --- sealing -------------------------------------------------------------------------------------------


def seal_pending(limit: int = SEAL_BATCH) -> AuditSeal | None:
    """Seal up to ``limit`` committed, unsealed rows (in id order) as the next batch; None when there are none
    or another sealer holds the turn. Flushes; the caller commits."""
    session = db.session
    if db.is_postgres and not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                              {"k": _SEAL_LOCK}).scalar():
        return None
    pairs = session.execute(
        select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.seal_id.is_(None))
        .order_by(AuditEvent.id).limit(limit).with_for_update()
    ).all()
    if not pairs:
        return None
    last = session.execute(select(AuditSeal).order_by(AuditSeal.id.desc()).limit(1)).scalar()
    seal = AuditSeal(id=(last.id + 1) if last else 1, sealed_at=clock.now().replace(microsecond=0),
                     first_id=pairs[0][0], last_id=pairs[-1][0], rows=len(pairs),
                     rows_hash=rows_hash([(i, h) for i, h in pairs]), prev_hash=last.hash if last else GENESIS)
    seal.hash = _sha(seal.canonical())
    session.add(seal)
    session.flush()
    ids = [i for i, _h in pairs]
    for start in range(0, len(ids), 1000):
        session.execute(update(AuditEvent).where(AuditEvent.id.in_(ids[start:start + 1000]))
                        .values(seal_id=seal.id).execution_options(synchronize_session=False))
    return seal


def seal_all(limit: int = SEAL_BATCH) -> list[int]:
    """Seal every committed row, one batch (and one commit) at a time; the seals' ids."""
    sealed = []
    while (seal := seal_pending(limit)) is not None:
        sealed.append(seal.id)
        db.session.commit()
    db.session.commit()
    return sealed


# --- verifying -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    checked: int  # rows whose content and seal were checked
    broken_at: int | None  # the first altered row, or the first row of a broken batch
    reason: str | None
    seals: int = 0
    pending: int = 0  # rows not sealed yet (each checked against its own hash only)
    head: str = GENESIS  # the last seal's hash: note it elsewhere to notice the log's end being cut off
    broken_seal: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def _breaker(seal: AuditSeal, checked: int, previous: str):
    def broken(reason: str, row: int | None = None) -> ChainReport:
        return ChainReport(checked, row if row is not None else seal.first_id, reason, seal.id - 1, head=previous,
                           broken_seal=seal.id)
    return broken


def verify_chain(batch: int = SEAL_BATCH) -> ChainReport:
    """Check the seal chain, every sealed batch against its rows, and every row against its own hash."""
    session = db.session
    previous, checked, expected_id = GENESIS, 0, 1
    seals = session.execute(select(AuditSeal).order_by(AuditSeal.id)).scalars().all()
    for seal in seals:
        broken = _breaker(seal, checked, previous)
        if seal.id != expected_id:
            return broken(f"seal {expected_id} is missing (a sealed batch was removed)")
        if seal.prev_hash != previous:
            return broken("the seal does not link to the seal before it (a seal was changed or replaced)")
        if _sha(seal.canonical()) != seal.hash:
            return broken("the seal's content does not match its hash (a seal was changed)")
        rows = session.execute(select(AuditEvent).where(AuditEvent.seal_id == seal.id)
                               .order_by(AuditEvent.id)).scalars().all()
        for row in rows:
            if _hash(row) != row.hash:
                return broken("content does not match its hash (row altered)", row.id)
        pairs = [(row.id, row.hash) for row in rows]
        if len(rows) != seal.rows or not rows or rows[0].id != seal.first_id or rows[-1].id != seal.last_id:
            return broken(f"the batch sealed {seal.rows} rows ({seal.first_id}–{seal.last_id}) and holds {len(rows)}"
                          " now (row removed or added)")
        if rows_hash(pairs) != seal.rows_hash:
            return broken("the batch's rows do not match its seal (rows reordered, or a row altered with its hash)")
        checked += len(rows)
        previous, expected_id = seal.hash, seal.id + 1
        session.expunge_all()
    pending, last_id = 0, 0
    while True:
        rows = session.execute(select(AuditEvent).where(AuditEvent.seal_id.is_(None), AuditEvent.id > last_id)
                               .order_by(AuditEvent.id).limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            if _hash(row) != row.hash:
                return ChainReport(checked, row.id, "content does not match its hash (row altered, not sealed yet)",
                                   len(seals), pending, previous)
            pending += 1
            last_id = row.id
        session.expunge_all()
    return ChainReport(checked, None, None, len(seals), pending, previous)
