"""Writing notifications (in the caller's transaction) and reading the inbox.

``notify(account, event, context)`` is the one entry point for every feature: it writes the notification and
one pending delivery per channel that can reach the account, flushes, and never commits. A change that
announces itself calls it inside its own transaction, so both commit together or neither does. Case moves
announce themselves through ``portal.applications.signals.case_moved`` (see ``receivers``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import bindparam, case, func, select, update

from ..core import clock
from ..core.audit import Actor, record
from ..core.crypto import blind_index
from ..core.db import db
from ..core.errors import NotFound, PermissionDenied, ValidationFailed
from ..core.translation import gettext as _
from .channels import CHANNELS
from .constants import Channel, Event, Status
from .messages import TEMPLATES
from .models import Delivery, DeliveryAttempt, Notification, WeChatSubscription


def notify(account: Any, event: Event | str, context: dict[str, Any], *, application_id: int | None = None,
           dedupe_key: str | None = None, channels: tuple[Channel, ...] | None = None) -> Notification | None:
    """Queue ``event`` for ``account`` with ``context`` (the template's fields, see messages.py).

    Raises ``ValueError`` when the context lacks a field of the event's template: a message that cannot be
    rendered is refused when written, not found out by the worker. With ``dedupe_key`` a second call with the
    same key writes nothing and returns None (reminders). ``channels`` limits the channels tried (default:
    all that can reach the account; the inbox always can).
    """
    event = Event(event)
    missing = [f for f in TEMPLATES[event].fields if f not in context]
    if missing:
        raise ValueError(f"notification {event.value} lacks {', '.join(missing)}")
    if dedupe_key is not None and db.session.execute(
            select(Notification.id).where(Notification.dedupe_key == dedupe_key)).first() is not None:
        return None
    now = clock.now()
    notification = Notification(account_id=account.id, account=account, application_id=application_id,
                                event=event.value, dedupe_key=dedupe_key, created_at=now)
    notification.context = context
    for name in channels or tuple(Channel):
        if not CHANNELS[name].reachable(account, event):
            continue
        delivery = Delivery(channel=name.value, created_at=now, next_attempt_at=now, status=Status.PENDING.value)
        if name is Channel.INBOX:  # the inbox entry is the row itself: delivered when this transaction commits
            delivery.status, delivery.sent_at = Status.SENT.value, now
        notification.deliveries.append(delivery)
    db.session.add(notification)
    db.session.flush()
    forget_unread_count()
    return notification


# --- the inbox ---------------------------------------------------------------------------------------


_UNREAD = select(func.count()).select_from(Notification).where(  # built once
    Notification.account_id == bindparam("account_id"), Notification.read_at.is_(None))
UNREAD_KEY = "unread_count"  # on ``g``: (account id, count), counted with the browser session's own row (auth.py)


def unread_count(account: Any) -> int:
    """How many of the account's messages are unread: the header of every page shows it. A browser's session is
    read with the count of its account's (accounts/auth.py), kept for the request until a message of this request
    is written or read (``forget_unread_count``); otherwise it is counted."""
    if not getattr(account, "is_authenticated", False):
        return 0
    known = g.get(UNREAD_KEY) if has_app_context() else None
    if known is not None and known[0] == account.id:
        return known[1]
    return db.session.execute(_UNREAD, {"account_id": account.id}).scalar_one()


def forget_unread_count() -> None:
    if has_app_context():
        g.pop(UNREAD_KEY, None)


def inbox(account: Any, *, page: int = 1, per_page: int = 20) -> tuple[list[Notification], int]:
    """One page of the account's messages, newest first, and how many there are."""
    where = Notification.account_id == account.id
    total = db.session.execute(select(func.count()).select_from(Notification).where(where)).scalar_one()
    rows = db.session.execute(select(Notification).where(where).order_by(Notification.id.desc())
                              .limit(per_page).offset((max(page, 1) - 1) * per_page)).scalars().all()
    return list(rows), total


def case_messages(case: Any) -> list[Notification]:
    """The messages sent to the applicant about ``case``, oldest first, with their deliveries."""
    return list(db.session.execute(select(Notification).where(
        Notification.application_id == case.id, Notification.account_id == case.applicant_id)
        .order_by(Notification.id)).scalars())


def mark_read(notification_id: int, *, by: Any) -> Notification:
    """Mark one of ``by``'s messages read; someone else's answers NotFound (S6)."""
    row = db.session.get(Notification, notification_id) if 0 < notification_id < 2**31 else None
    if row is None or row.account_id != getattr(by, "id", None):
        raise NotFound(_("No such message."))
    if row.read_at is None:
        row.read_at = clock.now()
        db.session.flush()
        forget_unread_count()
    return row


def mark_all_read(*, by: Any) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.account_id == by.id, Notification.read_at.is_(None)).values(read_at=clock.now()))
    forget_unread_count()
    return result.rowcount or 0


# --- WeChat subscribe consent ---------------------------------------------------------------------------


MAX_GRANTS = 50


def record_subscriptions(account: Any, openid: str, accepted: list[str], *, actor: Actor) -> dict[str, int]:
    """The mini-program reports which subscribe messages the user accepted (wx.requestSubscribeMessage): each
    acceptance allows one message of that event. ``openid`` must be the one bound to ``account``."""
    from ..accounts.models import WeChatIdentity

    index = blind_index(openid, "wechat_openid")
    identity = db.session.execute(select(WeChatIdentity).where(WeChatIdentity.openid_index == index)).scalar()
    if identity is None or identity.account_id != account.id:
        raise PermissionDenied(_("This WeChat user is not bound to your account."))
    unknown = [e for e in accepted if e not in {x.value for x in Event}]
    if unknown or not accepted:
        raise ValidationFailed([("accepted", _("Name the messages accepted, among: %(events)s.",
                                              events=", ".join(e.value for e in Event)))])
    now = clock.now()
    out: dict[str, int] = {}
    table = WeChatSubscription
    for event in sorted(set(accepted)):
        # one statement: a consent and a message sent at the same moment each count (neither writes back a stale
        # number), and two first consents cannot both insert the row. WeChat keeps at most a few dozen.
        insert = db.upsert(table).values(account_id=account.id, event=event, openid=openid, openid_index=index,
                                      grants=1, updated_at=now)
        out[event] = db.session.execute(insert.on_conflict_do_update(
            index_elements=["account_id", "event"],
            set_={"openid": insert.excluded.openid, "openid_index": index, "updated_at": now,
                  "grants": case((table.grants >= MAX_GRANTS, MAX_GRANTS), else_=table.grants + 1)},
        ).returning(table.grants)).scalar_one()
    db.session.flush()
    record("notifications.wechat_subscribe", actor=actor, object_type="account", object_id=account.id,
           detail={"events": sorted(out)})
    return out


SETTLEMENTS = ("sent", "failed", "resend")


def settle_delivery(delivery_id: int, decision: str, *, note: str, actor: Actor) -> Delivery:
    """A person's decision on an ``unconfirmed`` delivery, taken after looking the message up in the provider's
    console by its business id (``delivery-<id>``): it went out (``sent``), it did not and is not to be tried
    again (``failed``), or it did not and is sent again (``resend``). Recorded as an attempt and audited."""
    if decision not in SETTLEMENTS:
        raise ValidationFailed([("decision", f"choose one of {', '.join(SETTLEMENTS)}")])
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status != Status.UNCONFIRMED.value:
        raise ValidationFailed([("decision", f"delivery {delivery_id} is {delivery.status}, not unconfirmed")])
    now = clock.now()
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, kind="settle", channel=delivery.channel,
                                   result="settled", started_at=now, finished_at=now,
                                   worker=f"{actor.kind}:{actor.id or ''}"[:80], error=f"{decision}: {note}"[:200]))
    if decision == "sent":
        delivery.status, delivery.sent_at, delivery.last_error = Status.SENT.value, now, None
    elif decision == "failed":
        delivery.status, delivery.failed_at = Status.FAILED.value, now
        delivery.last_error = f"settled as not sent: {note}"[:200]
    else:
        delivery.status, delivery.next_attempt_at, delivery.last_error = Status.PENDING.value, now, None
    db.session.flush()
    record("notifications.delivery_settled", actor=actor, object_type="notification_delivery", object_id=delivery.id,
           detail={"decision": decision, "channel": delivery.channel})
    return delivery


def delivery_summary(notification: Notification) -> list[dict[str, Any]]:
    """Each channel's status as the case page shows it."""
    out = []
    for d in notification.deliveries:
        out.append({"channel": Channel(d.channel).label, "status": Status(d.status).label, "code": d.status,
                    "at": d.sent_at or d.failed_at, "retry_at": d.next_attempt_at if d.status == "pending" else None,
                    "attempts": d.attempts})
    return out


def stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
