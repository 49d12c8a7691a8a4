"""异地就医备案 records in the system of record: who may be treated where, from when, until when.

One row per filing. ``end_date`` NULL means valid until changed or cancelled (long-term filings where the
region sets no end). ``lock_until``: change and cancellation are refused before that date (a region may lock
them for up to 6 months). The phone and address at the destination are sealed. Rules (CHECK): the end is
not before the start; a self-service filing carries the hash of its commitment; an ended filing says when
and why. A person has at most one active long-term filing (partial unique index).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import Encrypted
from ..core.db import Base
from ..core.translation import lazy_gettext as _l


class FilingTerm(StrEnum):
    LONG_TERM = "long_term"  # 跨省异地长期居住人员
    TEMPORARY = "temporary"  # 跨省临时外出就医人员

    @property
    def label(self) -> str:
        return str(TERM_LABELS[self])


class FilingStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"  # its end date passed without an extension
    CANCELLED = "cancelled"  # by the insured person
    REVOKED = "revoked"  # post-hoc checking found the commitment false

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


TERM_LABELS = {FilingTerm.LONG_TERM: _l("Long-term"), FilingTerm.TEMPORARY: _l("Temporary")}
STATUS_LABELS = {
    FilingStatus.ACTIVE: _l("Valid"),
    FilingStatus.EXPIRED: _l("Expired"),
    FilingStatus.CANCELLED: _l("Cancelled"),
    FilingStatus.REVOKED: _l("Revoked after checking"),
}
_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in FilingStatus)
_TERM_VALUES = ", ".join(f"'{t.value}'" for t in FilingTerm)


class RemoteCareFiling(Base):
    """One 异地就医备案 of a person."""

    __tablename__ = "remote_care_filing"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        CheckConstraint(f"term IN ({_TERM_VALUES})", name="term"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint("NOT self_service OR commitment_hash IS NOT NULL", name="self_service_has_commitment"),
        CheckConstraint("status = 'active' OR (ended_on IS NOT NULL AND end_reason IS NOT NULL)",
                        name="ended_says_why"),
        Index("uq_remote_care_filing_one_long_term", "person_id", unique=True,
              sqlite_where=text("status = 'active' AND term = 'long_term'"),
              postgresql_where=text("status = 'active' AND term = 'long_term'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # 备案编号
    region: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(32))  # see services.remote_care.policy.CATEGORIES
    term: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=FilingStatus.ACTIVE.value, index=True)
    destination_code: Mapped[str] = mapped_column(String(6))  # GB/T 2260
    destination_name: Mapped[str] = mapped_column(String(100))  # e.g. 海南省 or 广东省广州市
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    lock_until: Mapped[date | None] = mapped_column(Date)
    care_address: Mapped[str | None] = mapped_column(Encrypted("remote_care_filing.care_address"))
    care_phone: Mapped[str | None] = mapped_column(Encrypted("remote_care_filing.care_phone"))
    self_service: Mapped[bool] = mapped_column(Boolean, default=False)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitment_signature.id", ondelete="SET NULL"))
    commitment_hash: Mapped[str | None] = mapped_column(String(64))
    emergency_on: Mapped[date | None] = mapped_column(Date)
    admitted_on: Mapped[date | None] = mapped_column(Date)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    history_json: Mapped[str] = mapped_column(Text, default="[]")  # changes and extensions, no personal data
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    person = relationship("Person")
    application = relationship("Application")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def status_enum(self) -> FilingStatus:
        return FilingStatus(self.status)

    @property
    def term_enum(self) -> FilingTerm:
        return FilingTerm(self.term)

    @property
    def is_active(self) -> bool:
        return self.status == FilingStatus.ACTIVE

    @property
    def history(self) -> list[dict[str, Any]]:
        return json.loads(self.history_json or "[]")

    def add_history(self, entry: dict[str, Any]) -> None:
        self.history_json = json.dumps([*self.history, entry], ensure_ascii=False, sort_keys=True, default=str)
