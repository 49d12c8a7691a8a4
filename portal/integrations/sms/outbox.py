"""The development and test gateway: each message is a row of ``sms_outbox`` (sealed), written in the caller's
transaction, shown by ``portal sms outbox`` and the development page ``/dev/outbox``. Production refuses it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from ...accounts.models import SmsMessage
from ...core import clock
from ...core.db import db
from ...insurance.models import phone_index
from . import Confirmation, Found, Health, Receipt


class OutboxGateway:
    name = "outbox"
    transactional = True

    def send(self, phone: str, template: str, params: Mapping[str, str], *, business_id: str | None = None,
             text: str = "") -> Receipt:
        kind = "otp" if template.startswith("otp") else "binding" if template.startswith("binding") else "notice"
        row = SmsMessage(phone=phone, phone_index=phone_index(phone), body=text, kind=kind, created_at=clock.now())
        db.session.add(row)
        db.session.flush()
        return Receipt(self.name, provider_id=str(row.id))

    def confirm(self, phone: str, business_id: str, *, since: datetime) -> Confirmation:
        """A message is written in the transaction that marks its delivery sent: a delivery still ``sending``
        lost its message with its transaction."""
        return Confirmation(Found.NOT_SENT)

    def health(self) -> Health:
        return Health(True, "development outbox (messages are not sent)")


def outbox_messages(limit: int = 20, phone: str | None = None) -> list[SmsMessage]:
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(SmsMessage.phone_index == phone_index(phone))
    return list(db.session.execute(query).scalars())
