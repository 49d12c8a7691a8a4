"""A worker killed between the gateway's acceptance and its own commit: no text message goes out twice.

A real ``portal notify work`` process sends through a local server speaking the provider's protocol; the server
accepts the N-th message and holds its answer; the test SIGKILLs the worker there, lets the lease run out and
starts a new worker. The server's log of accepted messages (with the business id each came with) is the proof.
These tests commit for real (the worker processes must see the rows) on the suite's database, SQLite or
PostgreSQL, and remove what they wrote afterwards (the audit rows included).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import delete, select

from portal.accounts.models import Account
from portal.core import crypto
from portal.core.audit import AuditEvent
from portal.core.db import db
from portal.notifications.constants import Channel, Event, Status
from portal.notifications.models import Delivery, DeliveryAttempt, Notification
from portal.notifications.operations import notify
from portal.notifications.worker import deliver_due
from tests.integrations.sms_servers import KEY_ID, KEY_SECRET, LocalAliyun, LocalTencent

pytestmark = [pytest.mark.no_db]
CONTEXT = {"destination": "海南省", "expires_on": "2026-12-31"}
PHONE = "13700008888"
COUNT = 5
LEASE = 2


@pytest.fixture
def queued(app):
    """``COUNT`` text messages queued to one citizen and committed; their delivery ids. All removed afterwards."""
    previous = crypto._keyring
    crypto.install_keyring(app.config["PORTAL_KEYS"])  # the worker processes read the same instance keys
    with app.app_context():
        account = Account(kind="citizen", login_key=f"citizen:test-crash-{time.time_ns()}", display_name="")
        account.set_phone(PHONE)
        db.session.add(account)
        db.session.flush()
        for _n in range(COUNT):
            notify(account, Event.FILING_EXPIRING, CONTEXT, channels=(Channel.SMS,))
        db.session.commit()
        account_id = account.id
        ids = list(db.session.execute(select(Delivery.id).join(Notification).where(
            Notification.account_id == account_id).order_by(Delivery.id)).scalars())
    yield ids
    with app.app_context():
        # a person's settling of a delivery is audited (not yet sealed): the log is left as it was found, so the
        # audit tests' chain of their own rows holds whatever ran before them
        db.session.execute(delete(AuditEvent).where(AuditEvent.object_type == "notification_delivery",
                                                    AuditEvent.object_id.in_([str(i) for i in ids])))
        db.session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
        db.session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
        db.session.execute(delete(Notification).where(Notification.account_id == account_id))
        db.session.execute(delete(Account).where(Account.id == account_id))
        db.session.commit()
    crypto._keyring = previous


def _env(app, backend: str, url: str) -> dict[str, str]:
    templates = {"filing_expiring": "SMS_300", "otp_login": "SMS_100", "otp_lookup": "SMS_200",
                 "binding_active": "SMS_5", "binding_pending": "SMS_6"}
    return {**os.environ, "PORTAL_ENV": "testing", "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "PORTAL_INSTANCE_PATH": app.instance_path, "PORTAL_SMS_BACKEND": backend, "PORTAL_SMS_KEY_ID": KEY_ID,
            "PORTAL_SMS_KEY_SECRET": KEY_SECRET, "PORTAL_SMS_SIGN_NAME": "吉林医保", "PORTAL_SMS_APP_ID": "1400123456",
            "PORTAL_SMS_ENDPOINT": url, "PORTAL_SMS_TEMPLATES": json.dumps(templates),
            "PORTAL_SMS_TIMEOUT_SECONDS": "60", "PORTAL_NOTIFY_LEASE_SECONDS": str(LEASE)}


def _portal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "portal", *args]  # our own CLI, with the test's own arguments
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert result.returncode == 0, result.stderr
    return result


def _kill_during_the_nth_send(env: dict[str, str], server, n: int) -> None:
    """Start a worker, wait until the server holds the answer to the ``n``-th message, SIGKILL the worker."""
    server.block_at = n
    worker = subprocess.Popen([sys.executable, "-m", "portal", "notify", "work", "--poll", "0.2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        reached = server.blocked.wait(timeout=90)
    finally:
        worker.send_signal(signal.SIGKILL)
        _out, err = worker.communicate(timeout=30)
    assert reached, f"the worker never reached the held message: {err}"
    assert worker.returncode == -signal.SIGKILL


def _states(app, ids: list[int]) -> dict[int, tuple[str, list[tuple[str, str]]]]:
    with app.app_context():
        out = {}
        for delivery in db.session.execute(select(Delivery).where(Delivery.id.in_(ids))).scalars():
            attempts = db.session.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
                                          .order_by(DeliveryAttempt.id)).scalars()
            out[delivery.id] = (delivery.status, [(a.kind, a.result) for a in attempts])
        db.session.rollback()
        return out


def test_a_worker_killed_after_aliyun_accepted_a_message_is_not_followed_by_a_second_copy(app, queued):
    with LocalAliyun() as server:
        env = _env(app, "aliyun", server.url)
        _kill_during_the_nth_send(env, server, 3)
        held = f"delivery-{queued[2]}"
        states = _states(app, queued)
        assert states[queued[2]] == (Status.SENDING.value, [("send", "started")])  # the intent was committed
        assert [states[i][0] for i in queued[:2]] == [Status.SENT.value] * 2
        assert [states[i][0] for i in queued[3:]] == [Status.PENDING.value] * 2

        time.sleep(LEASE + 0.5)  # the dead worker's lease runs out
        out = _portal(env, "notify", "work", "--once").stdout
        assert out.startswith("sent 3,"), out  # the held one confirmed sent, the last two sent

        sends = Counter(m["business_id"] for m in server.accepted)
        assert sends == Counter({f"delivery-{i}": 1 for i in queued})  # each message accepted exactly once
        send_calls = [r for r in server.requests if r["action"] == "SendSms"]
        assert len(send_calls) == COUNT  # and not even asked twice
        query = [r["params"] for r in server.requests if r["action"] == "QuerySendDetails"]
        assert query and query[0]["PhoneNumber"] == PHONE
    states = _states(app, queued)
    assert {state for state, _attempts in states.values()} == {Status.SENT.value}
    assert states[queued[2]][1] == [("send", "unknown"), ("check", "found")]
    assert held in sends and states[queued[0]][1] == [("send", "sent")]


def test_a_lost_tencent_send_waits_for_a_person_instead_of_going_out_twice(app, queued):
    with LocalTencent() as server:
        env = _env(app, "tencent", server.url)
        _kill_during_the_nth_send(env, server, 2)
        time.sleep(LEASE + 0.5)
        out = _portal(env, "notify", "work", "--once").stdout
        assert out.startswith("sent 3,") and out.rstrip().endswith("unconfirmed 1"), out
        sends = Counter(m["business_id"] for m in server.accepted)
        assert sends == Counter({f"delivery-{i}": 1 for i in queued})
        assert all(m["phone"] == f"+86{PHONE}" for m in server.accepted)

        states = _states(app, queued)
        assert states[queued[1]] == (Status.UNCONFIRMED.value, [("send", "unknown"), ("check", "unknown")])
        cli = app.test_cli_runner()
        listed = cli.invoke(args=["portal", "notify", "unconfirmed"]).output
        assert f"delivery-{queued[1]}" in listed and f"delivery-{queued[0]}" not in listed

        # the person finds the message in the provider's console (by its SessionContext) and settles it as sent
        settled = cli.invoke(args=["portal", "notify", "settle", str(queued[1]), "sent", "--by", "ops-wang",
                                   "--note", "seen"])
        assert settled.exit_code == 0 and "sent" in settled.output, settled.output
        again = cli.invoke(args=["portal", "notify", "settle", str(queued[1]), "resend", "--by", "ops-wang"])
        assert again.exit_code != 0 and "not unconfirmed" in again.output  # settled once, not twice
        with app.app_context():
            assert deliver_due().handled == 0  # nothing left to send
        assert len(server.accepted) == COUNT
    states = _states(app, queued)
    assert states[queued[1]] == (Status.SENT.value, [("send", "unknown"), ("check", "unknown"),
                                                     ("settle", "settled")])


def test_a_read_timeout_is_confirmed_before_the_retry(app, queued):
    """No answer in time (the provider did take the message): the next try asks QuerySendDetails first."""
    with LocalAliyun() as server:
        env = {**_env(app, "aliyun", server.url), "PORTAL_SMS_TIMEOUT_SECONDS": "1",
               "PORTAL_NOTIFY_BACKOFF_SECONDS": "0"}
        server.block_at = 1
        first = _portal(env, "notify", "work", "--once", "--batch", "1").stdout
        assert first.startswith("sent 0, to retry 1"), first
        server.release.set()
        _portal(env, "notify", "work", "--once")
        sends = Counter(m["business_id"] for m in server.accepted)
        assert sends == Counter({f"delivery-{i}": 1 for i in queued})
    states = _states(app, queued)
    assert states[queued[0]] == (Status.SENT.value, [("send", "unknown"), ("check", "found")])
