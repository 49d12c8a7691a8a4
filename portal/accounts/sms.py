"""SMS gateway interface. Development and tests use the ``outbox`` backend: messages go to the table
``sms_outbox`` (sealed), where ``portal sms outbox`` and the development page ``/dev/outbox`` show them.

A real gateway registers itself with :func:`register_backend` and is chosen by ``PORTAL_SMS_BACKEND``;
production refuses the outbox (see config). Nothing here logs a phone number or a message body (S14).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select

from ..core import clock
from ..core.db import db
from ..core.errors import DomainError
from ..insurance.models import phone_index
from .models import SmsMessage


class SmsError(DomainError):
    code = "sms_failed"
    status = 503


class SmsGateway(Protocol):
    def send(self, phone: str, body: str, *, kind: str = "otp") -> None:
        """Send ``body`` to the normalised mobile ``phone``; raise SmsError when the gateway refuses."""


class OutboxGateway:
    """Writes each message to ``sms_outbox`` in the current transaction."""

    def send(self, phone: str, body: str, *, kind: str = "otp") -> None:
        db.session.add(SmsMessage(phone=phone, phone_index=phone_index(phone), body=body, kind=kind,
                                  created_at=clock.now()))
        db.session.flush()


_BACKENDS: dict[str, Callable[[Flask], SmsGateway]] = {"outbox": lambda _app: OutboxGateway()}


def register_backend(name: str, factory: Callable[[Flask], SmsGateway]) -> None:
    _BACKENDS[name] = factory


def get_gateway(app: Flask | None = None) -> SmsGateway:
    app = app or current_app._get_current_object()
    name = app.config["PORTAL_SMS_BACKEND"]
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise RuntimeError(f"PORTAL_SMS_BACKEND={name!r} names no registered SMS gateway") from None
    return factory(app)


def outbox_messages(limit: int = 20, phone: str | None = None) -> list[SmsMessage]:
    """The newest messages of the development outbox, newest first."""
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(SmsMessage.phone_index == phone_index(phone))
    return list(db.session.execute(query).scalars())
