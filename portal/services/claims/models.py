"""Claims, their invoices, payments and payment batches.

A ``Claim`` keeps what the calculation said (amount, working, policy version) and what the reviewer decided
(amount, by whom, when, and why when it differs): both stay. ``ClaimInvoice`` rows hold the invoice numbers so a
number claimed twice is found. A ``Payment`` is the money order of an approved claim, with the payee sealed as it
was when payment started (a person's account, or a designated institution's settlement account for a claim of
kind ``settlement``: ``payee_kind``); it is exported in a ``PaymentBatch`` (拨付批次) and marked paid or failed from the
bank's return file. Money is ``Numeric(14, 2)`` yuan (CHECK: never negative; a payment is more than zero).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...core import clock
from ...core.crypto import Encrypted
from ...core.db import Base

Money = Numeric(14, 2, asdecimal=True)
PAYMENT_STATES = ("pending", "exported", "paid", "failed", "cancelled")
PAYEE_KINDS = ("person", "institution")  # a person's bank account (对私) or an institution's settlement account (对公)


class Claim(Base):
    __tablename__ = "claim"
    __table_args__ = (
        CheckConstraint("computed_amount IS NULL OR computed_amount >= 0", name="computed_not_negative"),
        CheckConstraint("decided_amount IS NULL OR decided_amount > 0", name="decided_positive"),
        CheckConstraint("decided_amount IS NULL OR computed_amount IS NULL OR decided_amount = computed_amount "
                        "OR adjust_reason IS NOT NULL", name="adjustment_has_reason"),
        CheckConstraint("late_accepted_at IS NULL OR (late_accepted_reason IS NOT NULL AND late_deadline IS NOT NULL)",
                        name="late_acceptance_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    benefit_year: Mapped[int | None] = mapped_column(Integer)  # the year of care (封顶线 counts per year)
    scheme: Mapped[str | None] = mapped_column(String(24))  # the policy table used (employee_medical, maternity …)
    computed_amount: Mapped[Decimal | None] = mapped_column(Money)
    working_json: Mapped[str] = mapped_column(Text, default="[]")
    policy_ref: Mapped[str | None] = mapped_column(String(40))
    computed_at: Mapped[datetime | None]
    decided_amount: Mapped[Decimal | None] = mapped_column(Money)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[datetime | None]
    adjust_reason: Mapped[str | None] = mapped_column(Text)
    # filed after the seed's claim deadline (逾期): the deadline missed, the claimant's reason, and the acceptor's
    # decision to accept it for 不可抗力 (who, when, why); a late claim is accepted only with that decision
    late_deadline: Mapped[date | None] = mapped_column(Date)
    late_reason: Mapped[str | None] = mapped_column(Text)
    late_accepted_reason: Mapped[str | None] = mapped_column(Text)
    late_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    late_accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    application = relationship("Application")
    late_accepted_by = relationship("Account", foreign_keys=[late_accepted_by_id])
    invoices: Mapped[list[ClaimInvoice]] = relationship(back_populates="claim", cascade="all, delete-orphan",
                                                        order_by="ClaimInvoice.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="claim", order_by="Payment.id")

    @property
    def working(self) -> list[dict[str, Any]]:
        return json.loads(self.working_json or "[]")

    @property
    def payment(self) -> Payment | None:
        """The payment in force: the latest one not cancelled."""
        return next((p for p in reversed(self.payments) if p.state != "cancelled"), None)


class ClaimInvoice(Base):
    __tablename__ = "claim_invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(64), index=True)  # normalised: no spaces, upper case
    issued_on: Mapped[date | None] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money)

    claim: Mapped[Claim] = relationship(back_populates="invoices")


class PaymentBatch(Base):
    """拨付批次: payments exported together to the bank, with their count, total and the file's checksum."""

    __tablename__ = "payment_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    line_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    file_format: Mapped[str] = mapped_column(String(8))
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256 of the lines, printed in the file's trailer
    returned_at: Mapped[datetime | None]

    payments: Mapped[list[Payment]] = relationship(back_populates="batch", order_by="Payment.id")


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ({})".format(", ".join(f"'{s}'" for s in PAYMENT_STATES)), name="state"),
        CheckConstraint("state != 'failed' OR failure_reason IS NOT NULL", name="failure_has_reason"),
        CheckConstraint("payee_kind IN ('person', 'institution')", name="payee_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    payee_name: Mapped[str] = mapped_column(Encrypted("payment.payee_name"))
    payee_bank: Mapped[str] = mapped_column(Encrypted("payment.payee_bank"))
    payee_account: Mapped[str] = mapped_column(Encrypted("payment.payee_account"))
    payee_kind: Mapped[str] = mapped_column(String(16), default="person", server_default="person")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payment_batch.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    paid_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)
    bank_reference: Mapped[str | None] = mapped_column(String(64))

    claim: Mapped[Claim] = relationship(back_populates="payments")
    batch: Mapped[PaymentBatch | None] = relationship(back_populates="payments")
