"""Delivering the outbox: ``portal notify work`` runs :func:`run`; tests and cron use :func:`deliver_due`.

Deliveries are taken a few at a time (``CLAIM``) with ``SELECT … FOR UPDATE SKIP LOCKED``: the rows stay locked
while their channels send and until their new statuses commit, and other workers skip them, so several workers on
PostgreSQL never carry one message twice. (SQLite ignores the clause and serialises writers: run one worker.)
The send itself runs in a savepoint, so what a failing channel wrote (an SMS outbox row, say) is undone while
the failed attempt is still recorded. A failure is retried after ``base · 2^(attempts-1)`` seconds (capped,
with up to 10 % jitter so workers do not retry in lockstep); a permanent refusal, or the last attempt, marks
the delivery failed, which the applicant's case page shows.

Two workers never carry one delivery at once. A worker that dies after an external gateway accepted a message
but before its commit leaves the row pending, and the message goes out again: external channels are at least
once (the development SMS outbox, written in the same transaction, is exactly once).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import clock, crypto
from ..core.db import db
from .channels import DeliveryFailed, channel
from .constants import BACKOFF_CAP_SECONDS, BACKOFF_SECONDS, MAX_ATTEMPTS, Status
from .messages import render
from .models import Delivery, Notification

log = logging.getLogger("portal.notifications.worker")
CLAIM = 20  # deliveries taken per transaction: fewer commits; the rows stay locked until their batch commits


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try."""
    base = int(current_app.config.get("PORTAL_NOTIFY_BACKOFF_SECONDS", BACKOFF_SECONDS))
    seconds = min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds * (1 + random.random() / 10))


def _claim(size: int) -> list[Delivery]:
    """Up to ``size`` due deliveries, locked for this transaction (skipping those other workers hold)."""
    return list(db.session.execute(
        select(Delivery).where(Delivery.status == Status.PENDING.value, Delivery.next_attempt_at <= clock.now())
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(size).with_for_update(skip_locked=True)
        .options(selectinload(Delivery.notification).selectinload(Notification.account))
    ).scalars())


def _attempt(delivery: Delivery, tally: Tally) -> None:
    max_attempts = int(current_app.config.get("PORTAL_NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS))
    delivery.attempts += 1
    problem: DeliveryFailed | None = None
    savepoint = db.session.begin_nested()
    try:  # opening the sealed context is inside: one unreadable message cannot stop the worker
        notification = delivery.notification
        message = render(notification.event, notification.context, current_app.config["BABEL_DEFAULT_LOCALE"])
        channel(delivery.channel).send(notification, message)
        savepoint.commit()
    except DeliveryFailed as error:
        savepoint.rollback()
        problem = error
    except crypto.KeyError_:
        savepoint.rollback()
        problem = DeliveryFailed("the message does not open with the loaded keys", permanent=True)
    except Exception as error:  # a channel's bug or an unforeseen answer: retried like a temporary failure
        savepoint.rollback()
        log.exception("delivery %s via %s raised", delivery.id, delivery.channel)
        problem = DeliveryFailed(f"unexpected error: {type(error).__name__}")
    now = clock.now()
    if problem is None:
        delivery.status, delivery.sent_at, delivery.last_error = Status.SENT.value, now, None
        tally.sent += 1
    elif problem.permanent or delivery.attempts >= max_attempts:
        delivery.status, delivery.failed_at, delivery.last_error = Status.FAILED.value, now, problem.reason
        tally.failed += 1
        log.warning("delivery %s via %s failed for good after %s attempt(s): %s", delivery.id, delivery.channel,
                    delivery.attempts, problem.reason)
    else:
        delivery.next_attempt_at, delivery.last_error = now + backoff(delivery.attempts), problem.reason
        tally.retried += 1


def deliver_due(limit: int = 500) -> Tally:
    """Deliver up to ``limit`` due deliveries, ``CLAIM`` per transaction; return what happened."""
    tally = Tally()
    while tally.handled < limit:
        claimed = _claim(min(CLAIM, limit - tally.handled))
        if not claimed:
            db.session.rollback()
            break
        for delivery in claimed:
            _attempt(delivery, tally)
        db.session.commit()
    return tally


def run(*, poll_seconds: float = 2.0, batch: int = 500, stop_after: float | None = None) -> None:
    """Deliver forever (or for ``stop_after`` seconds), sleeping ``poll_seconds`` whenever nothing is due."""
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        tally = deliver_due(batch)
        if tally.handled:
            log.info("delivered: %s sent, %s to retry, %s failed", tally.sent, tally.retried, tally.failed)
        else:
            time.sleep(poll_seconds)
