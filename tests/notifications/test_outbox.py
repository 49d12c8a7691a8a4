"""The outbox: a case move and its message commit together or not at all; the worker delivers each pending
delivery once, retries a failing channel with growing waits, and marks it failed for the case page to show."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import SmsMessage
from portal.applications import operations as ops
from portal.applications.constants import State
from portal.applications.models import Application
from portal.core import clock
from portal.insurance.models import phone_index
from portal.integrations import sms
from portal.integrations.sms.outbox import OutboxGateway
from portal.notifications import receivers
from portal.notifications.constants import Channel, Event, Status
from portal.notifications.models import Delivery, Notification
from portal.notifications.worker import deliver_due

from .conftest import SYSTEM

MOMENT = datetime(2026, 9, 30, 10, 0)


def _messages(case) -> list[Notification]:
    return [n for n in _all() if n.application_id == case.id]


def _all() -> list[Notification]:
    from portal.core.db import db

    return list(db.session.execute(select(Notification).order_by(Notification.id)).scalars())


def _sms_to(db_session, phone: str) -> list[SmsMessage]:
    return list(db_session.execute(select(SmsMessage).where(SmsMessage.phone_index == phone_index(phone),
                                                            SmsMessage.kind == "notice")).scalars())


def test_a_move_and_its_message_commit_together_or_not_at_all(case_in, staff, citizen, db_session):
    with clock.frozen(MOMENT):
        case = case_in("submitted")
        db_session.commit()
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
        [message] = _messages(case)
        assert message.event == Event.ACCEPTED and message.account_id == citizen.id
        assert {d.channel: d.status for d in message.deliveries} == {"inbox": "sent", "sms": "pending"}

        db_session.rollback()  # the move is abandoned: its message goes with it
        assert db_session.get(Application, case.id).state == State.SUBMITTED
        assert _messages(case) == []

        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
        db_session.commit()
        assert db_session.get(Application, case.id).state == State.ACCEPTED
        assert [m.event for m in _messages(case)] == [Event.ACCEPTED]


def test_a_message_that_cannot_be_written_undoes_the_move(case_in, staff, db_session, monkeypatch):
    case = case_in("submitted")
    db_session.commit()

    def broken(*_a, **_kw):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(receivers, "notify", broken)
    with pytest.raises(RuntimeError):
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    db_session.rollback()
    assert db_session.get(Application, case.id).state == State.SUBMITTED
    assert db_session.get(Application, case.id).events[-1].action == "submit"


@pytest.mark.parametrize(("state", "variant", "event"), [
    ("accepted", "promise", Event.ACCEPTED),
    ("correction_requested", "promise", Event.CORRECTION_REQUESTED),
    ("not_accepted", "promise", Event.REFUSED),
    ("denied", "promise", Event.DENIED),
    ("approved", "promise", Event.APPROVED),
    ("completed", "money", Event.PAID),
    ("completed", "promise", Event.COMPLETED),
])
def test_each_announced_move_queues_its_message(case_in, state, variant, event):
    with clock.frozen(MOMENT):
        case = case_in(state, variant)
    assert _messages(case)[-1].event == event


def test_the_applicants_own_moves_are_not_announced(case_in):
    case = case_in("submitted")
    ops.withdraw_application(case, by=case.applicant, actor=SYSTEM)
    assert _messages(case) == []


def test_a_certificate_item_announces_the_certificate(make_case, citizen):
    case = make_case("G002036003001_01", citizen)  # 职工开具参保凭证: completes on submission
    assert case.state == State.COMPLETED
    assert [m.event for m in _messages(case)] == [Event.CERTIFICATE_READY]  # no "accepted" for the system's step


def test_the_worker_sends_each_text_message_once(case_in, citizen, db_session):
    with clock.frozen(MOMENT):
        case = case_in("accepted")
        tally = deliver_due()
        assert (tally.sent, tally.retried, tally.failed) == (1, 0, 0)
        assert deliver_due().handled == 0
    [text] = _sms_to(db_session, citizen.phone)
    assert case.number in text.body and text.body.startswith("【")
    delivery = next(d for d in _messages(case)[0].deliveries if d.channel == Channel.SMS)
    assert delivery.status == Status.SENT and delivery.attempts == 1 and delivery.sent_at is not None


class BrokenGateway(OutboxGateway):
    """Writes to the outbox, then refuses: the worker's savepoint must undo the half-sent message."""

    def send(self, phone, template, params, *, business_id=None, text=""):
        super().send(phone, template, params, business_id=business_id, text=text)
        raise sms.SmsError("gateway down", provider_code="isp.SYSTEM_ERROR")


@pytest.fixture
def broken_sms(app, monkeypatch):
    monkeypatch.setitem(sms.BACKENDS, "broken", lambda _settings: BrokenGateway())
    monkeypatch.setitem(app.config, "PORTAL_SMS_BACKEND", "broken")
    monkeypatch.setitem(app.config, "PORTAL_NOTIFY_MAX_ATTEMPTS", 4)
    monkeypatch.setitem(app.config, "PORTAL_NOTIFY_BACKOFF_SECONDS", 30)


def test_a_failing_channel_retries_with_growing_waits_then_fails_visibly(case_in, citizen, db_session, broken_sms,
                                                                         make_client, app):
    with clock.frozen(MOMENT) as frozen:
        case = case_in("accepted")
        delivery = next(d for d in _messages(case)[0].deliveries if d.channel == Channel.SMS)
        waits = []
        for attempt in range(1, 4):
            assert deliver_due().retried == 1
            assert delivery.status == Status.PENDING and delivery.attempts == attempt
            assert "SMS gateway refused" in delivery.last_error
            wait = (delivery.next_attempt_at - clock.now()).total_seconds()
            waits.append(wait)
            assert deliver_due().handled == 0  # not due again before its wait is over
            frozen.tick(timedelta(seconds=wait + 1))
        assert 30 <= waits[0] <= 33 and 60 <= waits[1] <= 66 and 120 <= waits[2] <= 132
        assert deliver_due().failed == 1
        assert delivery.status == Status.FAILED and delivery.attempts == 4 and delivery.failed_at is not None
        assert deliver_due().handled == 0
    assert _sms_to(db_session, citizen.phone) == []  # what the gateway half-wrote was rolled back each time


def test_the_case_page_shows_each_delivery_status(case_in, citizen, db_session, broken_sms, client, citizen_login,
                                                  app, monkeypatch):
    from portal.extensions import limiter

    app.config["PORTAL_NOTIFY_MAX_ATTEMPTS"] = 1
    case = case_in("accepted")
    deliver_due()
    db_session.commit()
    app.config["PORTAL_SMS_BACKEND"] = "outbox"  # the login code must reach the outbox
    limiter.reset()  # the fixture's own login sent this phone a code a moment ago
    client.set_cookie("lang", "en")
    citizen_login(citizen.phone)
    page = client.get(f"/applications/{case.id}").get_data(as_text=True)
    assert "Messages sent to you" in page
    assert "Application accepted" in page
    assert "Message box: Sent" in page
    assert "Text message: Could not be sent" in page


def test_a_refusal_the_channel_calls_permanent_is_not_retried(case_in, citizen, db_session, app):
    from portal.core.crypto import blind_index
    from portal.notifications.models import WeChatSubscription

    db_session.add(WeChatSubscription(account_id=citizen.id, openid="fail-43101-x",
                                      openid_index=blind_index("fail-43101-x", "wechat_openid"),
                                      event=Event.ACCEPTED.value, grants=1))
    db_session.flush()
    case = case_in("accepted")
    wechat = next(d for d in _messages(case)[0].deliveries if d.channel == Channel.WECHAT)
    deliver_due()
    assert wechat.status == Status.FAILED and wechat.attempts == 1
    assert wechat.last_error.startswith("WeChat errcode 43101")


def test_delivery_rows_say_where_each_message_stands(case_in, db_session):
    case_in("accepted")
    counts = dict(db_session.execute(select(Delivery.channel, func.count()).group_by(Delivery.channel)).all())
    assert counts.get("inbox") and counts.get("sms")


def test_a_message_that_does_not_open_fails_alone_and_the_worker_goes_on(case_in, db_session):
    from sqlalchemy import text

    first = case_in("accepted")
    second = case_in("accepted")
    broken, fine = _messages(first)[0].id, _messages(second)[0].id
    db_session.execute(text("UPDATE notification SET context_json = 'f1:AAAA' WHERE id = :id"), {"id": broken})
    db_session.expire_all()
    tally = deliver_due()
    assert (tally.sent, tally.failed) == (1, 1)
    delivery = db_session.execute(select(Delivery).where(Delivery.notification_id == broken,
                                                         Delivery.channel == "sms")).scalar_one()
    assert delivery.status == Status.FAILED and "does not open" in delivery.last_error
    sms_of_fine = db_session.execute(select(Delivery).where(Delivery.notification_id == fine,
                                                            Delivery.channel == "sms")).scalar_one()
    assert sms_of_fine.status == Status.SENT
