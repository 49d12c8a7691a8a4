"""The mini-program's WeChat login: a wx.login code logs a bound openid in, a new one gets a bind ticket.

Same rules as the pages: a flush, never a commit; the audit row of each step; the binding rules of ``binding``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..core import clock
from ..core.audit import Actor, actor_of, record
from ..core.crypto import blind_index, sha256_hex
from ..core.db import db
from ..core.errors import AuthenticationFailed, ValidationFailed
from ..core.validators import normalize_id_number
from ..integrations.wechat import get_wechat
from . import binding as binding_ops
from .models import Account, WeChatIdentity
from .operations import CodeLogin, _normalised, login_with_code, throttle

WECHAT_TICKET_TTL = timedelta(minutes=30)

@dataclass(frozen=True)
class WeChatBinding:
    phone: str
    code: str
    name: str
    id_number: str


@dataclass(frozen=True)
class WeChatLogin:
    """The outcome of ``login_wechat``: an account when the openid is bound, else a bind ticket."""

    account: Account | None
    bind_ticket: str | None





def login_wechat(code: str, *, actor: Actor, client_ip: str) -> WeChatLogin:
    """Exchange a wx.login ``code`` (code2session). A bound openid logs its account in; a new one gets a
    short-lived bind ticket for ``bind_wechat``. WeChat's refusals surface as WeChatError (a DomainError).
    """
    throttle("PORTAL_LIMIT_WECHAT_IP", client_ip)
    wx_session = get_wechat(current_app).code2session(code)
    index = blind_index(wx_session.openid, "wechat_openid")
    identity = db.session.execute(
        select(WeChatIdentity).where(WeChatIdentity.openid_index == index)
    ).scalar_one_or_none()
    if identity is None:
        identity = WeChatIdentity(openid_index=index, created_at=clock.now())
        db.session.add(identity)
    if identity.account is not None and identity.account.is_active:
        identity.bind_ticket_hash = None
        db.session.flush()
        record("login.ok", actor=actor_of(identity.account), object_type="account", object_id=identity.account.id,
               detail={"method": "wechat"})
        return WeChatLogin(identity.account, None)
    ticket = secrets.token_urlsafe(32)
    identity.bind_ticket_hash = sha256_hex(ticket)
    identity.bind_ticket_expires_at = clock.now() + WECHAT_TICKET_TTL
    db.session.flush()
    record("wechat.bind_needed", actor=actor, object_type="wechat_identity", object_id=identity.id)
    return WeChatLogin(None, ticket)


def bind_wechat(ticket: str, data: WeChatBinding, *, actor: Actor, client_ip: str) -> Account:
    """Bind a new openid to a citizen: SMS code for the phone, then the real-name check (unless the account
    is already bound, in which case the name and 身份证 must be that person's).
    """
    identity = db.session.execute(
        select(WeChatIdentity).where(WeChatIdentity.bind_ticket_hash == sha256_hex(ticket or ""))
    ).scalar_one_or_none()
    if identity is None or identity.bind_ticket_expires_at is None or clock.now() >= identity.bind_ticket_expires_at:
        raise AuthenticationFailed(_("The WeChat login has expired. Please start again."), code="bind_ticket_invalid")
    account = login_with_code(CodeLogin(code=data.code, phone=data.phone), actor=actor, client_ip=client_ip)
    if account.person is None:
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(data.name, data.id_number),
                                   actor=actor_of(account), client_ip=client_ip)
    else:
        id_number = _normalised("id_number", normalize_id_number, data.id_number)
        if account.person.id_number != id_number or account.person.name != " ".join(data.name.split()):
            record("bind.failed", actor=actor_of(account), object_type="account", object_id=account.id,
                   result="failed", detail={"method": "wechat"})
            raise ValidationFailed([(None, _("The name and ID card number do not match this account's person."))])
    identity.account = account
    identity.account_id = account.id
    identity.bind_ticket_hash = None
    identity.bound_at = clock.now()
    db.session.flush()
    record("wechat.bound", actor=actor_of(account), object_type="wechat_identity", object_id=identity.id)
    return account


