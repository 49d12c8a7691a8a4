"""The channels a notification travels by, behind one interface.

``send`` returns what the provider answered (a :class:`~portal.integrations.sms.Receipt`, or ``None`` when
there is no provider) or raises :class:`DeliveryFailed` when the channel refused; ``permanent`` says whether a
retry could help (a user who never subscribed will not have subscribed a minute later; a busy gateway may be
free then), ``uncertain`` that the message may have gone out all the same (no answer). Any other exception is
treated as a temporary, uncertain failure by the worker. ``confirm`` tells the worker what became of a send
whose outcome it lost (see worker.py). ``reachable`` says whether the account can be reached at all, so no
delivery row is written for a channel that could never carry the message.

- SMS: the gateway of :mod:`portal.integrations.sms` (the development outbox, Alibaba Cloud or Tencent Cloud).
- WeChat: subscribe messages (``subscribeMessage.send``) through the WeChat port, shaped by :mod:`.wechat`; each
  needs a consent grant.
- Inbox: the notification row itself; it is delivered when the change commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select, update

from ..core.db import db
from ..integrations import sms
from ..integrations.sms import Confirmation, Found, Receipt
from ..integrations.wechat import WeChatError, get_wechat
from . import wechat
from .constants import Channel, Event
from .messages import Rendered
from .models import Notification, WeChatSubscription


class DeliveryFailed(Exception):
    """The channel did not carry the message. ``reason`` is short, without personal data (it is stored)."""

    def __init__(self, reason: str, *, permanent: bool = False, uncertain: bool = False,
                 provider_code: str | None = None, request_id: str | None = None):
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent
        self.uncertain = uncertain
        self.provider_code = provider_code
        self.request_id = request_id


class NotificationChannel(Protocol):
    name: Channel

    def reachable(self, account: Any, event: Event) -> bool: ...

    def send(self, notification: Notification, message: Rendered, *, business_id: str) -> Receipt | None: ...

    def confirm(self, notification: Notification, business_id: str, *, since: datetime) -> Confirmation: ...


class InboxChannel:
    name = Channel.INBOX

    def reachable(self, account: Any, event: Event) -> bool:
        return True

    def send(self, notification: Notification, message: Rendered, *, business_id: str) -> Receipt | None:
        """Nothing to carry: the row is the inbox entry, visible once committed."""
        return None

    def confirm(self, notification: Notification, business_id: str, *, since: datetime) -> Confirmation:
        return Confirmation(Found.NOT_SENT)  # sending it "again" shows nobody anything twice


class SmsChannel:
    name = Channel.SMS

    def reachable(self, account: Any, event: Event) -> bool:
        """The account has a mobile number, and the operator sends ``event`` by SMS (``sms.sends``)."""
        return bool(getattr(account, "phone", None)) and sms.sends(event.value)

    def send(self, notification: Notification, message: Rendered, *, business_id: str) -> Receipt | None:
        phone = notification.account.phone
        if not phone:
            raise DeliveryFailed("the account has no mobile number", permanent=True)
        try:
            return sms.get_gateway().send(phone, notification.event, dict(message.params), business_id=business_id,
                                          text=message.sms)
        except sms.SmsError as error:
            raise DeliveryFailed(f"SMS gateway refused: {error.provider_code or error.reason}",
                                 permanent=error.permanent, uncertain=error.uncertain,
                                 provider_code=error.provider_code, request_id=error.request_id) from None

    def confirm(self, notification: Notification, business_id: str, *, since: datetime) -> Confirmation:
        phone = notification.account.phone
        if not phone:
            return Confirmation(Found.NOT_SENT)
        try:
            return sms.get_gateway().confirm(phone, business_id, since=since)
        except sms.SmsError as error:
            raise DeliveryFailed(f"SMS gateway could not be asked: {error.provider_code or error.reason}",
                                 uncertain=True, provider_code=error.provider_code) from None


class WeChatChannel:
    """A one-time subscribe message; reachable only while the user has an unused consent for the event."""

    name = Channel.WECHAT

    def _subscription(self, account_id: int, event: str) -> WeChatSubscription | None:
        return db.session.execute(select(WeChatSubscription).where(
            WeChatSubscription.account_id == account_id, WeChatSubscription.event == event)).scalar_one_or_none()

    def reachable(self, account: Any, event: Event) -> bool:
        row = self._subscription(account.id, event.value)
        return row is not None and row.grants > 0

    def send(self, notification: Notification, message: Rendered, *, business_id: str) -> Receipt | None:
        row = self._subscription(notification.account_id, notification.event)
        if row is None or row.grants <= 0:
            raise DeliveryFailed("no unused subscription consent", permanent=True)
        template_id = wechat.template_id(notification.event)
        if not template_id:
            raise DeliveryFailed(f"no WeChat template configured for {notification.event}", permanent=True)
        try:
            get_wechat(current_app._get_current_object()).send_subscribe(
                row.openid, template_id, wechat.page_for(notification), wechat.data_for(notification, message))
        except WeChatError as error:
            raise DeliveryFailed(f"WeChat errcode {error.errcode}: {error.meaning}",
                                 permanent=error.permanent) from None
        # a one-time consent is used up by the message it allowed: taken off by the database, so a consent given
        # meanwhile still counts
        db.session.execute(update(WeChatSubscription).where(WeChatSubscription.id == row.id,
                                                            WeChatSubscription.grants > 0)
                           .values(grants=WeChatSubscription.grants - 1),
                           execution_options={"synchronize_session": False})
        db.session.expire(row, ["grants"])
        return Receipt("wechat")

    def confirm(self, notification: Notification, business_id: str, *, since: datetime) -> Confirmation:
        """``subscribeMessage.send`` takes no id of ours and WeChat offers no query of what it sent: a lost send is
        left for a person to settle."""
        return Confirmation(Found.UNKNOWN)


CHANNELS: dict[Channel, NotificationChannel] = {
    Channel.INBOX: InboxChannel(),
    Channel.SMS: SmsChannel(),
    Channel.WECHAT: WeChatChannel(),
}


def channel(name: str) -> NotificationChannel:
    return CHANNELS[Channel(name)]
