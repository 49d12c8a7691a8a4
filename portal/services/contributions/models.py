"""A person's declared contribution base (缴费基数) for a year, as the unit declared it in 缴费基数申报."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...core import clock
from ...core.db import Base
from ...insurance.models import Money
from ..effects import MODELS


class DeclaredBase(Base):
    """One person's monthly contribution base for one year (one row per person and year: the newest declaration);
    ``application_id`` is the case that declared it. Rule (CHECK): the base is positive."""

    __tablename__ = "declared_base"
    __table_args__ = (
        UniqueConstraint("person_id", "year"),
        CheckConstraint("base > 0", name="base_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    base: Mapped[Decimal] = mapped_column(Money)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"))
    declared_at: Mapped[datetime] = mapped_column(default=clock.now)


MODELS[DeclaredBase.__tablename__] = DeclaredBase  # the ledger of a case's effect can undo what it wrote here
