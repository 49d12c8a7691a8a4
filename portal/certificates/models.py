"""Issued certificates.

A certificate keeps the facts it printed (``facts_json``, sealed: names and the holder's records as of the
issue date), so a reprint shows the same thing and the verification page can confirm exactly what was
issued. The verification code is sealed too, with a keyed blind index for the public lookup. Rules (CHECK):
a certificate belongs to a person or to a unit, not both; a superseded one names its successor; a revoked one
has a revocation time. Numbers are unique per pooling area and year.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted
from ..core.db import Base
from .constants import CertificateKind, CertificateStatus


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("pool_code", "year", "serial"),
        CheckConstraint("(person_id IS NULL) <> (unit_id IS NULL)", name="one_holder"),
        CheckConstraint("kind IN ('person_voucher', 'person_proof', 'unit_proof')", name="kind"),
        CheckConstraint("status IN ('valid', 'superseded', 'revoked')", name="status"),
        CheckConstraint("status <> 'superseded' OR superseded_by_id IS NOT NULL", name="superseded_has_successor"),
        CheckConstraint("status <> 'revoked' OR revoked_at IS NOT NULL", name="revoked_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    number: Mapped[str] = mapped_column(String(80), unique=True)  # (省份)(统筹区)(年份)(第XXXX号)
    pool_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(Encrypted("certificate.code"))
    code_index: Mapped[str] = mapped_column(BlindIndex, unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    region: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.VALID.value)
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    facts_json: Mapped[str] = mapped_column(Encrypted("certificate.facts"))

    application = relationship("Application")

    @property
    def kind_enum(self) -> CertificateKind:
        return CertificateKind(self.kind)

    @property
    def status_enum(self) -> CertificateStatus:
        return CertificateStatus(self.status)

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.facts_json)

    @facts.setter
    def facts(self, value: dict[str, Any]) -> None:
        self.facts_json = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
