"""What delivering the outbox costs, and how it scales with workers on PostgreSQL.

    python bench/notify_worker.py [--database-url URL] [--messages 400] [--runs 3] [--workers 1,2,4]

Each run queues MESSAGES text messages to one account (committed), then delivers them with N worker threads,
each on its own connection (``deliver_due``: per delivery, one ``SELECT … FOR UPDATE SKIP LOCKED`` transaction
that commits the intent — ``sending`` and a started attempt — and one that commits the answer; the SMS outbox
gateway as the channel). The baseline, measured in the same run, is the gateway alone: the same
number of outbox inserts, one committed transaction each, with no outbox around them. Prints the median
messages per second of RUNS runs for each worker count and the ratio to the baseline. Without ``--database-url``
(or PORTAL_BENCH_DATABASE_URL) it runs on a temporary SQLite file, where only one worker makes sense.
Everything the benchmark writes is deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, select

from portal import create_app
from portal.accounts.models import Account, SmsMessage
from portal.core.db import Base, db
from portal.core.models_registry import import_all_models
from portal.insurance.models import phone_index
from portal.integrations.sms.outbox import OutboxGateway  # the bench measures this adapter itself
from portal.notifications.constants import Channel, Event
from portal.notifications.models import Delivery, DeliveryAttempt, Notification
from portal.notifications.operations import notify
from portal.notifications.worker import deliver_due

PHONE = "13700007777"
CONTEXT = {"destination": "海南省", "expires_on": "2026-12-31"}


def _account() -> Account:
    account = Account(kind="citizen", login_key=f"citizen:bench-{time.time_ns()}", display_name="")
    account.set_phone(PHONE)
    db.session.add(account)
    db.session.commit()
    return account


def _cleanup() -> None:
    ids = select(Account.id).where(Account.phone_index == phone_index(PHONE))
    notes = select(Notification.id).where(Notification.account_id.in_(ids))
    deliveries = select(Delivery.id).where(Delivery.notification_id.in_(notes))
    db.session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries)))
    db.session.execute(delete(Delivery).where(Delivery.notification_id.in_(notes)))
    db.session.execute(delete(Notification).where(Notification.account_id.in_(ids)))
    db.session.execute(delete(SmsMessage).where(SmsMessage.phone_index == phone_index(PHONE)))
    db.session.execute(delete(Account).where(Account.phone_index == phone_index(PHONE)))
    db.session.commit()


def baseline(app, count: int) -> float:
    with app.app_context():
        gateway = OutboxGateway()
        start = time.perf_counter()
        for _n in range(count):
            gateway.send(PHONE, "filing_expiring", {}, text="【备案即将到期】基准")
            db.session.commit()
        elapsed = time.perf_counter() - start
        _cleanup()
    return count / elapsed


def workers(app, count: int, n: int) -> float:
    with app.app_context():
        account = _account()
        for _i in range(count):
            notify(account, Event.FILING_EXPIRING, CONTEXT, channels=(Channel.SMS,))
        db.session.commit()

    def work():
        with app.app_context():
            deliver_due(count)

    threads = [threading.Thread(target=work) for _ in range(n)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    with app.app_context():
        sent = db.session.execute(select(SmsMessage.id).where(SmsMessage.phone_index == phone_index(PHONE))).all()
        assert len(sent) == count, f"{len(sent)} text messages for {count} deliveries"
        _cleanup()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("PORTAL_BENCH_DATABASE_URL"))
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-notify-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": tmp})
    import_all_models()
    with app.app_context():
        Base.metadata.create_all(db.engine)  # a no-op on a migrated database
    counts = [int(n) for n in args.workers.split(",")] if url.startswith("postgresql") else [1]
    base = statistics.median(baseline(app, args.messages) for _ in range(args.runs))
    print(f"database: {db.engine.dialect.name}; {args.messages} messages, median of {args.runs} runs")
    print(f"baseline (gateway insert + commit, no outbox): {base:8.0f} messages/s")
    for n in counts:
        rate = statistics.median(workers(app, args.messages, n) for _ in range(args.runs))
        print(f"outbox, {n} worker(s):                         {rate:8.0f} messages/s  ratio {rate / base:.2f}")


if __name__ == "__main__":
    main()
