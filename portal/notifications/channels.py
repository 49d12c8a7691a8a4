"""The channels a notification travels by, behind one interface.

``send`` raises :class:`DeliveryFailed` when the channel refused; ``permanent`` says whether a retry could help
(a user who never subscribed will not have subscribed a minute later; a busy gateway may be free then). Any other
exception is treated as a temporary failure by the worker. ``reachable`` says whether the account can be reached
at all, so no delivery row is written for a channel that could never carry the message.

- SMS: the gateway of ``portal.accounts.sms`` (the development outbox, or the real one in production).
- WeChat: subscribe messages (``subscribeMessage.send``) through the WeChat port, shaped by :mod:`.wechat`; each
  needs a consent grant.
- Inbox: the notification row itself; it is delivered when the change commits.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select

from ..core.db import db
from ..integrations.wechat import WeChatError, get_wechat
from . import wechat
from .constants import Channel, Event
from .messages import Rendered
from .models import Notification, WeChatSubscription


class DeliveryFailed(Exception):
    """The channel did not carry the message. ``reason`` is short, without personal data (it is stored)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent


class NotificationChannel(Protocol):
    name: Channel

    def reachable(self, account: Any, event: Event) -> bool: ...

    def send(self, notification: Notification, message: Rendered) -> None: ...


class InboxChannel:
    name = Channel.INBOX

    def reachable(self, account: Any, event: Event) -> bool:
        return True

    def send(self, notification: Notification, message: Rendered) -> None:
        """Nothing to carry: the row is the inbox entry, visible once committed."""


class SmsChannel:
    name = Channel.SMS

    def reachable(self, account: Any, event: Event) -> bool:
        return bool(getattr(account, "phone", None))

    def send(self, notification: Notification, message: Rendered) -> None:
        from ..accounts.sms import SmsError, get_gateway

        phone = notification.account.phone
        if not phone:
            raise DeliveryFailed("the account has no mobile number", permanent=True)
        try:
            get_gateway().send(phone, message.sms, kind="notice")
        except SmsError as error:
            raise DeliveryFailed(f"SMS gateway refused: {error.code}") from None


class WeChatChannel:
    """A one-time subscribe message; reachable only while the user has an unused consent for the event."""

    name = Channel.WECHAT

    def _subscription(self, account_id: int, event: str) -> WeChatSubscription | None:
        return db.session.execute(select(WeChatSubscription).where(
            WeChatSubscription.account_id == account_id, WeChatSubscription.event == event)).scalar_one_or_none()

    def reachable(self, account: Any, event: Event) -> bool:
        row = self._subscription(account.id, event.value)
        return row is not None and row.grants > 0

    def send(self, notification: Notification, message: Rendered) -> None:
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
        row.grants -= 1  # a one-time consent is used up by the message it allowed


CHANNELS: dict[Channel, NotificationChannel] = {
    Channel.INBOX: InboxChannel(),
    Channel.SMS: SmsChannel(),
    Channel.WECHAT: WeChatChannel(),
}


def channel(name: str) -> NotificationChannel:
    return CHANNELS[Channel(name)]
