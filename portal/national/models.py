"""The national outbox and inbox: one row per message, written in the transaction of the change it announces.

Bodies carry ID numbers and names: they are sealed (field encryption, purpose ``national.body``). An outbound
message's ``message_id`` is the protocol's idempotency key, so a resend after a crash is the same message; an
inbound message is stored once by its ``message_id`` (unique), so a message offered twice is handled once.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import keyring
from ..core.db import Base
from ..core.translation import lazy_gettext as _l

BODY_PURPOSE = "national.body"


class OutboundStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent, or to be sent again after a failure
    SENDING = "sending"  # a worker holds it (until its lease ends)
    SENT = "sent"  # the platform gave a receipt
    FAILED = "failed"  # refused for good, or out of attempts: a person must look

    @property
    def label(self) -> str:
        return str(OUTBOUND_LABELS[self])


OUTBOUND_LABELS = {
    OutboundStatus.PENDING: _l("Waiting to be sent"),
    OutboundStatus.SENDING: _l("Being sent"),
    OutboundStatus.SENT: _l("Reported to the national platform"),
    OutboundStatus.FAILED: _l("Not reported"),
}
_OUT = ", ".join(f"'{s.value}'" for s in OutboundStatus)


class _Envelope:
    """What a message row holds either way: the envelope's id, type and reply, the sealed body (``body`` seals and
    opens it) and the 转移接续 it belongs to, if any."""

    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    in_reply_to: Mapped[str | None] = mapped_column(String(32))
    body_sealed: Mapped[str] = mapped_column(Text)
    transfer_id: Mapped[str | None] = mapped_column(String(32), index=True)

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(keyring().open(self.body_sealed, BODY_PURPOSE))

    @body.setter
    def body(self, value: dict[str, Any]) -> None:
        self.body_sealed = keyring().seal(json.dumps(value, ensure_ascii=False, sort_keys=True), BODY_PURPOSE)


class OutboundMessage(_Envelope, Base):
    """One message to the platform: its envelope's fields, its sealed body, and how its delivery stands."""

    __tablename__ = "national_outbox"
    __table_args__ = (
        CheckConstraint(f"status IN ({_OUT})", name="status"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        Index("ix_national_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)  # the envelope's sent_at: fixed at writing
    status: Mapped[str] = mapped_column(String(16), default=OutboundStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))  # no personal data: the kind and a code
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    # what the message is about, for the pages that say whether it went out
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("remote_care_filing.id", ondelete="SET NULL"),
                                                  index=True)
    filing_event: Mapped[str | None] = mapped_column(String(16))

    filing = relationship("RemoteCareFiling")

    @property
    def status_enum(self) -> OutboundStatus:
        return OutboundStatus(self.status)


class InboundMessage(_Envelope, Base):
    """One message from the platform, stored once; ``handled_at`` when its feature took it, ``error`` if it could
    not (kept for a person to look at, never offered to the feature twice)."""

    __tablename__ = "national_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    handled_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
