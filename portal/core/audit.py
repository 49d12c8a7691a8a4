"""Append-only, tamper-evident audit log (S13).

Each row carries the SHA-256 of the previous row's hash and its own canonical content, so editing,
deleting or reordering any row breaks the chain from there on; ``portal audit verify`` walks it.
Appends are serialised (an advisory lock on PostgreSQL; SQLite serialises writers itself).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import BigInteger, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .db import Base, db

GENESIS = "0" * 64
_AUDIT_LOCK = 7_301_455  # advisory-lock key for appends
_ID_RE = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9])")
_PHONE_RE = re.compile(r"(?<![0-9])(1[3-9]\d)(\d{4})(\d{4})(?![0-9])")


def scrub(value: str) -> str:
    """Mask any 身份证 or mobile number inside free text before it is logged (S12, S14)."""
    value = _ID_RE.sub(lambda m: m.group(1)[:1] + "*" * 15 + m.group(3)[-2:], value)
    return _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # "who opened this case?" (the workbench's supervisor view) reads the rows of one object
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

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
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

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


def _hash(event: AuditEvent) -> str:
    import hashlib

    return hashlib.sha256(event.canonical().encode()).hexdigest()


def record(action: str, *, actor: Actor, object_type: str | None = None, object_id: Any = None,
           result: str = "ok", detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append one audit row in the current transaction (flushed, not committed)."""
    session = db.session
    if db.is_postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
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
        prev_hash=last or GENESIS,
    )
    event.hash = _hash(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the whole log in id order; report the first row whose link or content does not match."""
    previous = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            return ChainReport(checked, None, None)
        for row in rows:
            if row.prev_hash != previous:
                return ChainReport(checked, row.id,
                                   "link to the previous row does not match (row removed or reordered)")
            if _hash(row) != row.hash:
                return ChainReport(checked, row.id, "content does not match its hash (row altered)")
            previous = row.hash
            checked += 1
            last_id = row.id
        db.session.expunge_all()
