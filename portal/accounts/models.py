"""Accounts (citizens, unit agents, staff), their server-side login sessions, API tokens and one-time codes.

One ``account`` table holds the three kinds; ``login_key`` is the unique way in for each kind
(``citizen:<phone index>``, ``agent:<unit id>:<phone index>``, ``staff:<username>``). Phones, display names (a
person's name: the citizen's, the unit agent's, the member of staff's) and TOTP secrets are sealed; session ids,
API tokens and one-time codes are stored only as hashes. A staff username stays plaintext: it is the login
lookup key and a work handle (``shouli``), not a name; nothing searches or sorts by display name in SQL.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted
from ..core.db import Base
from ..core.translation import lazy_gettext as _l
from ..insurance.models import Person, Unit, phone_index
from ..organisations.models import AgentMandate, Institution, OrgKind


class AccountKind(StrEnum):
    CITIZEN = "citizen"
    AGENT = "agent"
    STAFF = "staff"


class Role(StrEnum):
    """Staff roles. The value is stored; the label is what people read."""

    ACCEPTOR = "acceptor"  # 受理
    REVIEWER = "reviewer"  # 审核
    FINANCE = "finance"  # 财务
    CHIEF = "chief"  # 科长
    ADMIN = "admin"  # 管理员

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ACCEPTOR: _l("Acceptance"),
    Role.REVIEWER: _l("Review"),
    Role.FINANCE: _l("Finance"),
    Role.CHIEF: _l("Section chief"),
    Role.ADMIN: _l("Administrator"),
}


def citizen_login_key(phone: str) -> str:
    return f"citizen:{phone_index(phone)}"


def agent_login_key(unit_id: int, phone: str) -> str:
    return f"agent:{unit_id}:{phone_index(phone)}"


def institution_agent_login_key(institution_id: int, phone: str) -> str:
    """An agent of a 定点医药机构 (one person may be the agent of a unit and of an institution: two accounts)."""
    return f"agent:i{institution_id}:{phone_index(phone)}"


def staff_login_key(username: str) -> str:
    return f"staff:{username.strip().lower()}"



@lru_cache(maxsize=256)
def _roles_of(role_codes: str) -> frozenset[Role]:
    """The roles a stored ``role_codes`` names (a staff page asks a dozen times: parsed once per distinct value)."""
    return frozenset(Role(code) for code in role_codes.split(",") if code)


class Account(Base):
    """Anyone who logs in. Also the flask-login user object (``current_user``)."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("kind IN ('citizen', 'agent', 'staff')", name="kind"),
        CheckConstraint("kind = 'agent' OR unit_id IS NULL", name="unit_only_for_agents"),
        CheckConstraint("kind = 'agent' OR institution_id IS NULL", name="institution_only_for_agents"),
        CheckConstraint("unit_id IS NULL OR institution_id IS NULL", name="one_organisation"),
        CheckConstraint("kind = 'citizen' OR person_id IS NULL", name="person_only_for_citizens"),
        CheckConstraint("kind <> 'staff' OR (username IS NOT NULL AND password_hash IS NOT NULL)",
                        name="staff_has_credentials"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    login_key: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(Encrypted("account.display_name"), default="")
    phone: Mapped[str | None] = mapped_column(Encrypted("account.phone"))
    phone_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    # staff only: the blind index of their own 身份证, so they are kept off cases filed by or about them (S7)
    staff_id_index: Mapped[str | None] = mapped_column(BlindIndex)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # the 定点医药机构 an agent acts for (instead of a unit)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    is_unit_admin: Mapped[bool] = mapped_column(Boolean, default=False)  # the organisation's first agent
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(Encrypted("account.totp_secret"))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # a TOTP code works once
    role_codes: Mapped[str] = mapped_column(String(200), default="")  # comma-separated Role values
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    bind_failures: Mapped[int] = mapped_column(Integer, default=0)
    bind_blocked_until: Mapped[datetime | None]
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    institution: Mapped[Institution | None] = relationship(lazy="joined")
    # agents: what their organisation's administrator lets them do (portal.organisations)
    mandate: Mapped[AgentMandate | None] = relationship(lazy="joined", foreign_keys=[AgentMandate.account_id],
                                                        uselist=False)

    # flask-login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Enabled, and for an agent: not suspended and not past the mandate's last day."""
        return self.is_enabled and (self.mandate is None or self.mandate.in_force(clock.today()))

    def get_id(self) -> str:
        return str(self.id)

    @property
    def org_kind(self) -> OrgKind | None:
        """The kind of organisation an agent acts for (None for citizens and staff)."""
        if self.institution_id is not None:
            return OrgKind.INSTITUTION
        return OrgKind.UNIT if self.kind == AccountKind.AGENT else None

    @property
    def organisation(self) -> Unit | Institution | None:
        """The unit or institution an agent acts for."""
        return self.institution if self.institution_id is not None else self.unit

    @property
    def roles(self) -> frozenset[Role]:
        return _roles_of(self.role_codes)

    @roles.setter
    def roles(self, roles: set[Role] | frozenset[Role]) -> None:
        self.role_codes = ",".join(sorted(Role(r).value for r in roles))

    def has_role(self, role: Role) -> bool:
        return self.kind == AccountKind.STAFF and role in self.roles

    @property
    def audit_role(self) -> str:
        """The role the audit log records: staff roles, or 'citizen' / 'agent' (with the unit's admin flag)."""
        if self.kind == AccountKind.STAFF:
            return self.role_codes or "staff"
        if self.kind == AccountKind.AGENT:
            return "agent-admin" if self.is_unit_admin else "agent"
        return "citizen"

    def set_phone(self, phone: str | None) -> None:
        self.phone = phone
        self.phone_index = phone_index(phone) if phone else None

    def is_locked(self, moment: datetime) -> bool:
        return self.locked_until is not None and moment < self.locked_until


class AnonymousAccount:
    """``current_user`` when nobody is logged in: the same attributes, all empty."""

    is_authenticated = False
    is_anonymous = True
    is_active = False
    kind = None
    person = None
    unit = None
    institution = None
    institution_id = None
    org_kind = None
    organisation = None
    roles: frozenset[Role] = frozenset()
    audit_role = None
    is_unit_admin = False

    def get_id(self) -> None:
        return None

    def has_role(self, _role: Role) -> bool:
        return False


class LoginSession(Base):
    """One browser login. The cookie holds the random id; the table holds its SHA-256 (S2, S3)."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    account: Mapped[Account] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token of the mini-program. Only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    label: Mapped[str] = mapped_column(String(32), default="api")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(lazy="joined")


class OtpPurpose(StrEnum):
    CITIZEN_LOGIN = "citizen_login"
    AGENT_LOGIN = "agent_login"
    PROGRESS_LOOKUP = "progress_lookup"
    PHONE_CHANGE = "phone_change"  # proves the new number of 参保人员电话号码更改 (services/record_changes/phone.py)


class OtpChallenge(Base):
    """A one-time code sent by SMS: stored as an HMAC, single use, expiring, with limited attempts."""

    __tablename__ = "otp_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the web flow keeps the handle
    purpose: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(Encrypted("otp_challenge.phone"))
    phone_index: Mapped[str] = mapped_column(BlindIndex, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))  # an institution agent's login
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]


class ECredentialUse(Base):
    """A 医保电子凭证 code that has logged someone in: a code logs in once (``ecredential_login``). Only its keyed
    hash is kept, and only for ``REPLAY_WINDOW``: the issuer's codes are short-lived, and the unique hash is what lets
    exactly one of two simultaneous logins with the same code through, whatever process each runs in."""

    __tablename__ = "ecredential_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_index: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)


class SmsMessage(Base):
    """The development SMS outbox: what would have been sent, readable by the developer."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(Encrypted("sms_outbox.phone"))
    phone_index: Mapped[str] = mapped_column(BlindIndex, index=True)
    body: Mapped[str] = mapped_column(Encrypted("sms_outbox.body"))
    kind: Mapped[str] = mapped_column(String(32), default="otp")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class WeChatIdentity(Base):
    """A WeChat user (openid, stored only as a blind index), bound to a citizen account after binding.

    ``unionid_index`` (blind index of the open-platform unionid, when WeChat gives one) is unique: one person is one
    identity across the agency's mini-program and official account, and a new openid with a known unionid logs in
    to the account that unionid already reaches.
    """

    __tablename__ = "wechat_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid_index: Mapped[str] = mapped_column(BlindIndex, unique=True)
    unionid_index: Mapped[str | None] = mapped_column(BlindIndex, unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    bind_ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    bind_ticket_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    bound_at: Mapped[datetime | None]

    account: Mapped[Account | None] = relationship(lazy="joined")


class BindingMethod(StrEnum):
    """How a real-name binding was proven (SECURITY S5): name + 身份证 alone never suffice."""

    PHONE = "phone"  # the login phone is the phone on record of the person
    FACE = "face"  # 人脸核身 through the face-verification port
    ECREDENTIAL = "ecredential"  # 医保电子凭证
    WINDOW = "window"  # a member of staff saw the ID card at the service window


class BindingStatus(StrEnum):
    PENDING = "pending"  # name and 身份证 match; waiting for a proof. Nothing of the person is visible yet.
    ACTIVE = "active"  # proven: ``account.person`` points at the person
    ENDED = "ended"  # disowned by the owner ("不是我"), reclaimed by the owner, or taken over by a stronger proof
    CANCELLED = "cancelled"  # withdrawn by the account, or refused at the window


class PersonBinding(Base):
    """One request of an account to be bound to an insured person, from the attempt to its end.

    ``account.person_id`` is set only while a row here is ``active``. ``disown_nonce_hash`` is the SHA-256 of the
    nonce inside the signed "不是我" link sent to the owner's phone on record; it is cleared when the link is used.
    """

    __tablename__ = "person_binding"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'ended', 'cancelled')", name="status"),
        CheckConstraint("method IS NULL OR method IN ('phone', 'face', 'ecredential', 'window')", name="method"),
        CheckConstraint("status <> 'active' OR method IS NOT NULL", name="active_has_method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=BindingStatus.PENDING)
    method: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    proven_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))  # staff, at the window
    disown_nonce_hash: Mapped[str | None] = mapped_column(String(64))

    account: Mapped[Account] = relationship(foreign_keys=[account_id], lazy="joined")
    person: Mapped[Person] = relationship(lazy="joined")


class BindingLock(Base):
    """A person whose owner said "不是我": only the phone on record (or the window) binds them again."""

    __tablename__ = "person_binding_lock"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    locked_at: Mapped[datetime] = mapped_column(default=clock.now)
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("person_binding.id"))  # the binding that was disowned
