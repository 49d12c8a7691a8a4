"""The system of record: insured persons, units, enrolments, contributions, accounts, benefits.

身份证 and phone numbers are stored sealed (``Encrypted``) with a keyed blind index for exact lookup.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted, blind_index
from ..core.db import Base


def id_number_index(id_number: str) -> str:
    """Blind index of a normalised (18-digit, upper-case X) 身份证 number."""
    return blind_index(id_number.strip().upper(), "id_number")


def phone_index(phone: str) -> str:
    return blind_index(phone.strip(), "phone")


class Unit(Base):
    """A 参保单位, keyed by its 统一社会信用代码."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 单位编号 given by the agency
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    persons: Mapped[list[Person]] = relationship(back_populates="unit")


class Person(Base):
    """An insured person (参保人员)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    insured_no: Mapped[str] = mapped_column(String(20), unique=True)  # 个人编号 / 医保号
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(Encrypted("person.id_number"))
    id_number_index: Mapped[str] = mapped_column(BlindIndex, unique=True)
    gender: Mapped[str] = mapped_column(String(1))  # M / F
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(Encrypted("person.phone"))
    phone_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    unit: Mapped[Unit | None] = relationship(back_populates="persons")

    def set_id_number(self, id_number: str) -> None:
        self.id_number = id_number.strip().upper()
        self.id_number_index = id_number_index(self.id_number)

    def set_phone(self, phone: str | None) -> None:
        self.phone = phone
        self.phone_index = phone_index(phone) if phone else None
