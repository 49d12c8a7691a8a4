"""Commitment texts as signed (one row per version) and the signatures given on them.

The text row keeps the exact words of a version with their SHA-256; a signature keeps the name typed, the
time, the filed data as canonical JSON (sealed: it holds phones and addresses) and the SHA-256 over all of
it. Rules (CHECK): a signature exists only with the explicit consent ticked; it is kept until
``retain_until``, at least two years after signing (S17), which the purge honours.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import Encrypted
from ..core.db import Base


class CommitmentTextRecord(Base):
    """One version of a commitment text, stored the first time somebody signs it, never changed after."""

    __tablename__ = "commitment_text"
    __table_args__ = (UniqueConstraint("version", name="version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CommitmentSignature(Base):
    """A person's signature on one text version over the data they filed."""

    __tablename__ = "commitment_signature"
    __table_args__ = (
        CheckConstraint("consent = true", name="consent_given"),
        CheckConstraint("retain_until >= signed_on", name="retained_after_signing"),
        UniqueConstraint("hash", name="hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("commitment_text.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    # the case the commitment was filed with; a purged case leaves the commitment in place (S17)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"), index=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    signed_name: Mapped[str] = mapped_column(Encrypted("commitment_signature.signed_name"))
    signed_at: Mapped[datetime] = mapped_column(default=clock.now)
    signed_on: Mapped[date] = mapped_column(Date)  # local date of signing, for retention
    data_json: Mapped[str] = mapped_column(Encrypted("commitment_signature.data"))  # canonical JSON
    hash: Mapped[str] = mapped_column(String(64))
    retain_until: Mapped[date] = mapped_column(Date, index=True)

    text: Mapped[CommitmentTextRecord] = relationship(lazy="joined")
