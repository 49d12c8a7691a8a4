"""Account operations: logging in (SMS code, staff password + TOTP), unit agents, staff passwords and roles,
revocation. Real-name binding is in ``binding``, the mini-program's WeChat login in ``wechat_login``.

Each function takes a frozen input object and the audit ``actor``, changes state, flushes, writes an
audit row and raises a DomainError with a translated message. None commits and none reads the request:
the client IP used for rate limits is passed in. Refusals that must be remembered (wrong code, wrong
password, lockout) flush their counters before raising; the caller commits them (``commit_failures``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..catalog.schema import Audience
from ..core import clock
from ..core.audit import Actor, actor_of, record
from ..core.db import db
from ..core.errors import (
    AuthenticationFailed,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from ..core.masking import mask_phone
from ..core.translation import gettext as _
from ..core.validators import normalize_id_number, normalize_mobile
from ..extensions import limiter
from ..insurance.models import id_number_index
from ..integrations import sms
from ..organisations.models import AgentMandate, AgentStatus, Institution, OrgKind, ProofMethod
from . import otp, passwords, throttling
from .auth import revoke_sessions
from .inputs import (
    AgentChange,
    CodeLogin,
    CodeRequest,
    NewAgent,
    NewStaff,
    PasswordChange,
    StaffLogin,  # noqa: F401 (part of the operations surface: views and tests use operations.StaffLogin)
)
from .models import (
    Account,
    AccountKind,
    OtpChallenge,
    OtpPurpose,
    Role,
    agent_login_key,
    citizen_login_key,
    institution_agent_login_key,
    staff_login_key,
)
from .organisation import (
    Organisation,
    challenge_ids,
    org_column,
    org_kind_of,
    org_login_key,
    organisation_named,
)
from .permissions import can_change_roles, can_manage_agents
from .tokens import revoke_tokens

# Rate limits (``limits`` syntax); each can be overridden in the app config under the same name.
DEFAULT_LIMITS = {
    "PORTAL_LIMIT_STAFF_LOGIN_IP": "20/10 minutes",
    "PORTAL_LIMIT_STAFF_LOGIN_ACCOUNT": "10/10 minutes",
    "PORTAL_LIMIT_OTP_SEND_PHONE": "1/minute;5/hour;10/day",
    "PORTAL_LIMIT_OTP_SEND_IP": "20/hour",
    "PORTAL_LIMIT_OTP_VERIFY_IP": "30/10 minutes",
    "PORTAL_LIMIT_WECHAT_IP": "30/10 minutes",
}
LOGIN_PURPOSES = frozenset({OtpPurpose.CITIZEN_LOGIN.value, OtpPurpose.AGENT_LOGIN.value})


# --- helpers ----------------------------------------------------------------------------------------


@contextmanager
def commit_failures() -> Iterator[None]:
    """Around a login operation in a view: keep the counters and audit rows of a refusal, then re-raise."""
    try:
        yield
    except DomainError:
        db.session.commit()
        raise


def throttle(name: str, *keys: str, default: str | None = None) -> None:
    """Count one attempt against the limit ``name`` for ``keys``; raise RateLimited when it is spent.

    The limit is the app config's ``name`` (set from ``PORTAL_LIMIT_*`` environment variables), else
    ``default``, else this module's ``DEFAULT_LIMITS``. Called before any code or password hash is computed (S4).
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    spec = current_app.config.get(name) or default or DEFAULT_LIMITS[name]
    strategy = limiter.limiter
    for item in parse_many(spec):
        if not strategy.hit(item, name, *keys):
            reset_at = strategy.get_window_stats(item, name, *keys).reset_time  # the limiter's own clock
            minutes = max(1, int(reset_at - time.time() + 59) // 60)
            raise RateLimited(_("Too many attempts. Please wait %(minutes)s minutes and try again.",
                                minutes=minutes))


def _normalised(field: str, normaliser, value: str) -> str:
    try:
        return normaliser(value)
    except ValidationFailed as exc:
        raise ValidationFailed([(field, msg) for _f, msg in exc.reasons]) from None


def _account_by_key(key: str) -> Account | None:
    return db.session.execute(select(Account).where(Account.login_key == key)).scalar_one_or_none()


def revoke_all(account: Account, *, reason: str) -> None:
    """End every browser session and API token of ``account`` on the server (S2)."""
    sessions = revoke_sessions(account, reason)
    tokens = revoke_tokens(account)
    if tokens:
        record("token.revoked", actor=Actor.system(), object_type="account", object_id=account.id,
               detail={"count": tokens, "reason": reason})
    del sessions


def _wrong_code() -> AuthenticationFailed:
    return AuthenticationFailed(_("The code is wrong or has expired. Check the text message, or ask for a new code."),
                                code="wrong_code")


def citizen_account(phone: str, *, actor: Actor) -> Account:
    """The citizen account of a proven ``phone`` (SMS code or WeChat's verified number), created at the first login."""
    key = citizen_login_key(phone)
    account = _account_by_key(key)
    if account is None:
        account = Account(kind=AccountKind.CITIZEN, login_key=key, created_at=clock.now())
        account.set_phone(phone)
        try:
            with db.session.begin_nested():
                db.session.add(account)
        except IntegrityError:  # a first login of the same phone by another route a moment ago: that account
            account = _account_by_key(key)
        else:
            record("account.created", actor=actor, object_type="account", object_id=account.id,
                   detail={"kind": "citizen", "phone": mask_phone(phone)})
    if not account.is_active:
        raise AuthenticationFailed(_("This account is disabled. Please contact the service hall."),
                                   code="account_disabled")
    return account


def active_agent(unit: Organisation | None, phone: str) -> Account | None:
    """The active agent of ``unit`` (or an institution) with ``phone``, or None."""
    agent = _account_by_key(org_login_key(unit, phone)) if unit else None
    return agent if agent is not None and agent.is_active else None


# --- SMS codes: citizens and unit agents ------------------------------------------------------------


def seconds_until_new_code(sent_at: datetime) -> int:
    """How long until the same phone may be sent another code (the first window of PORTAL_LIMIT_OTP_SEND_PHONE,
    counted from when this one was sent): the code page counts it down on "send a new code"."""
    spec = current_app.config.get("PORTAL_LIMIT_OTP_SEND_PHONE") or DEFAULT_LIMITS["PORTAL_LIMIT_OTP_SEND_PHONE"]
    first = parse_many(spec)[0]
    if first.amount > 1:  # several codes a window: nothing to wait for after one
        return 0
    window = first.get_expiry()
    return max(0, min(window, int(window - (clock.now() - sent_at).total_seconds())))


def request_login_code(data: CodeRequest, *, actor: Actor, client_ip: str) -> otp.IssuedCode:
    """Send a 6-digit login code by SMS.

    Limited per phone and per IP before anything else happens. Agents name their unit; the code is
    only sent when the phone belongs to an active agent of that unit, but the answer is the same
    either way, so the form cannot be used to find out who the agents are.
    """
    phone = _normalised("phone", normalize_mobile, data.phone)
    throttle("PORTAL_LIMIT_OTP_SEND_IP", client_ip)
    throttle("PORTAL_LIMIT_OTP_SEND_PHONE", phone)
    if data.kind == AccountKind.AGENT:
        org = organisation_named(data.org_kind, data.credit_code)
        agent = _account_by_key(org_login_key(org, phone)) if org else None
        issued = otp.issue(OtpPurpose.AGENT_LOGIN, phone, **challenge_ids(org))
        deliver = agent is not None and agent.is_active
    elif data.kind == AccountKind.CITIZEN:
        issued = otp.issue(OtpPurpose.CITIZEN_LOGIN, phone)
        deliver = True
    else:
        raise ValidationFailed([("kind", _("Choose whether you log in as a person or as a unit agent."))])
    if deliver:
        minutes = current_app.config["PORTAL_OTP_TTL_SECONDS"] // 60
        body = _("Your login code for the medical security service hall is %(code)s. It is valid for %(minutes)s "
                 "minutes. Never tell it to anyone, including staff.", code=issued.code, minutes=minutes)
        sms.get_gateway().send(phone, "otp_login", {"code": issued.code, "minutes": str(minutes)},
                               business_id=f"otp-{issued.challenge.id}", text=body)
    record("otp.sent" if deliver else "otp.withheld", actor=actor, object_type="otp_challenge",
           object_id=issued.challenge.id, result="ok" if deliver else "denied",
           detail={"phone": mask_phone(phone), "purpose": issued.challenge.purpose})
    return issued


def login_with_code(data: CodeLogin, *, actor: Actor, client_ip: str) -> Account:
    """Log in with an SMS code. A citizen's account is created at the first login (binding comes next).

    Wrong codes count against the challenge (``PORTAL_OTP_MAX_ATTEMPTS``) and the IP; a code works once.
    """
    code = (data.code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationFailed([("code", _("The code has 6 digits."))])
    throttle("PORTAL_LIMIT_OTP_VERIFY_IP", client_ip)
    challenge: OtpChallenge | None
    if data.handle:
        challenge = otp.find_by_handle(data.handle)
        if challenge is not None and challenge.purpose not in LOGIN_PURPOSES:
            challenge = None  # a code sent for another purpose (e.g. a progress lookup) never logs anyone in
    else:
        phone = _normalised("phone", normalize_mobile, data.phone or "")
        purpose = OtpPurpose.AGENT_LOGIN if data.kind == AccountKind.AGENT else OtpPurpose.CITIZEN_LOGIN
        org = organisation_named(data.org_kind, data.credit_code) if data.kind == AccountKind.AGENT else None
        if data.kind == AccountKind.AGENT and org is None:
            raise _wrong_code()
        challenge = otp.latest_live(purpose, phone, **challenge_ids(org))
    if challenge is None or not otp.check(challenge, code):
        record("login.failed", actor=actor, object_type="otp_challenge",
               object_id=challenge.id if challenge else None, result="failed", detail={"method": "sms"})
        raise _wrong_code()
    phone = challenge.phone
    if challenge.purpose == OtpPurpose.AGENT_LOGIN:
        account = (_account_by_key(institution_agent_login_key(challenge.institution_id, phone))
                   if challenge.institution_id else
                   _account_by_key(agent_login_key(challenge.unit_id, phone)) if challenge.unit_id else None)
        if account is None or not account.is_active:
            record("login.failed", actor=actor, object_type="otp_challenge", object_id=challenge.id,
                   result="failed", detail={"method": "sms", "reason": "no agent"})
            raise _wrong_code()
    else:
        account = citizen_account(phone, actor=actor)
    account.last_login_at = clock.now()
    db.session.flush()
    record("login.ok", actor=actor_of(account), object_type="account", object_id=account.id,
           detail={"method": "sms"})
    return account


# --- unit agents ---------------------------------------------------------------------------------------
# The organisation's agents (model and rules: portal.organisations). An agent's mandate says which items or groups
# of items they may file and see, until when, and whether they are suspended; the administrator (the first agent)
# manages them. Every change is audited with what it was before.


def _agent_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > 64:
        raise ValidationFailed([("name", _("Enter the agent's name (at most 64 characters)."))])
    return name


def _checked_scope(scope: dict[str, list[str]] | None,
                   kind: OrgKind = OrgKind.UNIT) -> dict[str, list[str]] | None:
    """The scope with its codes checked against the region's guide: items the organisation files, parts that
    exist."""
    if scope is None:
        return None
    catalog = current_app.extensions["portal_catalog"]
    items = [str(code) for code in scope.get("items", ())]
    parts = [str(part) for part in scope.get("parts", ())]
    audience = Audience.institution if kind is OrgKind.INSTITUTION else Audience.unit
    unknown = [code for code in items if (item := catalog.get(code)) is None or audience not in item.audience]
    known_parts = {part.id for part in catalog.region.parts}
    unknown += [part for part in parts if part not in known_parts]
    if unknown:
        raise ValidationFailed([("scope", _("These are not items your organisation files here: %(codes)s",
                                            codes=", ".join(unknown[:10])))])
    if not items and not parts:
        raise ValidationFailed([("scope", _("Choose at least one item or group of items the agent may file."))])
    return {"items": items, "parts": parts}


def _checked_expiry(expires_on: date | None) -> date | None:
    if expires_on is not None and expires_on < clock.today():
        raise ValidationFailed([("expires_on", _("The last day cannot be in the past."))])
    return expires_on


def _mandate(agent: Account) -> AgentMandate:
    """The agent's mandate; agents made before mandates existed get an unrestricted one."""
    if agent.mandate is None:
        agent.mandate = AgentMandate(account_id=agent.id, org_kind=(agent.org_kind or OrgKind.UNIT).value,
                                     proof=ProofMethod.WINDOW.value, created_at=clock.now(), changed_at=clock.now())
        db.session.flush()
    return agent.mandate


def _mandate_detail(mandate: AgentMandate) -> dict[str, Any]:
    """A mandate as the audit log records it (no personal data)."""
    return {"scope": mandate.scope, "expires_on": mandate.expires_on, "status": mandate.status}


def register_first_agent(unit: Organisation, data: NewAgent, *, actor: Actor,
                         proof: ProofMethod = ProofMethod.WINDOW, by: Account | None = None) -> Account:
    """Make the first agent of ``unit`` (a unit or an institution): its administrator, who adds, limits, suspends
    and removes the others.

    The core of every way an organisation gets its first agent: online with the 电子营业执照 or a 授权委托书 staff
    checked (``portal.organisations.registration``), at the window (staff screen, ``portal units agent add``,
    ``portal institutions agent add``), demo data.
    """
    phone = _normalised("phone", normalize_mobile, data.phone)
    name = _agent_name(data.name)
    id_number = _normalised("id_number", normalize_id_number, data.id_number) if data.id_number else None
    if db.session.execute(select(Account.id).where(org_column(unit) == unit.id, Account.is_unit_admin)).first():
        raise DomainError(_("This unit already has its administrator. Ask them to add you as an agent, or contact "
                            "the service hall."), code="agent_exists")
    agent = _upsert_agent(unit, phone, name)
    agent.is_unit_admin = True
    mandate = _mandate(agent)
    mandate.proof, mandate.scope, mandate.expires_on = proof.value, None, None
    mandate.status, mandate.granted_by_id, mandate.changed_at = AgentStatus.ACTIVE.value, getattr(by, "id", None), \
        clock.now()
    mandate.id_number = id_number
    mandate.id_index = id_number_index(id_number) if id_number else None
    db.session.flush()
    record("agent.added", actor=actor, object_type="account", object_id=agent.id,
           detail={org_kind_of(unit).value: unit.id, "first": True, "phone": mask_phone(phone), "proof": proof.value})
    return agent


def _upsert_agent(unit: Organisation, phone: str, name: str) -> Account:
    key = org_login_key(unit, phone)
    agent = _account_by_key(key)
    if agent is None:
        agent = Account(kind=AccountKind.AGENT, login_key=key, created_at=clock.now())
        if isinstance(unit, Institution):
            agent.institution, agent.institution_id = unit, unit.id
        else:
            agent.unit, agent.unit_id = unit, unit.id
        agent.set_phone(phone)
        db.session.add(agent)
    agent.display_name = name
    agent.is_enabled = True
    db.session.flush()
    return agent


def _check_manager(by: Account, unit: Organisation) -> None:
    if not can_manage_agents(by, unit):
        raise PermissionDenied(_("Only the unit's administrator can add, change or remove agents."))


def add_agent(unit: Organisation, data: NewAgent, *, by: Account, actor: Actor) -> Account:
    """Add (or re-enable) an agent of ``unit`` with the items they may file and an optional last day. Only the
    unit's administrator, or a staff administrator, may."""
    _check_manager(by, unit)
    phone = _normalised("phone", normalize_mobile, data.phone)
    problems: list[tuple[str, str]] = []
    for check in (lambda: _agent_name(data.name), lambda: _checked_scope(data.scope, org_kind_of(unit)),
                  lambda: _checked_expiry(data.expires_on),
                  lambda: data.id_number and _normalised("id_number", normalize_id_number, data.id_number)):
        try:
            check()
        except ValidationFailed as exc:
            problems += exc.reasons
    existing = _account_by_key(org_login_key(unit, phone))
    if existing is not None and existing.is_enabled:
        problems.append(("phone", _("This mobile number is already an agent of the unit.")))
    if problems:
        raise ValidationFailed(problems)
    agent = _upsert_agent(unit, phone, _agent_name(data.name))
    mandate = _mandate(agent)
    mandate.proof, mandate.status, mandate.granted_by_id = (ProofMethod.ADMINISTRATOR.value, AgentStatus.ACTIVE.value,
                                                            by.id)
    mandate.scope, mandate.expires_on, mandate.changed_at = (_checked_scope(data.scope, org_kind_of(unit)),
                                                             data.expires_on, clock.now())
    id_number = normalize_id_number(data.id_number) if data.id_number else None
    mandate.id_number, mandate.id_index = id_number, id_number_index(id_number) if id_number else None
    db.session.flush()
    record("agent.added", actor=actor, object_type="account", object_id=agent.id,
           detail={org_kind_of(unit).value: unit.id, "phone": mask_phone(phone), **_mandate_detail(mandate)})
    return agent


def _managed_agent(agent: Account, by: Account) -> AgentMandate:
    if agent.kind != AccountKind.AGENT or agent.organisation is None or not agent.is_enabled:
        raise NotFound(_("No such agent."))
    _check_manager(by, agent.organisation)
    if agent.is_unit_admin:
        raise DomainError(_("The unit's administrator always has every item and cannot be limited, suspended or "
                            "removed here. Please contact the service hall to change the administrator."),
                          code="first_agent")
    return _mandate(agent)


def change_agent(agent: Account, data: AgentChange, *, by: Account, actor: Actor) -> None:
    """Change the items and the last day of an agent."""
    mandate = _managed_agent(agent, by)
    problems: list[tuple[str, str]] = []
    scope = expires_on = None
    try:
        scope = _checked_scope(data.scope, agent.org_kind or OrgKind.UNIT)
    except ValidationFailed as exc:
        problems += exc.reasons
    try:
        expires_on = _checked_expiry(data.expires_on)
    except ValidationFailed as exc:
        problems += exc.reasons
    if problems:
        raise ValidationFailed(problems)
    before = _mandate_detail(mandate)
    mandate.scope, mandate.expires_on, mandate.changed_at = scope, expires_on, clock.now()
    db.session.flush()
    record("agent.changed", actor=actor, object_type="account", object_id=agent.id,
           detail={"unit": agent.unit_id, "from": before, "to": _mandate_detail(mandate)})


def suspend_agent(agent: Account, *, by: Account, actor: Actor) -> None:
    """Suspend an agent: their sessions and tokens end, and they cannot log in until resumed."""
    mandate = _managed_agent(agent, by)
    if mandate.status == AgentStatus.SUSPENDED:
        return
    mandate.status, mandate.changed_at = AgentStatus.SUSPENDED.value, clock.now()
    revoke_all(agent, reason="suspended")
    db.session.flush()
    record("agent.suspended", actor=actor, object_type="account", object_id=agent.id, detail={"unit": agent.unit_id})


def resume_agent(agent: Account, *, by: Account, actor: Actor) -> None:
    mandate = _managed_agent(agent, by)
    if mandate.status == AgentStatus.ACTIVE:
        return
    mandate.status, mandate.changed_at = AgentStatus.ACTIVE.value, clock.now()
    db.session.flush()
    record("agent.resumed", actor=actor, object_type="account", object_id=agent.id, detail={"unit": agent.unit_id})


def remove_agent(agent: Account, *, by: Account, actor: Actor) -> None:
    """Disable an agent and end their sessions and tokens. The administrator cannot be removed this way."""
    mandate = _managed_agent(agent, by)
    agent.is_enabled = False
    mandate.status, mandate.changed_at = AgentStatus.REMOVED.value, clock.now()
    revoke_all(agent, reason="removed")
    db.session.flush()
    record("agent.removed", actor=actor, object_type="account", object_id=agent.id, detail={"unit": agent.unit_id})


def unit_agents(unit: Organisation) -> list[Account]:
    """The agents of ``unit`` (or an institution) that are not removed (suspended ones included), the administrator
    first."""
    return list(db.session.execute(
        select(Account).where(org_column(unit) == unit.id, Account.kind == AccountKind.AGENT, Account.is_enabled)
        .order_by(Account.is_unit_admin.desc(), Account.id)
    ).scalars())


# --- staff -----------------------------------------------------------------------------------------------


def create_staff(data: NewStaff, *, actor: Actor) -> tuple[Account, str]:
    """Create a staff account; returns it and its TOTP secret (to enrol in an authenticator app)."""
    username = (data.username or "").strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise ValidationFailed([("username", _("A username uses letters, digits, dots and underscores."))])
    if _account_by_key(staff_login_key(username)) is not None:
        raise ValidationFailed([("username", _("This username is taken."))])
    problems = passwords.password_problems(data.password, username=username)
    if problems:
        raise ValidationFailed([("password", p) for p in problems])
    if not data.roles:
        raise ValidationFailed([("roles", _("Give the account at least one role."))])
    secret = data.totp_secret or passwords.new_totp_secret()
    now = clock.now()
    account = Account(kind=AccountKind.STAFF, login_key=staff_login_key(username), username=username,
                      display_name=data.display_name or username, password_hash=passwords.hash_password(data.password),
                      password_changed_at=now, totp_secret=secret, created_at=now)
    account.roles = data.roles
    db.session.add(account)
    db.session.flush()
    record("account.created", actor=actor, object_type="account", object_id=account.id,
           detail={"kind": "staff", "roles": account.role_codes})
    return account, secret


def password_expired(account: Account) -> bool:
    """Staff must change their password every ``PORTAL_STAFF_PASSWORD_MAX_AGE_DAYS`` days (等保)."""
    if account.kind != AccountKind.STAFF:
        return False
    max_age = timedelta(days=current_app.config["PORTAL_STAFF_PASSWORD_MAX_AGE_DAYS"])
    return account.password_changed_at is None or clock.now() - account.password_changed_at >= max_age


def change_password(account: Account, data: PasswordChange, *, actor: Actor, client_ip: str) -> None:
    """Change a staff password: the current one must match, the new one must follow the rules and differ.

    Ends every session and token of the account (S2); the person logs in again with the new password.
    """
    if account.kind != AccountKind.STAFF:
        raise PermissionDenied(_("Only staff accounts have a password."))
    throttle("PORTAL_LIMIT_STAFF_LOGIN_ACCOUNT", account.username or "")
    if not passwords.verify_password(account.password_hash, data.current_password[:256]):
        record("password.change_failed", actor=actor, object_type="account", object_id=account.id, result="failed")
        raise ValidationFailed([("current_password", _("The current password is wrong."))])
    problems = passwords.password_problems(data.new_password, username=account.username or "")
    if data.new_password == data.current_password:
        problems.append(_("The new password must differ from the current one."))
    if problems:
        raise ValidationFailed([("new_password", p) for p in problems])
    account.password_hash = passwords.hash_password(data.new_password)
    account.password_changed_at = clock.now()
    revoke_all(account, reason="password changed")
    db.session.flush()
    record("password.changed", actor=actor, object_type="account", object_id=account.id)


def change_roles(account: Account, roles: frozenset[Role], *, by: Account, actor: Actor) -> None:
    """Give a staff account a new set of roles; its sessions and tokens end (S2). Administrators only."""
    if not can_change_roles(by, account):
        raise PermissionDenied(_("Only an administrator can change roles."))
    if not roles:
        raise ValidationFailed([("roles", _("Give the account at least one role."))])
    before = account.role_codes
    account.roles = roles
    revoke_all(account, reason="roles changed")
    db.session.flush()
    record("role.changed", actor=actor, object_type="account", object_id=account.id,
           detail={"from": before, "to": account.role_codes})


def unlock_staff(account: Account, *, actor: Actor) -> None:
    """Clear the login waits of every address for this member of staff (``portal staff unlock``)."""
    throttling.clear(account.username or "")
    account.locked_until = None
    account.failed_logins = 0
    db.session.flush()
    record("account.unlocked", actor=actor, object_type="account", object_id=account.id)


def logout(account: Account, *, actor: Actor) -> None:
    """Log out everywhere: every browser session and API token of the account ends on the server (S2)."""
    revoke_all(account, reason="logout")
    record("logout", actor=actor, object_type="account", object_id=account.id)


def set_staff_identity(account: Account, id_number: str, *, actor: Actor) -> None:
    """Record a staff member's own 身份证 (its blind index only), so separation of duties keeps them off the cases
    they file, or that are about them, as a citizen (S7). The number itself is not stored on the account."""
    if account.kind != AccountKind.STAFF:
        raise PermissionDenied(_("Only staff accounts have a staff identity."))
    account.staff_id_index = id_number_index(normalize_id_number(id_number))
    db.session.flush()
    record("staff.identity_set", actor=actor, object_type="account", object_id=account.id)
