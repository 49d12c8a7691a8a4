"""The outbox: one ``notification`` per message to one account, one ``notification_delivery`` per channel.

Both are written in the transaction of the change they announce, so a change and its message commit
together or not at all; workers deliver the pending rows afterwards (``portal notify work``). The context
(numbers, item names, dates, a refusal's reason) is sealed: a reason can name a person.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted, keyring
from ..core.db import Base
from .constants import Channel, Status

CONTEXT_PURPOSE = "notification.context"
_CHANNELS = ", ".join(f"'{c.value}'" for c in Channel)
_STATUSES = ", ".join(f"'{s.value}'" for s in Status)
# started: the call is under way (or its worker died); sent / failed: the channel's answer; unknown: no answer,
# and the provider may have the message; found / not_found / unknown: what a check learnt; settled: by a person
ATTEMPT_RESULTS = ("started", "sent", "failed", "unknown", "found", "not_found", "settled")


class Notification(Base):
    """One message to one account about one event; the inbox shows it, its deliveries carry it elsewhere."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    # sealed by hand (not the Encrypted column type): loading a row never fails, opening it does, where the worker
    # can mark that one message failed and go on
    context_json: Mapped[str] = mapped_column(Text, default="")
    # reminders are sent once: a second run of the reminder command finds the key and sends nothing
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    read_at: Mapped[datetime | None]

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification", order_by="Delivery.id",
                                                      cascade="all, delete-orphan")
    account = relationship("Account")

    @property
    def context(self) -> dict[str, Any]:
        """The template's fields; raises ``crypto.KeyError_`` when the sealed value does not open."""
        return json.loads(keyring().open(self.context_json, CONTEXT_PURPOSE)) if self.context_json else {}

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        plain = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        self.context_json = keyring().seal(plain, CONTEXT_PURPOSE)


class Delivery(Base):
    """One channel's attempts to carry a notification: pending → sending → sent, or back to pending for a retry,
    or failed after the last one; a send that may have gone out unseen ends unconfirmed (see worker.py)."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_CHANNELS})", name="channel"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint("status <> 'failed' OR failed_at IS NOT NULL", name="failed_has_time"),
        UniqueConstraint("notification_id", "channel", name="uq_notification_delivery_one_per_channel"),
        Index("ix_notification_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    lease_until: Mapped[datetime | None]  # while sending: after this, the worker holding it is taken to be gone
    last_error: Mapped[str | None] = mapped_column(String(200))  # no personal data: an errcode and its meaning
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    notification: Mapped[Notification] = relationship(back_populates="deliveries")
    attempt_rows: Mapped[list[DeliveryAttempt]] = relationship(back_populates="delivery", cascade="all, delete-orphan",
                                                               order_by="DeliveryAttempt.id", passive_deletes=True)

    @property
    def business_id(self) -> str:
        """Our id for the message at the provider (Alibaba Cloud's OutId, Tencent Cloud's SessionContext)."""
        return f"delivery-{self.id}"


class DeliveryAttempt(Base):
    """One try to carry a delivery, or one check of what became of a lost try: when, through what, the result and
    the provider's ids and codes. The row of a send is committed as ``started`` before the call, so a crash
    leaves it ``started``. No personal data: codes and ids only."""

    __tablename__ = "notification_delivery_attempt"
    __table_args__ = (CheckConstraint(f"result IN ({', '.join(repr(r) for r in ATTEMPT_RESULTS)})", name="result"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("notification_delivery.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # send | check | settle (a person's decision)
    channel: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(80))  # host:pid of the worker (or the person who settled)
    provider: Mapped[str | None] = mapped_column(String(16))  # aliyun, tencent, outbox, wechat …
    provider_id: Mapped[str | None] = mapped_column(String(64))  # BizId, SerialNo …
    provider_code: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_rows")


class WeChatSubscription(Base):
    """Consent to one-time subscribe messages (一次性订阅消息): each acceptance in the mini-program allows one message
    of that event. The openid is sealed (the send API needs it in clear) with a blind index for lookup."""

    __tablename__ = "wechat_subscription"
    __table_args__ = (UniqueConstraint("account_id", "event", name="uq_wechat_subscription_account_event"),
                      CheckConstraint("grants >= 0", name="grants_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    openid: Mapped[str] = mapped_column(Encrypted("wechat_subscription.openid"))
    openid_index: Mapped[str] = mapped_column(BlindIndex, index=True)
    event: Mapped[str] = mapped_column(String(32))
    grants: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
