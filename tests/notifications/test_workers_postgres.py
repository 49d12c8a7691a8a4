"""Several workers on PostgreSQL: each message is delivered exactly once (``FOR UPDATE SKIP LOCKED``).

These tests commit for real (other connections and processes must see the rows), so they run outside the
per-test transaction and remove what they wrote afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import delete, func, select

from portal.accounts.models import Account, SmsMessage
from portal.core import crypto
from portal.core.db import db
from portal.insurance.models import phone_index
from portal.notifications import channels as channel_registry
from portal.notifications.constants import Channel, Event, Status
from portal.notifications.models import Delivery, Notification
from portal.notifications.operations import notify
from portal.notifications.worker import deliver_due

URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
pytestmark = [pytest.mark.postgres, pytest.mark.no_db,
              pytest.mark.skipif(not URL.startswith("postgresql"), reason="needs PORTAL_TEST_DATABASE_URL=postgresql…")]
CONTEXT = {"destination": "海南省", "expires_on": "2026-12-31"}


@pytest.fixture
def app_keys(app):
    """The field keys of the session's app, installed for this test: other tests build apps of their own, and the
    keyring is one per process, so the worker processes (which read the app's instance folder) see the same keys."""
    previous = crypto._keyring
    crypto.install_keyring(app.config["PORTAL_KEYS"])
    yield
    crypto._keyring = previous


@pytest.fixture
def recipient(app, app_keys):
    """A citizen with a phone, and ``count`` messages queued to them, committed; all removed afterwards."""
    phone = "13700009999"
    made: dict = {}

    def _queue(count: int, channels: tuple[Channel, ...]) -> Account:
        with app.app_context():
            account = Account(kind="citizen", login_key=f"citizen:test-workers-{time.time_ns()}", display_name="")
            account.set_phone(phone)
            db.session.add(account)
            db.session.flush()
            for _n in range(count):
                notify(account, Event.FILING_EXPIRING, CONTEXT, channels=channels)
            db.session.commit()
            made["id"] = account.id
            return account

    yield _queue
    with app.app_context():
        ids = select(Notification.id).where(Notification.account_id == made.get("id"))
        db.session.execute(delete(Delivery).where(Delivery.notification_id.in_(ids)))
        db.session.execute(delete(Notification).where(Notification.account_id == made.get("id")))
        db.session.execute(delete(SmsMessage).where(SmsMessage.phone_index == phone_index(phone)))
        db.session.execute(delete(Account).where(Account.id == made.get("id")))
        db.session.commit()


def test_worker_processes_running_at_once_send_each_text_message_once(app, recipient):
    count = 400
    recipient(count, (Channel.SMS,))
    env = {**os.environ, "PORTAL_DATABASE_URL": URL, "PORTAL_INSTANCE_PATH": app.instance_path,
           "PORTAL_ENV": "testing"}
    workers = [subprocess.Popen([sys.executable, "-m", "portal", "notify", "work", "--once", "--batch", "10000"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    sent = [int(out.split()[1].rstrip(",")) for out, _err in outputs]  # "sent N, to retry 0, failed 0"
    assert sum(sent) == count, outputs
    with app.app_context():
        texts = db.session.execute(select(func.count()).select_from(SmsMessage).where(
            SmsMessage.phone_index == phone_index("13700009999"))).scalar_one()
        states = dict(db.session.execute(select(Delivery.status, func.count()).join(Notification).where(
            Notification.account_id == select(Account.id).where(Account.phone_index == phone_index("13700009999"))
            .scalar_subquery()).group_by(Delivery.status)).all())
        attempts = db.session.execute(select(func.max(Delivery.attempts)).join(Notification).where(
            Delivery.channel == "sms", Notification.event == "filing_expiring")).scalar_one()
    assert texts == count  # one text message per delivery: none twice, none lost
    assert states == {Status.SENT.value: count}
    assert attempts == 1


class SlowChannel:
    """Takes 5 ms a message and notes which worker carried which delivery."""

    name = Channel.SMS

    def __init__(self):
        self.carried: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def reachable(self, account, event):
        return True

    def send(self, notification, message, *, business_id):
        time.sleep(0.005)
        with self.lock:
            self.carried.append((notification.id, threading.current_thread().name))

    def confirm(self, notification, business_id, *, since):
        raise AssertionError("no send was lost, so none needs confirming")


def test_worker_threads_on_their_own_connections_never_carry_one_message_twice(app, recipient, monkeypatch):
    count = 200
    recipient(count, (Channel.SMS,))
    slow = SlowChannel()
    monkeypatch.setitem(channel_registry.CHANNELS, Channel.SMS, slow)
    errors: list[BaseException] = []

    def work():
        try:
            with app.app_context():  # its own session, hence its own connection
                deliver_due(10_000)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, name=f"worker-{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    ids = Counter(nid for nid, _who in slow.carried)
    assert len(ids) == count and max(ids.values()) == 1  # every message once, none twice
    by_worker = Counter(who for _nid, who in slow.carried)
    assert len(by_worker) >= 2, by_worker  # they really worked side by side
