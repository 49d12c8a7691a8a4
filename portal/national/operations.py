"""Sending to and receiving from the national platform through the database.

**Sending.** :func:`queue` writes a message to the outbox in the caller's transaction (a change and its report
commit together or not at all). :func:`deliver_due` (``portal national work``) takes one due message at a time
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), marks it ``sending`` with a lease and commits, then hands it to the port.
The platform is idempotent by ``message_id``, so a message whose worker died after the platform took it is simply
sent again after the lease and answered with the first receipt: nothing is delivered twice. A refusal that may pass
(platform unreachable, busy) is retried after ``PORTAL_NOTIFY_BACKOFF_SECONDS`` doubling each time (the outbox's
backoff), up to ``PORTAL_NATIONAL_MAX_ATTEMPTS``; a refusal that will not (a message off the schema, an unknown
area) marks it failed at once, with the reason, for a person to see (``/staff/national``).

**Receiving.** :func:`pull` (``portal national pull``, also run by the worker) asks the port for new messages,
stores each once by ``message_id`` and hands it to the handler registered for its type (:func:`on`) in the same
transaction, commits, and only then acknowledges it to the platform. A crash before the acknowledgement offers the
message again, and the stored row makes the second offer a no-op.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from ..core import clock
from ..core.db import db
from ..integrations.national import Message, NationalError, get_national, node_of, validate
from .models import InboundMessage, OutboundMessage, OutboundStatus

log = logging.getLogger("portal.national")
LEASE_SECONDS = 120
HANDLERS: dict[str, Callable[[InboundMessage, dict[str, Any]], None]] = {}


def on(message_type: str) -> Callable:
    """Register the handler of received messages of one type: ``handler(row, body)``; it may raise to refuse."""

    def register(handler: Callable[[InboundMessage, dict[str, Any]], None]) -> Callable:
        HANDLERS[message_type] = handler
        return handler

    return register


def this_node() -> str:
    return node_of(current_app._get_current_object())


def queue(message_type: str, recipient: str, body: dict[str, Any], *, filing_id: int | None = None,
          filing_event: str | None = None, transfer_id: str | None = None,
          in_reply_to: str | None = None) -> OutboundMessage:
    """Write one message to the outbox (flushes, never commits). The body is checked against its schema now: one
    the platform would refuse (say, an ID number of a form the protocol does not take) is written as failed with the
    reason, for staff to see (``/staff/national``), and the change it reports still stands."""
    row = OutboundMessage(message_id=uuid.uuid4().hex, type=message_type, recipient=recipient,
                          in_reply_to=in_reply_to, created_at=clock.now(), next_attempt_at=clock.now(),
                          status=OutboundStatus.PENDING.value, filing_id=filing_id, filing_event=filing_event,
                          transfer_id=transfer_id)
    row.body = body
    try:
        validate(_message(row, body).to_json())
    except NationalError as error:
        row.status, row.failed_at, row.last_error = OutboundStatus.FAILED.value, clock.now(), str(error)[:200]
        log.warning("national message of type %s does not follow its schema: %s", message_type, error.detail)
    db.session.add(row)
    db.session.flush()
    return row


def _message(row: OutboundMessage, body: dict[str, Any] | None = None) -> Message:
    return Message(type=row.type, sender=this_node(), recipient=row.recipient,
                   body=body if body is not None else row.body, message_id=row.message_id,
                   sent_at=row.created_at.isoformat(timespec="seconds"), in_reply_to=row.in_reply_to)


# --- sending ---------------------------------------------------------------------------------------------------


def _claim() -> OutboundMessage | None:
    now = clock.now()
    due = or_(and_(OutboundMessage.status == OutboundStatus.PENDING.value, OutboundMessage.next_attempt_at <= now),
              and_(OutboundMessage.status == OutboundStatus.SENDING.value, OutboundMessage.lease_until <= now))
    return db.session.execute(select(OutboundMessage).where(due)
                              .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id).limit(1)
                              .with_for_update(skip_locked=True)).scalar_one_or_none()


def _max_attempts() -> int:
    return int(current_app.config.get("PORTAL_NATIONAL_MAX_ATTEMPTS", 12))


def send_one(row: OutboundMessage) -> str:
    """Commit the intent (``sending`` with a lease), hand the message to the port, record the answer (not yet
    committed). Returns the new status."""
    from ..notifications.worker import backoff

    platform = get_national(current_app._get_current_object())
    if platform is None:
        row.next_attempt_at = clock.now() + timedelta(hours=1)
        row.last_error = "off: no national platform is configured"
        return row.status
    row.status, row.lease_until = OutboundStatus.SENDING.value, clock.now() + timedelta(seconds=LEASE_SECONDS)
    row.attempts += 1
    db.session.commit()  # from here a crash leaves it sending; after the lease it is sent again, under the same id
    try:
        platform.send(_message(row))
    except NationalError as error:
        row.last_error, row.lease_until = str(error)[:200], None
        if not error.retry or row.attempts >= _max_attempts():
            row.status, row.failed_at = OutboundStatus.FAILED.value, clock.now()
            log.warning("national message %s (%s) failed for good: %s", row.id, row.type, error)
        else:
            row.status, row.next_attempt_at = OutboundStatus.PENDING.value, clock.now() + backoff(row.attempts)
        return row.status
    row.status, row.sent_at, row.lease_until, row.last_error = OutboundStatus.SENT.value, clock.now(), None, None
    return row.status


def deliver_due(limit: int = 200) -> dict[str, int]:
    """Send up to ``limit`` due messages, one transaction pair each; a tally of the outcomes."""
    tally = {"sent": 0, "pending": 0, "failed": 0}
    for _turn in range(limit):
        row = _claim()
        if row is None:
            db.session.rollback()
            break
        status = send_one(row)
        db.session.commit()
        tally[status if status in tally else "pending"] += 1
        if status == OutboundStatus.PENDING.value and row.last_error and row.last_error.startswith("off:"):
            break
    return tally


def retry(row: OutboundMessage) -> OutboundMessage:
    """A person asks for a failed message to be sent again (after fixing what refused it): due now."""
    row.status, row.next_attempt_at, row.failed_at, row.attempts = OutboundStatus.PENDING.value, clock.now(), None, 0
    db.session.flush()
    return row


# --- receiving -------------------------------------------------------------------------------------------------


def pull(limit: int = 50) -> dict[str, int]:
    """Store and handle what the platform holds for this area; acknowledge it after the commit."""
    tally = {"received": 0, "duplicate": 0, "error": 0}
    platform = get_national(current_app._get_current_object())
    if platform is None:
        return tally
    messages = platform.receive(limit=limit)
    for message in messages:
        known = db.session.execute(select(InboundMessage.id).where(
            InboundMessage.message_id == message.message_id)).first()
        if known is not None:
            tally["duplicate"] += 1
            continue
        row = InboundMessage(message_id=message.message_id, type=message.type, sender=message.sender,
                             in_reply_to=message.in_reply_to, sent_at=message.sent_at, received_at=clock.now(),
                             transfer_id=message.body.get("transfer_id"))
        row.body = message.body
        db.session.add(row)
        db.session.flush()
        savepoint = db.session.begin_nested()
        try:
            handler = HANDLERS.get(message.type)
            if handler is None:
                raise LookupError(f"no handler for {message.type}")
            handler(row, message.body)
            savepoint.commit()
            row.handled_at = clock.now()
            tally["received"] += 1
        except Exception as error:  # a handler's refusal or bug: the row keeps why, the others go on
            savepoint.rollback()
            row.error = f"{type(error).__name__}: {getattr(error, 'detail', '') or ''}"[:200]
            tally["error"] += 1
            log.exception("national message %s (%s) could not be handled", message.message_id, message.type)
        db.session.commit()
    if messages:
        platform.acknowledge([m.message_id for m in messages])
    return tally


def work_once() -> dict[str, int]:
    """One round of the worker: receive, then send."""
    received = pull()
    return {**received, **deliver_due()}
