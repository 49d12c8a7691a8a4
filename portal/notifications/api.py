"""``/api/v1/inbox`` (the mini-program's message box) and ``/api/v1/notifications/wechat-subscriptions`` (the user
accepted subscribe messages in the mini-program). Same operations as the pages."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from ..api import current_account, endpoint
from ..core.audit import actor_of
from ..core.db import db
from ..integrations.wechat import get_wechat
from . import operations
from .messages import render

TAGS = ("notifications",)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InboxQuery(_In):
    page: int = Field(default=1, ge=1, le=10_000)


class MessageOut(BaseModel):
    id: int
    event: str
    subject: str
    body: str
    created_at: datetime
    is_read: bool
    application_id: int | None


class InboxOut(BaseModel):
    messages: list[MessageOut]
    total: int
    unread: int


class ReadOut(BaseModel):
    unread: int


class SubscribeIn(_In):
    code: str = Field(min_length=1, max_length=128, description="A fresh code from wx.login(), to prove the openid")
    accepted: list[str] = Field(min_length=1, max_length=20,
                                description="Events whose subscribe message the user accepted (e.g. 'accepted')")


class SubscribeOut(BaseModel):
    grants: dict[str, int] = Field(description="Unused consents per event after this call")


def to_api(notification) -> MessageOut:
    message = render(notification.event, notification.context)
    return MessageOut(id=notification.id, event=notification.event, subject=message.subject, body=message.body,
                      created_at=notification.created_at, is_read=notification.read_at is not None,
                      application_id=notification.application_id)


@endpoint("/inbox", summary="My messages, newest first", tags=TAGS, query=InboxQuery, response=InboxOut)
def api_inbox(query: InboxQuery) -> InboxOut:
    account = current_account()
    rows, total = operations.inbox(account, page=query.page)
    return InboxOut(messages=[to_api(n) for n in rows], total=total, unread=operations.unread_count(account))


@endpoint("/inbox/<int:notification_id>/read", method="POST", summary="Mark a message read", tags=TAGS,
          response=ReadOut, errors=(404,))
def api_mark_read(notification_id: int) -> ReadOut:
    account = current_account()
    operations.mark_read(notification_id, by=account)
    db.session.commit()
    return ReadOut(unread=operations.unread_count(account))


@endpoint("/inbox/read-all", method="POST", summary="Mark every message read", tags=TAGS, response=ReadOut)
def api_mark_all_read() -> ReadOut:
    account = current_account()
    operations.mark_all_read(by=account)
    db.session.commit()
    return ReadOut(unread=0)


@endpoint("/notifications/wechat-subscriptions", method="POST", summary="Record accepted subscribe messages",
          tags=TAGS, body=SubscribeIn, response=SubscribeOut, errors=(403, 422, 502, 503))
def api_subscribe(body: SubscribeIn) -> SubscribeOut:
    account = current_account()
    session = get_wechat(current_app).code2session(body.code)
    try:
        grants = operations.record_subscriptions(account, session.openid, body.accepted, actor=actor_of(account))
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return SubscribeOut(grants=grants)
