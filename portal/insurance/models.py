"""The system of record: insured persons, units, enrolments, contributions, accounts, benefits.

身份证 and phone numbers are stored sealed (``Encrypted``) with a keyed blind index for exact lookup; so are
bank accounts and home addresses, and personal names: a person's name (with a blind index of the normalised name,
``person_name_index``, for exact search) and a unit's legal representative's name. What stays plaintext and why:
a unit's name (an organisation's registered name, public in the national enterprise credit register, searched and
sorted by the agency), places (户籍地, 经办机构) and the insured number (an account number, not an identity).
Enumerations are stored as text and guarded by CHECK constraints, and the
rules that tie columns together (a terminated enrolment has an end date, a paid month has a payment time,
credits are positive and debits negative...) are CHECK constraints too, so no code path can break them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted, blind_index
from ..core.db import Base
from .constants import (
    AccountTransactionKind,
    BenefitKind,
    BenefitStatus,
    ContributionStatus,
    EnrolmentEventKind,
    EnrolmentStatus,
    HealthCareLevel,
    HukouType,
    InsuranceType,
    PersonCategory,
    UnitNature,
    UnitStatus,
)

Money = Numeric(14, 2, asdecimal=True)
"""Decimal yuan with two places; never float."""


def text_enum(enum_cls: type, name: str) -> Enum:
    """A StrEnum stored as its text value, with a CHECK constraint named ``ck_<table>_<name>``."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def id_number_index(id_number: str) -> str:
    """Blind index of a normalised (18-digit, upper-case X) 身份证 number."""
    return blind_index(id_number.strip().upper(), "id_number")


def phone_index(phone: str) -> str:
    return blind_index(phone.strip(), "phone")


def normalize_name(name: str) -> str:
    """A name as compared: runs of whitespace made one space, ends stripped (as real-name binding compares)."""
    return " ".join(name.split())


def person_name_index(name: str) -> str:
    """Blind index of a person's normalised name: exact search by name without a plaintext column."""
    return blind_index(normalize_name(name), "person_name")


class Unit(Base):
    """A 参保单位, keyed by its 统一社会信用代码.

    The legal representative's 身份证 number and phone and the bank account are sealed; the
    representative's number has a blind index for exact lookup.
    """

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 单位编号 given by the agency
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)  # unique ⇒ indexed for lookups
    name: Mapped[str] = mapped_column(String(200))
    nature: Mapped[UnitNature] = mapped_column(text_enum(UnitNature, "nature"), default=UnitNature.ENTERPRISE)
    status: Mapped[UnitStatus] = mapped_column(text_enum(UnitStatus, "status"), default=UnitStatus.ACTIVE)
    legal_rep_name: Mapped[str | None] = mapped_column(Encrypted("unit.legal_rep_name"))
    legal_rep_id_number: Mapped[str | None] = mapped_column(Encrypted("unit.legal_rep_id_number"))
    legal_rep_id_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    legal_rep_phone: Mapped[str | None] = mapped_column(Encrypted("unit.legal_rep_phone"))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(Encrypted("unit.bank_account"))
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(6))
    contact_phone: Mapped[str | None] = mapped_column(String(20))  # the unit's office line, not a person's
    agency_name: Mapped[str | None] = mapped_column(String(100))  # 经办机构
    division_code: Mapped[str | None] = mapped_column(String(6), index=True)  # GB/T 2260
    established_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    persons: Mapped[list[Person]] = relationship(back_populates="unit")

    def set_legal_rep_id_number(self, id_number: str | None) -> None:
        self.legal_rep_id_number = id_number.strip().upper() if id_number else None
        self.legal_rep_id_index = id_number_index(self.legal_rep_id_number) if self.legal_rep_id_number else None


class Person(Base):
    """An insured person (参保人员).

    Rules (CHECK): 离休 is both a category and a flag and the two agree; a 保健对象 level is set only for
    保健对象; a death date is not before the birth date.
    """

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("is_retired_cadre = (category = 'retired_cadre')", name="retired_cadre_flag"),
        CheckConstraint("death_date IS NULL OR death_date >= birth_date", name="death_after_birth"),
        CheckConstraint("gender IN ('M', 'F')", name="gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    insured_no: Mapped[str] = mapped_column(String(20), unique=True)  # 个人编号 / 医保号
    name: Mapped[str] = mapped_column(Encrypted("person.name"))  # set through ``name``: the index follows
    name_index: Mapped[str] = mapped_column(BlindIndex, index=True)
    id_number: Mapped[str] = mapped_column(Encrypted("person.id_number"))
    id_number_index: Mapped[str] = mapped_column(BlindIndex, unique=True)
    gender: Mapped[str] = mapped_column(String(1))  # M / F
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(Encrypted("person.phone"))
    phone_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    category: Mapped[PersonCategory] = mapped_column(
        text_enum(PersonCategory, "category"), default=PersonCategory.EMPLOYEE, index=True
    )
    # special statuses (特殊身份)
    is_retired_cadre: Mapped[bool] = mapped_column(Boolean, default=False)  # 离休
    is_model_worker: Mapped[bool] = mapped_column(Boolean, default=False)  # 劳模
    health_care_level: Mapped[HealthCareLevel | None] = mapped_column(
        text_enum(HealthCareLevel, "health_care_level")
    )  # 保健对象 and its level; NULL = not a 保健对象
    is_extreme_poverty: Mapped[bool] = mapped_column(Boolean, default=False)  # 特困供养
    is_subsistence_allowance: Mapped[bool] = mapped_column(Boolean, default=False)  # 低保
    is_severely_disabled: Mapped[bool] = mapped_column(Boolean, default=False)  # 重度残疾
    is_disabled_veteran: Mapped[bool] = mapped_column(Boolean, default=False)  # 六级及以上残疾军人
    # 户籍
    hukou_division_code: Mapped[str | None] = mapped_column(String(6))
    hukou_place: Mapped[str | None] = mapped_column(String(200))  # e.g. 吉林省长春市南关区
    hukou_type: Mapped[HukouType | None] = mapped_column(text_enum(HukouType, "hukou_type"))
    address: Mapped[str | None] = mapped_column(Encrypted("person.address"))  # 居住地址
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    death_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # the parent (监护人) who enrolled this person as a newborn (新生儿参保登记); NULL for everyone else
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    unit: Mapped[Unit | None] = relationship(back_populates="persons")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="person", order_by="Enrolment.start_date")
    account: Mapped[PersonalAccount | None] = relationship(back_populates="person", uselist=False)

    @validates("name")
    def _index_name(self, _key: str, name: str) -> str:
        self.name_index = person_name_index(name)
        return name

    def set_id_number(self, id_number: str) -> None:
        self.id_number = id_number.strip().upper()
        self.id_number_index = id_number_index(self.id_number)

    def set_phone(self, phone: str | None) -> None:
        self.phone = phone
        self.phone_index = phone_index(phone) if phone else None

    @property
    def is_health_care_object(self) -> bool:
        return self.health_care_level is not None

    @property
    def is_deceased(self) -> bool:
        return self.death_date is not None


class Enrolment(Base):
    """A person's enrolment (参保登记) in one insurance type, through a unit or on their own.

    Rules (CHECK): the end date is not before the start date; a terminated enrolment has an end date.
    A person has at most one enrolment per type that is not terminated (partial unique index).
    """

    __tablename__ = "enrolment"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint("status <> 'terminated' OR end_date IS NOT NULL", name="terminated_has_end_date"),
        Index(
            "uq_enrolment_open_per_type", "person_id", "insurance_type", unique=True,
            sqlite_where=text("status <> 'terminated'"), postgresql_where=text("status <> 'terminated'"),
        ),
        Index("ix_enrolment_unit_id_insurance_type", "unit_id", "insurance_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    insurance_type: Mapped[InsuranceType] = mapped_column(text_enum(InsuranceType, "insurance_type"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        text_enum(EnrolmentStatus, "status"), default=EnrolmentStatus.ACTIVE
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    person: Mapped[Person] = relationship(back_populates="enrolments")
    unit: Mapped[Unit | None] = relationship()
    events: Mapped[list[EnrolmentEvent]] = relationship(
        back_populates="enrolment", order_by="(EnrolmentEvent.effective_date, EnrolmentEvent.id)"
    )


class EnrolmentEvent(Base):
    """One change of an enrolment's status (参保状态变更), kept as history.

    Rule (CHECK): a transfer within the pooling area (统筹区内转移) names the unit it leaves and the unit it joins.
    """

    __tablename__ = "enrolment_event"
    __table_args__ = (
        CheckConstraint(
            "kind <> 'transferred' "
            "OR (from_unit_id IS NOT NULL AND to_unit_id IS NOT NULL AND from_unit_id <> to_unit_id)",
            name="transfer_names_units",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EnrolmentEventKind] = mapped_column(text_enum(EnrolmentEventKind, "kind"))
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    note: Mapped[str | None] = mapped_column(Text)

    enrolment: Mapped[Enrolment] = relationship(back_populates="events")


class Contribution(Base):
    """One month's contribution (缴费记录) of a person to one insurance type.

    ``period_month`` is the first day of the month; annual types (城乡居民, 大额) have one row per year dated
    1 January. ``base`` is NULL for flat-rate contributions. Rules (CHECK): amounts are not negative; a paid
    row has a payment time and a row in arrears has none. One row per person, type and month (UNIQUE).
    """

    __tablename__ = "contribution"
    __table_args__ = (
        UniqueConstraint("person_id", "insurance_type", "period_month"),
        CheckConstraint("base IS NULL OR base >= 0", name="base_not_negative"),
        CheckConstraint("unit_amount >= 0 AND personal_amount >= 0", name="amounts_not_negative"),
        CheckConstraint(
            "(status = 'paid' AND paid_at IS NOT NULL) OR (status = 'arrears' AND paid_at IS NULL)",
            name="paid_has_paid_at",
        ),
        Index("ix_contribution_person_id_period_month", "person_id", "period_month"),
        Index("ix_contribution_unit_id_status_period_month", "unit_id", "status", "period_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    insurance_type: Mapped[InsuranceType] = mapped_column(text_enum(InsuranceType, "insurance_type"))
    period_month: Mapped[date] = mapped_column(Date)
    base: Mapped[Decimal | None] = mapped_column(Money)
    unit_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    personal_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[ContributionStatus] = mapped_column(
        text_enum(ContributionStatus, "status"), default=ContributionStatus.PAID
    )
    paid_at: Mapped[datetime | None]

    @validates("period_month")
    def _first_of_month(self, _key: str, value: date) -> date:
        """A contribution period is a month, written as its first day."""
        if value.day != 1:
            raise ValueError(f"period_month must be the first day of a month, got {value.isoformat()}")
        return value

    @property
    def total(self) -> Decimal:
        return self.unit_amount + self.personal_amount


class PersonalAccount(Base):
    """The 个人账户 of an employee-scheme person; one per person. Rule (CHECK): the balance is never negative."""

    __tablename__ = "personal_account"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("status = 'open' OR (closed_on IS NOT NULL AND closed_reason IS NOT NULL AND balance = 0)",
                        name="closed_is_empty_and_dated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    opened_on: Mapped[date] = mapped_column(Date)
    # closed (销户) once its balance is paid out for good: death or settling abroad (一次性支取), with the case
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    # the closing withdrawal (死亡, 出国定居) that completed while money credited after its payment started was left
    # here: the account stays open until that money is withdrawn too (services/claims/effects.py), and finance lists
    # it on the payments page; cleared when the account closes
    closing_case_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"),
                                                       index=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    person: Mapped[Person] = relationship(back_populates="account")


class AccountTransaction(Base):
    """A movement on a personal account with the balance after it.

    Rules (CHECK): credits (期初结转, 划入, 转入) are positive and every other kind negative; the balance after
    a movement is never negative.
    """

    __tablename__ = "account_transaction"
    __table_args__ = (
        CheckConstraint(
            "(kind IN ('carried_forward', 'credit', 'transfer_in') AND amount > 0) "
            "OR (kind NOT IN ('carried_forward', 'credit', 'transfer_in') AND amount < 0)",
            name="amount_sign_by_kind",
        ),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_account_transaction_account_id_occurred_on", "account_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("personal_account.id", ondelete="CASCADE"))
    occurred_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[AccountTransactionKind] = mapped_column(text_enum(AccountTransactionKind, "kind"))
    balance_after: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(200))  # e.g. the pharmacy, or the month credited
    # the case that moved the money (a withdrawal's claim), if a case did
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"),
                                                       index=True)


class Benefit(Base):
    """A benefit standing (异地就医备案, 门诊慢特病, 特药, 生育, 长期护理...), written by the completion of the
    recognising case (``portal/services/benefits/records.py``) or brought over (demo data).

    ``item_code`` is the code of what was recognised (disease or drug code); ``detail`` is JSON text owned by
    the feature that writes the row (``name``: what was recognised; ``institutions``: the designated ones;
    ``until``: an end that is an event, not a date). Rule (CHECK): validity does not end before it starts.
    Whether it holds on a day is ``holds_on`` (status active and the day inside the validity).
    """

    __tablename__ = "benefit"
    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_until_after_from"),
        Index("ix_benefit_person_id_kind_status", "person_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[BenefitKind] = mapped_column(text_enum(BenefitKind, "kind"))
    item_code: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[BenefitStatus] = mapped_column(text_enum(BenefitStatus, "status"), default=BenefitStatus.ACTIVE)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # NULL = open-ended
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # the case whose completion wrote the record (NULL for records brought over from the old system, demo data)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"),
                                                       index=True)
    level: Mapped[str | None] = mapped_column(String(40))  # a graded benefit's grade, e.g. 长护 失能等级

    person: Mapped[Person] = relationship()

    @property
    def detail_data(self) -> dict[str, Any]:
        return json.loads(self.detail) if self.detail else {}

    @detail_data.setter
    def detail_data(self, value: dict[str, Any] | None) -> None:
        self.detail = self.dump_detail(value)

    @staticmethod
    def dump_detail(value: dict[str, Any] | None) -> str | None:
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None

    def holds_on(self, day: date) -> bool:
        """Active on ``day``: not revoked or replaced, and ``day`` inside valid_from..valid_until."""
        return (self.status is BenefitStatus.ACTIVE and self.valid_from <= day
                and (self.valid_until is None or day <= self.valid_until))
