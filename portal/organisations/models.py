"""Organisations and their agents: who may act online for a unit or a designated institution (定点医药机构).

One model for every kind of organisation. An organisation's agent is an ``account`` of kind ``agent`` whose
organisation column names it (``account.unit_id`` for a 参保单位, ``account.institution_id`` for a 定点医药机构;
the mandate's ``org_kind`` says which) and whose ``AgentMandate`` says what the organisation's administrator let
them do: the items or groups of items (the catalog's parts) they may file and see, until when, and whether they are
suspended.
The administrator is the agent with ``account.is_unit_admin`` (the organisation's first agent).

``OrgRegistration`` is how an organisation gets its first agent: online with the 电子营业执照 (the business-licence
port), online with a signed 授权委托书 that staff check, or at the service window (staff screen, ``portal units
agent add``, ``portal institutions agent add``). Every path ends in ``organisations.operations.register_first_agent``.

Personal data (the agent's name, 身份证, mobile, the legal representative's name) is sealed, with blind indexes
where it is looked up.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted
from ..core.db import Base


class OrgKind(StrEnum):
    """The kinds of organisation that have agents."""

    UNIT = "unit"  # 参保单位 (employer)
    INSTITUTION = "institution"  # 定点医药机构 (a designated medical institution or retail pharmacy)


class AgentStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # kept, but cannot log in or act until resumed
    REMOVED = "removed"  # the account is disabled; sessions and tokens ended


class ProofMethod(StrEnum):
    """How the agent's authority to act for the organisation was established."""

    BUSINESS_LICENSE = "business_license"  # 电子营业执照 authorisation, online
    LETTER = "letter"  # 授权委托书, uploaded and checked by staff
    WINDOW = "window"  # papers seen by staff at the service window
    ADMINISTRATOR = "administrator"  # added by the organisation's administrator
    DEMO = "demo"  # demo data


class RegistrationStatus(StrEnum):
    AWAITING_LICENSE = "awaiting_license"  # sent to the 电子营业执照 service; not authorised yet
    AWAITING_REVIEW = "awaiting_review"  # 授权委托书 uploaded; staff check it
    APPROVED = "approved"  # the agent exists
    REFUSED = "refused"  # by staff (with a reason) or by the licence service


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


class AgentMandate(Base):
    """What one agent may do for their organisation. One row per agent account.

    ``scope_json``: NULL means every item the organisation files; otherwise ``{"items": [codes], "parts": [ids]}``
    (a part is a group of items of the region's guide). ``expires_on``: the last day the agent may act.
    """

    __tablename__ = "agent_mandate"
    __table_args__ = (
        CheckConstraint(f"org_kind IN ({_values(OrgKind)})", name="org_kind"),
        CheckConstraint(f"status IN ({_values(AgentStatus)})", name="status"),
        CheckConstraint(f"proof IN ({_values(ProofMethod)})", name="proof"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    org_kind: Mapped[str] = mapped_column(String(16), default=OrgKind.UNIT.value)
    status: Mapped[str] = mapped_column(String(16), default=AgentStatus.ACTIVE.value)
    scope_json: Mapped[str | None] = mapped_column(Text)
    expires_on: Mapped[date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(Encrypted("agent_mandate.id_number"))  # the agent's 身份证
    id_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    proof: Mapped[str] = mapped_column(String(20), default=ProofMethod.ADMINISTRATOR.value)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)

    @property
    def scope(self) -> dict[str, list[str]] | None:
        return json.loads(self.scope_json) if self.scope_json else None

    @scope.setter
    def scope(self, value: dict[str, list[str]] | None) -> None:
        self.scope_json = None if value is None else json.dumps(
            {"items": sorted(set(value.get("items", ()))), "parts": sorted(set(value.get("parts", ())))},
            ensure_ascii=False)

    def in_force(self, today: date) -> bool:
        return self.status == AgentStatus.ACTIVE and (self.expires_on is None or today <= self.expires_on)

    def covers(self, item_code: str, part: str) -> bool:
        """Whether the scope names the item or its part (an unrestricted mandate covers every item)."""
        scope = self.scope
        return scope is None or item_code in scope["items"] or part in scope["parts"]


class OrgRegistration(Base):
    """A request to make the first agent of an organisation, and how it was decided."""

    __tablename__ = "org_registration"
    __table_args__ = (
        CheckConstraint(f"org_kind IN ({_values(OrgKind)})", name="org_kind"),
        CheckConstraint("org_kind = 'institution' OR (institution_id IS NULL AND institution_kind IS NULL)",
                        name="institution_fields"),
        CheckConstraint(f"method IN ({_values(ProofMethod)})", name="method"),
        CheckConstraint(f"status IN ({_values(RegistrationStatus)})", name="status"),
        CheckConstraint("status <> 'refused' OR decision_reason IS NOT NULL", name="refusal_has_reason"),
        CheckConstraint("status <> 'approved' OR account_id IS NOT NULL", name="approved_has_agent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_kind: Mapped[str] = mapped_column(String(16), default=OrgKind.UNIT.value)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    org_name: Mapped[str] = mapped_column(String(200))  # a registered name, public (as ``unit.name``)
    legal_rep_name: Mapped[str] = mapped_column(Encrypted("org_registration.legal_rep_name"))
    agent_name: Mapped[str] = mapped_column(Encrypted("org_registration.agent_name"))
    agent_id_number: Mapped[str] = mapped_column(Encrypted("org_registration.agent_id_number"))
    agent_id_index: Mapped[str] = mapped_column(BlindIndex, index=True)
    agent_phone: Mapped[str] = mapped_column(Encrypted("org_registration.agent_phone"))
    method: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    license_ticket: Mapped[str | None] = mapped_column(String(128), unique=True)  # the licence service's ticket
    letter_file_id: Mapped[int | None] = mapped_column(ForeignKey("material_file.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))  # the agent made
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    institution_code: Mapped[str | None] = mapped_column(String(12))  # institutions: the 医保机构编码, if it has one
    institution_kind: Mapped[str | None] = mapped_column(String(16))  # institutions: InstitutionKind
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


# --- 定点医药机构 ----------------------------------------------------------------------------------------------


class InstitutionKind(StrEnum):
    MEDICAL = "medical"  # 医疗机构 (national code letter H)
    PHARMACY = "pharmacy"  # 零售药店 (national code letter P)


class InstitutionLevel(StrEnum):
    """The hospital grade (医院等级) the seeds name; pharmacies have none."""

    FIRST = "level_1"  # 一级
    SECOND = "level_2"  # 二级
    THIRD = "level_3"  # 三级
    UNRATED = "unrated"  # 未定级


class AgreementStatus(StrEnum):
    """Where the institution's 医保服务协议 stands."""

    NONE = "none"  # not designated (registered here, no agreement yet)
    APPLYING = "applying"  # 申请中: an application for the agreement is being handled
    IN_FORCE = "in_force"  # 协议期内
    SUSPENDED = "suspended"  # 暂停 (from ``suspended_on``)
    TERMINATED = "terminated"  # 解除/终止 (from ``terminated_on``)


INSTITUTION_CODE_LETTER = {InstitutionKind.MEDICAL: "H", InstitutionKind.PHARMACY: "P"}


class Institution(Base):
    """A 定点医药机构 (or one registering to become one): the institution register.

    Keyed by its 统一社会信用代码; the national 医保定点医药机构编码 (12 characters: H for a medical institution or P
    for a pharmacy, the 6-digit division code, a 5-digit number) once it has one. The legal representative's name is
    public (as on the business licence); their 身份证, when given, is sealed. Every change the agreement items make
    is kept in ``institution_event``.
    """

    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(InstitutionKind)})", name="kind"),
        CheckConstraint(f"level IS NULL OR level IN ({_values(InstitutionLevel)})", name="level"),
        CheckConstraint(f"agreement_status IN ({_values(AgreementStatus)})", name="agreement_status"),
        CheckConstraint("agreement_end IS NULL OR agreement_start IS NULL OR agreement_end >= agreement_start",
                        name="agreement_period"),
        CheckConstraint("agreement_status <> 'suspended' OR suspended_on IS NOT NULL", name="suspension_dated"),
        CheckConstraint("agreement_status <> 'terminated' OR terminated_on IS NOT NULL", name="termination_dated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    code: Mapped[str | None] = mapped_column(String(12), unique=True)  # 医保定点医药机构编码
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(16), index=True)
    area: Mapped[str | None] = mapped_column(String(64))  # 所在区县, as the institution gives it
    address: Mapped[str | None] = mapped_column(String(200))
    legal_rep_name: Mapped[str | None] = mapped_column(String(64))
    legal_rep_id_number: Mapped[str | None] = mapped_column(Encrypted("institution.legal_rep_id_number"))
    scope: Mapped[str | None] = mapped_column(Text)  # 经营范围 / 诊疗科目, as filed
    agreement_status: Mapped[str] = mapped_column(String(16), default=AgreementStatus.NONE.value, index=True)
    agreement_start: Mapped[date | None] = mapped_column(Date)
    agreement_end: Mapped[date | None] = mapped_column(Date)
    suspended_on: Mapped[date | None] = mapped_column(Date)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    remote_settlement: Mapped[bool] = mapped_column(Boolean, default=False)  # 异地就医直接结算 opened
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)

    events: Mapped[list[InstitutionEvent]] = relationship(
        back_populates="institution", order_by="InstitutionEvent.id", cascade="all, delete-orphan")

    @property
    def listed(self) -> bool:
        """Shown on the public list of designated institutions: in its agreement, or suspended."""
        return self.agreement_status in (AgreementStatus.IN_FORCE, AgreementStatus.SUSPENDED)


class InstitutionEvent(Base):
    """One change of the institution register: what changed (field: [before, after]; sealed fields only say that
    they changed), from when, and by which case."""

    __tablename__ = "institution_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # registered, agreement, renewed, changed, suspended, ...
    effective_on: Mapped[date] = mapped_column(Date)
    changes_json: Mapped[str] = mapped_column(Text, default="{}")
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)

    institution: Mapped[Institution] = relationship(back_populates="events")

    @property
    def changes(self) -> dict[str, list]:
        return json.loads(self.changes_json or "{}")
