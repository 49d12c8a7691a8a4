"""``/api/v1/auth/...`` and ``/api/v1/me``: the mini-program's login, binding and logout.

Same operations as the pages. Tokens are returned once, in the body; the database keeps their SHA-256.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import current_app, request
from pydantic import BaseModel, ConfigDict, Field

from ..api import current_account, endpoint
from ..core.audit import Actor, actor_of, record
from ..core.db import db
from ..core.masking import mask_id_number, mask_name, mask_phone
from . import binding as binding_ops
from . import operations, wechat_login
from .models import Account, AccountKind
from .tokens import issue_token

TAGS = ("auth",)
# Formats the document states (the operations normalise and check the values themselves, in the user's language)
PHONE = {"pattern": "^1[3-9][0-9]{9}$"}
SMS_CODE = {"pattern": "^[0-9]{6}$"}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SmsCodeRequestIn(_In):
    phone: str = Field(max_length=32, description="Mainland mobile number", json_schema_extra=PHONE)
    kind: Literal["citizen", "agent"] = "citizen"
    credit_code: str | None = Field(default=None, max_length=40, description=(
        "Agents: the unit's credit code; an institution's credit code or its 12-character national code"))
    org_kind: Literal["unit", "institution"] = Field(default="unit", description=(
        "Agents: the kind of organisation they act for (a unit, or a designated medical institution or pharmacy)"))


class SmsCodeSentOut(BaseModel):
    sent: bool = True
    expires_in_seconds: int


class SmsLoginIn(_In):
    phone: str = Field(max_length=32, json_schema_extra=PHONE)
    code: str = Field(max_length=16, description="The 6-digit code from the text message", json_schema_extra=SMS_CODE)
    kind: Literal["citizen", "agent"] = "citizen"
    credit_code: str | None = Field(default=None, max_length=40)
    org_kind: Literal["unit", "institution"] = "unit"


class UnitOut(BaseModel):
    name: str
    credit_code: str


class InstitutionOut(BaseModel):
    name: str
    credit_code: str
    code: str | None = Field(description="The 12-character national code of the designated institution, if any")
    agreement_status: Literal["none", "applying", "in_force", "suspended", "terminated"]


class AccountOut(BaseModel):
    kind: Literal["citizen", "agent", "staff"]
    name_masked: str
    phone_masked: str
    id_number_masked: str | None
    is_bound: bool = Field(description="Citizens: bound to an insured person (real-name check and its proof)")
    binding: Literal["none", "pending", "active"] = Field(
        description="Citizens: 'pending' when name and ID number matched but a proof is still needed")
    binding_proofs: list[Literal["face", "ecredential", "window"]] = Field(
        default_factory=list, description="While pending: the proofs this deployment accepts")
    is_unit_admin: bool = Field(description="Agents: the organisation's administrator (its first agent)")
    unit: UnitOut | None
    institution: InstitutionOut | None = Field(default=None, description="Agents of a designated institution")
    roles: list[str]


class TokenOut(BaseModel):
    token: str = Field(description="Bearer token; send as 'Authorization: Bearer <token>'")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name)
    expires_at: datetime
    needs_binding: bool
    account: AccountOut


class WeChatLoginIn(_In):
    code: str = Field(min_length=1, max_length=128, description="The code from wx.login()")


class WeChatLoginOut(BaseModel):
    status: Literal["ok", "bind_required"]
    session: TokenOut | None = None
    bind_ticket: str | None = Field(default=None, description="For /auth/wechat/bind, valid 30 minutes")


class WeChatPhoneLoginIn(_In):
    login_code: str = Field(min_length=1, max_length=128, description="The code from wx.login()")
    phone_code: str = Field(min_length=1, max_length=128,
                            description="The code from the getPhoneNumber button (valid 5 minutes, usable once)")
    kind: Literal["citizen", "agent"] = "citizen"
    credit_code: str | None = Field(default=None, max_length=40, description=(
        "Agents: the unit's credit code; an institution's credit code or its 12-character national code"))
    org_kind: Literal["unit", "institution"] = Field(default="unit", description=(
        "Agents: the kind of organisation they act for (a unit, or a designated medical institution or pharmacy)"))


class WeChatBindIn(_In):
    bind_ticket: str = Field(min_length=20, max_length=100)
    phone: str = Field(max_length=32, json_schema_extra=PHONE)
    code: str = Field(max_length=16, json_schema_extra=SMS_CODE)
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=40)


class RealNameIn(_In):
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=40)


class FaceProofIn(_In):
    live_token: str = Field(min_length=1, max_length=512,
                            description="The result token of the mini-program's face verification (人脸核身)")


class ECredentialProofIn(_In):
    code: str = Field(min_length=1, max_length=512, description="The code of the 医保电子凭证")


class LoggedOutOut(BaseModel):
    logged_out: bool = True


def to_api(account: Account) -> AccountOut:
    person = account.person
    pending = person is None and account.kind == AccountKind.CITIZEN and binding_ops.pending_binding(account)
    return AccountOut(
        binding="active" if person is not None else ("pending" if pending else "none"),
        binding_proofs=binding_ops.available_proofs() if pending else [],
        kind=account.kind,
        name_masked=mask_name(person.name if person else account.display_name),
        phone_masked=mask_phone(account.phone),
        id_number_masked=mask_id_number(person.id_number) if person else None,
        is_bound=person is not None,
        is_unit_admin=account.is_unit_admin,
        unit=UnitOut(name=account.unit.name, credit_code=account.unit.credit_code) if account.unit else None,
        institution=InstitutionOut(name=account.institution.name, credit_code=account.institution.credit_code,
                                   code=account.institution.code,
                                   agreement_status=account.institution.agreement_status)
        if account.institution_id else None,
        roles=sorted(r.value for r in account.roles),
    )


def _session_for(account: Account) -> TokenOut:
    raw, token = issue_token(account, label="api")
    record("token.issued", actor=actor_of(account), object_type="api_token", object_id=token.id)
    return TokenOut(token=raw, expires_at=token.expires_at, account=to_api(account),
                    needs_binding=account.kind == AccountKind.CITIZEN and account.person is None)


def _ip() -> str:
    return request.remote_addr or "unknown"


ANONYMOUS = Actor("anonymous")


@endpoint("/auth/sms/request", method="POST", summary="Send a login code by SMS", tags=TAGS, auth=False,
          body=SmsCodeRequestIn, response=SmsCodeSentOut, status=202, errors=(429,))
def auth_sms_request(body: SmsCodeRequestIn):
    data = operations.CodeRequest(phone=body.phone, kind=body.kind, credit_code=body.credit_code,
                                  org_kind=body.org_kind)
    with operations.commit_failures():
        operations.request_login_code(data, actor=ANONYMOUS, client_ip=_ip())
    db.session.commit()
    return SmsCodeSentOut(expires_in_seconds=current_app.config["PORTAL_OTP_TTL_SECONDS"])


@endpoint("/auth/sms/login", method="POST", summary="Log in with the SMS code; returns a bearer token", tags=TAGS,
          auth=False, body=SmsLoginIn, response=TokenOut, errors=(401, 429))
def auth_sms_login(body: SmsLoginIn):
    data = operations.CodeLogin(code=body.code, phone=body.phone, kind=body.kind, credit_code=body.credit_code,
                                org_kind=body.org_kind)
    with operations.commit_failures():
        account = operations.login_with_code(data, actor=ANONYMOUS, client_ip=_ip())
    result = _session_for(account)
    db.session.commit()
    return result


@endpoint("/auth/wechat", method="POST", summary="Log in from the mini-program with a wx.login code", tags=TAGS,
          auth=False, body=WeChatLoginIn, response=WeChatLoginOut, errors=(401, 429, 502))
def auth_wechat(body: WeChatLoginIn):
    with operations.commit_failures():
        outcome = wechat_login.login_wechat(body.code, actor=ANONYMOUS, client_ip=_ip())
    if outcome.account is None:
        db.session.commit()
        return WeChatLoginOut(status="bind_required", bind_ticket=outcome.bind_ticket)
    result = WeChatLoginOut(status="ok", session=_session_for(outcome.account))
    db.session.commit()
    return result


@endpoint("/auth/wechat/phone", method="POST", tags=TAGS, auth=False, body=WeChatPhoneLoginIn, response=TokenOut,
          summary="Log in with the mobile number WeChat verified (getPhoneNumber), citizens and agents",
          errors=(401, 403, 429, 502, 503))
def auth_wechat_phone(body: WeChatPhoneLoginIn):
    data = wechat_login.WeChatPhoneLogin(login_code=body.login_code, phone_code=body.phone_code, kind=body.kind,
                                         credit_code=body.credit_code, org_kind=body.org_kind)
    with operations.commit_failures():
        account = wechat_login.login_wechat_phone(data, actor=ANONYMOUS, client_ip=_ip())
    result = _session_for(account)
    db.session.commit()
    return result


@endpoint("/auth/wechat/bind", method="POST", summary="Bind the WeChat user: SMS code and real-name check",
          tags=TAGS, auth=False, body=WeChatBindIn, response=TokenOut, errors=(401, 429))
def auth_wechat_bind(body: WeChatBindIn):
    data = wechat_login.WeChatBinding(phone=body.phone, code=body.code, name=body.name, id_number=body.id_number)
    with operations.commit_failures():
        account = wechat_login.bind_wechat(body.bind_ticket, data, actor=ANONYMOUS, client_ip=_ip())
    result = _session_for(account)
    db.session.commit()
    return result


@endpoint("/me/binding", method="POST", summary="Real-name binding of the logged-in citizen", tags=TAGS,
          body=RealNameIn, response=AccountOut, errors=(403, 429, 503))
def account_binding(body: RealNameIn):
    """Bound at once when the login phone is the person's phone on record; else ``binding`` is 'pending' and one of
    ``binding_proofs`` must follow (face, e-credential, or the service window)."""
    return _binding_step(binding_ops.bind_real_name, binding_ops.RealNameBinding(body.name, body.id_number))


@endpoint("/me/binding/face", method="POST", summary="Prove a pending binding by face verification", tags=TAGS,
          body=FaceProofIn, response=AccountOut, errors=(403, 404, 429, 503))
def account_binding_face(body: FaceProofIn):
    return _binding_step(binding_ops.prove_by_face, binding_ops.FaceProof(body.live_token))


@endpoint("/me/binding/ecredential", method="POST", summary="Prove a pending binding by the 医保电子凭证", tags=TAGS,
          body=ECredentialProofIn, response=AccountOut, errors=(403, 404, 429, 503))
def account_binding_ecredential(body: ECredentialProofIn):
    return _binding_step(binding_ops.prove_by_ecredential, binding_ops.ECredentialProof(body.code))


def _binding_step(operation, data) -> AccountOut:
    """One step of the logged-in citizen's real-name binding (``operation`` of portal/accounts/binding.py with its
    input), committed; failures the step records (attempt counters) are committed too. The account as it stands."""
    account = current_account()
    with operations.commit_failures():
        operation(account, data, actor=actor_of(account), client_ip=_ip())
    db.session.commit()
    return to_api(account)


@endpoint("/auth/logout", method="POST", summary="Log out: every session and token of the account ends",
          tags=TAGS, response=LoggedOutOut)
def auth_logout():
    account = current_account()
    operations.logout(account, actor=actor_of(account))
    db.session.commit()
    return LoggedOutOut()


@endpoint("/me", summary="The logged-in account, masked", tags=TAGS, response=AccountOut)
def account_me():
    return to_api(current_account())
