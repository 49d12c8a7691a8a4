"""The mini-program's WeChat login.

- ``login_wechat``: a wx.login code logs a bound WeChat identity in; a new one gets a bind ticket for
  ``bind_wechat`` (SMS code + real-name binding), the fallback when the user declines to share their number.
- ``login_wechat_phone``: the way WeChat users expect: the ``getPhoneNumber`` code is exchanged server-side for the
  number WeChat verified, which proves the phone instead of an SMS code. Citizens and agents alike (of a unit or
  of a 定点医药机构, named as at the SMS login).

An identity is found by its unionid first (one person across the agency's mini-program and official account),
then by its openid; both are stored as blind indexes only. Same rules as the pages: a flush, never a commit; the
audit row of each step; the binding rules of ``binding``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..core import clock
from ..core.audit import Actor, actor_of, record
from ..core.crypto import blind_index, sha256_hex
from ..core.db import db
from ..core.errors import AuthenticationFailed, ValidationFailed
from ..core.masking import mask_phone
from ..core.translation import gettext as _
from ..core.validators import normalize_id_number, normalize_mobile
from ..integrations.wechat import WeChatSession, get_wechat
from ..organisations.models import OrgKind
from . import binding as binding_ops
from .models import Account, AccountKind, WeChatIdentity
from .operations import (
    CodeLogin,
    _normalised,
    active_agent,
    citizen_account,
    login_with_code,
    throttle,
)
from .organisation import organisation_named

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


@dataclass(frozen=True)
class WeChatPhoneLogin:
    login_code: str  # from wx.login(): proves the openid (and gives the unionid)
    phone_code: str  # from the getPhoneNumber button: the number WeChat verified
    kind: str = AccountKind.CITIZEN  # citizen | agent
    credit_code: str | None = None  # agents: the unit's 统一社会信用代码 (an institution's, or its 医保机构编码)
    org_kind: str = "unit"  # agents: unit | institution (a 定点医药机构), as the SMS login asks


def _identity_for(wx_session: WeChatSession) -> WeChatIdentity:
    """The WeChat identity of a session: by unionid first, then by openid; created when new. A known openid that
    now comes with a unionid keeps it, unless another identity already holds that unionid."""
    open_index = blind_index(wx_session.openid, "wechat_openid")
    union_index = blind_index(wx_session.unionid, "wechat_unionid") if wx_session.unionid else None
    by_union = db.session.execute(select(WeChatIdentity).where(
        WeChatIdentity.unionid_index == union_index)).scalar_one_or_none() if union_index else None
    by_open = db.session.execute(select(WeChatIdentity).where(
        WeChatIdentity.openid_index == open_index)).scalar_one_or_none()
    if by_open is None and by_union is not None:
        return by_union
    if by_open is None:
        by_open = WeChatIdentity(openid_index=open_index, unionid_index=union_index, created_at=clock.now())
        db.session.add(by_open)
        db.session.flush()
    elif union_index and by_open.unionid_index is None and by_union is None:
        by_open.unionid_index = union_index
        db.session.flush()
    return by_open


def login_wechat(code: str, *, actor: Actor, client_ip: str) -> WeChatLogin:
    """Exchange a wx.login ``code`` (code2session). A bound openid logs its account in; a new one gets a
    short-lived bind ticket for ``bind_wechat``. WeChat's refusals surface as WeChatError (a DomainError).
    """
    throttle("PORTAL_LIMIT_WECHAT_IP", client_ip)
    identity = _identity_for(get_wechat(current_app).code2session(code))
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




def login_wechat_phone(data: WeChatPhoneLogin, *, actor: Actor, client_ip: str) -> Account:
    """Log in with the number WeChat verified (``getPhoneNumber``), no SMS code. A citizen's WeChat identity is
    linked to the account of that number (created at the first login; real-name binding comes next, by the rules
    of ``binding``); an agent must be an active agent of the unit (or 定点医药机构) named by its code."""
    throttle("PORTAL_LIMIT_WECHAT_IP", client_ip)
    wechat = get_wechat(current_app)
    wx_session = wechat.code2session(data.login_code)
    verified = wechat.phone_number(data.phone_code)
    if verified.country_code not in ("86", ""):
        raise ValidationFailed([("phone_code", _("Only mainland China mobile numbers can log in here. Please log in "
                                                 "with an SMS code to a mainland number."))])
    phone = _normalised("phone_code", normalize_mobile, verified.pure)
    if data.kind == AccountKind.AGENT:
        account = active_agent(organisation_named(data.org_kind, data.credit_code), phone)
        if account is None:
            record("login.failed", actor=actor, result="failed",
                   detail={"method": "wechat_phone", "reason": "no agent"})
            raise AuthenticationFailed(
                _("This WeChat mobile number is not an agent of that institution. Ask the institution's first agent "
                  "to add you.") if data.org_kind == OrgKind.INSTITUTION else
                _("This WeChat mobile number is not an agent of that unit. Ask the unit's first agent to add you."),
                code="not_an_agent")
    elif data.kind == AccountKind.CITIZEN:
        account = citizen_account(phone, actor=actor)
        identity = _identity_for(wx_session)
        if identity.account_id != account.id:
            identity.account = account
            identity.account_id = account.id
            identity.bound_at = clock.now()
            record("wechat.bound", actor=actor_of(account), object_type="wechat_identity", object_id=identity.id,
                   detail={"method": "phone"})
        identity.bind_ticket_hash = None
    else:
        raise ValidationFailed([("kind", _("Choose whether you log in as a person or as a unit agent."))])
    account.last_login_at = clock.now()
    db.session.flush()
    record("login.ok", actor=actor_of(account), object_type="account", object_id=account.id,
           detail={"method": "wechat_phone", "phone": mask_phone(phone)})
    return account
