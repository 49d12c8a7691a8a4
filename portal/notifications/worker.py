"""Delivering the outbox: ``portal notify work`` runs :func:`run`; tests and cron use :func:`deliver_due`.

**One delivery at a time, the intent committed before the call.** A worker takes one due delivery with
``SELECT … FOR UPDATE SKIP LOCKED`` (other workers on PostgreSQL skip the row it holds; SQLite ignores the
clause and serialises writers: run one worker there), marks it ``sending`` with a lease
(``PORTAL_NOTIFY_LEASE_SECONDS``), writes a ``started`` attempt row and **commits**; only then does it call the
channel, passing ``delivery-<id>`` as the provider's business id (Alibaba Cloud ``OutId``, Tencent Cloud
``SessionContext``). The answer — sent, refused, or no answer at all — is recorded in the attempt row and the
delivery in a second commit. The send itself runs in a savepoint, so what a failing channel wrote (an SMS
outbox row, say) is undone while the failed attempt is still recorded. A refusal is retried after
``base · 2^(attempts-1)`` seconds (capped, with up to 10 % jitter so workers do not retry in lockstep); a
permanent refusal, or the last attempt, marks the delivery failed, which the applicant's case page shows.

**A lost send is confirmed, never blindly repeated.** A delivery whose worker died between the call and the
second commit stays ``sending`` with a ``started`` attempt; one whose call got no answer (a read timeout) goes
back to ``pending`` with an ``unknown`` attempt. Either may have reached the recipient. The next worker to take
it (for a ``sending`` one: once its lease has run out) first asks the channel's ``confirm``:

- the provider has the message under our id (Alibaba Cloud: ``QuerySendDetails`` lists the OutIds sent to the
  number since that day) → the delivery is marked sent, nothing is sent again;
- it certainly does not (Alibaba Cloud has no such OutId; the development outbox and the inbox, which write in
  the transaction that was lost) → it is sent again, under the same id;
- the provider cannot say (Tencent Cloud and WeChat offer no query by our id) → the delivery becomes
  ``unconfirmed`` and waits for a person (``portal notify unconfirmed`` / ``portal notify settle``): a citizen
  told twice that a case was refused is worse than a member of staff checking the provider's console;
- the question fails (provider unreachable) → asked again after the usual wait; after the last attempt the
  delivery becomes ``unconfirmed``, not failed, since the message may have gone out.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from ..core import clock, crypto
from ..core.db import db
from ..integrations.sms import Found, Receipt
from .channels import DeliveryFailed, channel
from .constants import BACKOFF_CAP_SECONDS, BACKOFF_SECONDS, MAX_ATTEMPTS, Status
from .messages import render
from .models import Delivery, DeliveryAttempt, Notification

log = logging.getLogger("portal.notifications.worker")
LEASE_SECONDS = 300  # PORTAL_NOTIFY_LEASE_SECONDS
LOST = frozenset({"started", "unknown"})  # results of a last attempt after which the message may have gone out


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unconfirmed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.unconfirmed


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try."""
    base = int(current_app.config.get("PORTAL_NOTIFY_BACKOFF_SECONDS", BACKOFF_SECONDS))
    seconds = min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds * (1 + random.random() / 10))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def _claim() -> Delivery | None:
    """One due delivery — pending and due, or sending with its lease run out — locked for this transaction
    (skipping those other workers hold)."""
    now = clock.now()
    due = or_(and_(Delivery.status == Status.PENDING.value, Delivery.next_attempt_at <= now),
              and_(Delivery.status == Status.SENDING.value, Delivery.lease_until <= now))
    return db.session.execute(
        select(Delivery).where(due).order_by(Delivery.next_attempt_at, Delivery.id).limit(1)
        .with_for_update(skip_locked=True)
        .options(selectinload(Delivery.notification).selectinload(Notification.account))
    ).scalar_one_or_none()


def _last_attempt(delivery: Delivery) -> DeliveryAttempt | None:
    if not delivery.attempts and delivery.status == Status.PENDING.value:
        return None  # never tried
    return db.session.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
                              .order_by(DeliveryAttempt.id.desc()).limit(1)).scalar_one_or_none()


def _attempt_row(delivery: Delivery, kind: str) -> DeliveryAttempt:
    row = DeliveryAttempt(delivery_id=delivery.id, kind=kind, channel=delivery.channel, result="started",
                          started_at=clock.now(), worker=worker_name())
    db.session.add(row)
    return row


def _cut(value: str | None) -> str | None:
    return str(value)[:64] if value else None


def _finish(row: DeliveryAttempt, result: str, receipt: Receipt | None = None,
            problem: DeliveryFailed | None = None) -> None:
    row.result, row.finished_at = result, clock.now()
    if receipt is not None:
        row.provider, row.provider_id = receipt.provider[:16], _cut(receipt.provider_id)
        row.provider_code, row.request_id = _cut(receipt.provider_code), _cut(receipt.request_id)
    if problem is not None:
        row.error, row.provider_code, row.request_id = problem.reason, _cut(problem.provider_code), _cut(
            problem.request_id)


def _max_attempts() -> int:
    return int(current_app.config.get("PORTAL_NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS))


def _mark_sent(delivery: Delivery, tally: Tally) -> None:
    delivery.status, delivery.sent_at, delivery.last_error, delivery.lease_until = (
        Status.SENT.value, clock.now(), None, None)
    tally.sent += 1


def _mark_unconfirmed(delivery: Delivery, reason: str, tally: Tally) -> None:
    delivery.status, delivery.last_error, delivery.lease_until = Status.UNCONFIRMED.value, reason[:200], None
    tally.unconfirmed += 1
    log.warning("delivery %s via %s is unconfirmed: %s", delivery.id, delivery.channel, reason)


def _retry_later(delivery: Delivery, reason: str, tally: Tally) -> None:
    delivery.status, delivery.lease_until = Status.PENDING.value, None
    delivery.next_attempt_at, delivery.last_error = clock.now() + backoff(delivery.attempts), reason[:200]
    tally.retried += 1


def _check(delivery: Delivery, tally: Tally) -> bool:
    """Ask the channel what became of the lost send; True when it is safe to send now. Records the check."""
    row = _attempt_row(delivery, "check")
    try:
        confirmation = channel(delivery.channel).confirm(delivery.notification, delivery.business_id,
                                                         since=delivery.created_at)
    except DeliveryFailed as problem:
        _finish(row, "unknown", problem=problem)
        delivery.attempts += 1  # a question that keeps failing must end too
        if delivery.attempts >= _max_attempts():
            _mark_unconfirmed(delivery, f"could not confirm an earlier send: {problem.reason}", tally)
        else:
            _retry_later(delivery, f"could not confirm an earlier send: {problem.reason}", tally)
        return False
    if confirmation.found is Found.SENT:
        _finish(row, "found", confirmation.receipt)
        _mark_sent(delivery, tally)
        return False
    if confirmation.found is Found.UNKNOWN:
        _finish(row, "unknown", confirmation.receipt)
        _mark_unconfirmed(delivery, "an earlier send may have gone out and the channel cannot confirm it", tally)
        return False
    _finish(row, "not_found", confirmation.receipt)
    return True


def _send(delivery: Delivery, tally: Tally) -> None:
    """Commit the intent (``sending``, a ``started`` attempt), call the channel, commit what it answered."""
    row = _attempt_row(delivery, "send")
    delivery.attempts += 1
    db.session.commit()  # from here on, a crash leaves a trace: the delivery sending, its attempt started
    problem: DeliveryFailed | None = None
    receipt: Receipt | None = None
    savepoint = db.session.begin_nested()
    try:  # opening the sealed context is inside: one unreadable message cannot stop the worker
        notification = delivery.notification
        message = render(notification.event, notification.context, current_app.config["BABEL_DEFAULT_LOCALE"])
        receipt = channel(delivery.channel).send(notification, message, business_id=delivery.business_id)
        savepoint.commit()
    except DeliveryFailed as error:
        savepoint.rollback()
        problem = error
    except crypto.KeyError_:
        savepoint.rollback()
        problem = DeliveryFailed("the message does not open with the loaded keys", permanent=True)
    except Exception as error:  # a channel's bug or an unforeseen answer: retried, after a check
        savepoint.rollback()
        log.exception("delivery %s via %s raised", delivery.id, delivery.channel)
        problem = DeliveryFailed(f"unexpected error: {type(error).__name__}", uncertain=True)
    if problem is None:
        _finish(row, "sent", receipt)
        _mark_sent(delivery, tally)
    elif problem.uncertain and not problem.permanent:
        _finish(row, "unknown", problem=problem)
        if delivery.attempts >= _max_attempts():
            _mark_unconfirmed(delivery, f"no answer to the last attempt: {problem.reason}", tally)
        else:
            _retry_later(delivery, problem.reason, tally)
    elif problem.permanent or delivery.attempts >= _max_attempts():
        _finish(row, "failed", problem=problem)
        delivery.status, delivery.failed_at, delivery.last_error, delivery.lease_until = (
            Status.FAILED.value, clock.now(), problem.reason, None)
        tally.failed += 1
        log.warning("delivery %s via %s failed for good after %s attempt(s): %s", delivery.id, delivery.channel,
                    delivery.attempts, problem.reason)
    else:
        _finish(row, "failed", problem=problem)
        _retry_later(delivery, problem.reason, tally)


def _handle(delivery: Delivery, tally: Tally) -> None:
    lease = int(current_app.config.get("PORTAL_NOTIFY_LEASE_SECONDS", LEASE_SECONDS))
    last = _last_attempt(delivery)
    if delivery.status == Status.SENDING.value and last is not None and last.result == "started":
        last.result, last.finished_at = "unknown", clock.now()
        last.error = "the worker stopped before it recorded the answer"
        log.warning("delivery %s via %s was abandoned by worker %s", delivery.id, delivery.channel, last.worker)
    delivery.status, delivery.lease_until = Status.SENDING.value, clock.now() + timedelta(seconds=lease)
    if (last is not None and last.result in LOST) and not _check(delivery, tally):
        return
    _send(delivery, tally)


def deliver_due(limit: int = 500) -> Tally:
    """Deliver up to ``limit`` due deliveries, one per transaction pair; return what happened."""
    tally = Tally()
    while tally.handled < limit:
        delivery = _claim()
        if delivery is None:
            db.session.rollback()
            break
        _handle(delivery, tally)
        db.session.commit()
    return tally


def run(*, poll_seconds: float = 2.0, batch: int = 500, stop_after: float | None = None) -> None:
    """Deliver forever (or for ``stop_after`` seconds), sleeping ``poll_seconds`` whenever nothing is due."""
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        tally = deliver_due(batch)
        if tally.handled:
            log.info("delivered: %s sent, %s to retry, %s failed, %s unconfirmed", tally.sent, tally.retried,
                     tally.failed, tally.unconfirmed)
        else:
            time.sleep(poll_seconds)
