"""转移接续 between pooling areas: one ``transfer_case`` per transfer and side, with its events (the timeline).

The same ``transfer_id`` names the transfer in both areas' databases: the receiving area (转入地, ``side = 'in'``)
makes it when it issues the 联系函, the sending area (转出地, ``side = 'out'``) when the letter arrives. Each side keeps
its own dates and deadlines (in working days, from ``portal/calendar``) and what the messages carried: the letter's
number, the person (sealed, with a blind index), the 参保凭证 by reference, the 信息表's periods, months and balance,
the funds transferred. Rules (CHECK): money is never negative; a completed or rejected case says when.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...core import clock
from ...core.crypto import BlindIndex, Encrypted
from ...core.db import Base
from ...core.translation import lazy_gettext as _l
from ...insurance.models import Money


class Side(StrEnum):
    IN = "in"  # 转入地: accepts the application, issues the 联系函, credits and completes
    OUT = "out"  # 转出地: receives the letter, issues the 信息表 and transfers the funds, closes the enrolment


class TransferState(StrEnum):
    """in:  letter_sent → sheet_received / funds_received → ready → completed   (or rejected)
    out: letter_received → sheet_sent → closed                                  (or rejected)"""

    LETTER_SENT = "letter_sent"
    SHEET_RECEIVED = "sheet_received"  # the 信息表 is here, the funds not yet
    FUNDS_RECEIVED = "funds_received"  # the funds are here, the 信息表 not yet
    READY = "ready"  # both are here: the receiving area completes within 5 working days
    COMPLETED = "completed"
    LETTER_RECEIVED = "letter_received"
    SHEET_SENT = "sheet_sent"  # 信息表 sent and funds transferred
    CLOSED = "closed"  # the receiving area completed; the enrolment here is closed
    REJECTED = "rejected"  # the letter could not be acted on (person not found, arrears …)

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    TransferState.LETTER_SENT: _l("联系函 sent; waiting for the 信息表 and the funds"),
    TransferState.SHEET_RECEIVED: _l("信息表 received; waiting for the funds"),
    TransferState.FUNDS_RECEIVED: _l("Funds received; waiting for the 信息表"),
    TransferState.READY: _l("信息表 and funds received; to be completed"),
    TransferState.COMPLETED: _l("Completed: history and balance credited"),
    TransferState.LETTER_RECEIVED: _l("联系函 received; 信息表 and funds to be sent"),
    TransferState.SHEET_SENT: _l("信息表 sent and funds transferred; waiting for completion"),
    TransferState.CLOSED: _l("Closed: the enrolment here has ended"),
    TransferState.REJECTED: _l("Rejected"),
}
_STATES = ", ".join(f"'{s.value}'" for s in TransferState)


class TransferCase(Base):
    """One transfer as one side sees it."""

    __tablename__ = "transfer_case"
    __table_args__ = (
        UniqueConstraint("transfer_id", "side"),
        CheckConstraint("side IN ('in', 'out')", name="side"),
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        CheckConstraint("account_balance IS NULL OR account_balance >= 0", name="balance_not_negative"),
        CheckConstraint("funds_amount IS NULL OR funds_amount >= 0", name="funds_not_negative"),
        CheckConstraint("state NOT IN ('completed', 'closed') OR completed_on IS NOT NULL", name="completed_has_date"),
        CheckConstraint("state <> 'rejected' OR (rejected_on IS NOT NULL AND reject_reason IS NOT NULL)",
                        name="rejected_says_why"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(32), index=True)
    side: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20), index=True)
    region: Mapped[str] = mapped_column(String(16))
    other_area: Mapped[str] = mapped_column(String(6))  # the other side's 统筹区 code
    other_area_name: Mapped[str] = mapped_column(String(100), default="")
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"),
                                                       index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    person_name: Mapped[str] = mapped_column(Encrypted("transfer_case.person_name"))
    id_number: Mapped[str] = mapped_column(Encrypted("transfer_case.id_number"))
    id_number_index: Mapped[str] = mapped_column(BlindIndex, index=True)
    insurance_type: Mapped[str] = mapped_column(String(32))
    transfer_account: Mapped[bool] = mapped_column(default=True)
    certificate_code: Mapped[str | None] = mapped_column(Encrypted("transfer_case.certificate_code"))
    letter_number: Mapped[str] = mapped_column(String(60))
    letter_message_id: Mapped[str | None] = mapped_column(String(32))
    sheet_number: Mapped[str | None] = mapped_column(String(60))
    # the dates of each step and the deadlines they set (working days from the calendar)
    accepted_on: Mapped[date | None] = mapped_column(Date)  # in: the application's acceptance
    letter_due: Mapped[date | None] = mapped_column(Date)  # in: accepted + 5
    letter_on: Mapped[date | None] = mapped_column(Date)  # in: sent; out: received
    sheet_due: Mapped[date | None] = mapped_column(Date)  # out: received + 10
    sheet_on: Mapped[date | None] = mapped_column(Date)  # out: sent; in: received
    funds_on: Mapped[date | None] = mapped_column(Date)  # out: transferred; in: received
    complete_due: Mapped[date | None] = mapped_column(Date)  # in: both received + 5
    completed_on: Mapped[date | None] = mapped_column(Date)
    rejected_on: Mapped[date | None] = mapped_column(Date)
    reject_code: Mapped[str | None] = mapped_column(String(24))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # what the 信息表 and the fund transfer carried
    periods_json: Mapped[str] = mapped_column(Text, default="[]")
    contribution_months: Mapped[int | None] = mapped_column(Integer)
    account_balance: Mapped[Decimal | None] = mapped_column(Money)
    funds_amount: Mapped[Decimal | None] = mapped_column(Money)
    funds_reference: Mapped[str | None] = mapped_column(String(60))
    credited_months: Mapped[int | None] = mapped_column(Integer)  # in: months added to the records at completion
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list[TransferEvent]] = relationship(back_populates="case", order_by="TransferEvent.id",
                                                       cascade="all, delete-orphan")
    application = relationship("Application")
    person = relationship("Person")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def state_enum(self) -> TransferState:
        return TransferState(self.state)

    @property
    def periods(self) -> list[dict[str, Any]]:
        return json.loads(self.periods_json or "[]")

    @periods.setter
    def periods(self, value: list[dict[str, Any]]) -> None:
        self.periods_json = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @property
    def due(self) -> date | None:
        """The deadline of the step this side owes now, if any."""
        if self.state_enum is TransferState.LETTER_RECEIVED:
            return self.sheet_due
        if self.state_enum in (TransferState.READY, TransferState.SHEET_RECEIVED, TransferState.FUNDS_RECEIVED):
            return self.complete_due
        return None


class TransferEvent(Base):
    """One step of a transfer as this side saw it (no personal data: numbers, dates, amounts, codes)."""

    __tablename__ = "transfer_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("transfer_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    what: Mapped[str] = mapped_column(String(32))
    detail_json: Mapped[str] = mapped_column(Text, default="{}")

    case: Mapped[TransferCase] = relationship(back_populates="events")

    @property
    def detail(self) -> dict[str, Any]:
        return json.loads(self.detail_json or "{}")
