"""Post-hoc checking (事后核查) of commitment-based cases: rates per item, draws, and the checks they pick.

A draw is recorded in full (who drew, when, the seed, the rate of each item, the population and the picks)
so anyone can re-run it and get the same picks. Each pick is a ``SamplingCheck`` that a reviewer concludes:
confirmed, or the commitment was false (then the case's effect is revoked). Rules (CHECK): rates are
percentages 0–100; a concluded check has a time; a false commitment has its reason; a case is drawn once.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.db import Base
from ..core.translation import lazy_gettext as _l


class Outcome(StrEnum):
    PENDING = "pending"  # 待核查
    CONFIRMED = "confirmed"  # 核查属实
    FALSE_COMMITMENT = "false_commitment"  # 承诺不实

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    Outcome.PENDING: _l("Waiting to be checked"),
    Outcome.CONFIRMED: _l("Confirmed"),
    Outcome.FALSE_COMMITMENT: _l("Commitment found false"),
}


class SamplingRate(Base):
    """The share (percent) of an item's commitment-based cases that a draw picks, as the region sets it."""

    __tablename__ = "sampling_rate"
    __table_args__ = (
        UniqueConstraint("region", "item_code"),
        CheckConstraint("rate_percent BETWEEN 0 AND 100", name="rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    item_code: Mapped[str] = mapped_column(String(40))
    rate_percent: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class SamplingDraw(Base):
    """One reproducible draw over the cases completed in a period."""

    __tablename__ = "sampling_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))  # NULL: the command line
    drawn_by_label: Mapped[str] = mapped_column(String(64))  # the staff username, or "cli:<os user>"
    drawn_at: Mapped[datetime] = mapped_column(default=clock.now)
    seed: Mapped[str] = mapped_column(String(64))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    rates_json: Mapped[str] = mapped_column(Text, default="{}")  # {item code: percent}
    population_json: Mapped[str] = mapped_column(Text, default="{}")  # {item code: [case ids, ascending]}
    picks_json: Mapped[str] = mapped_column(Text, default="{}")  # {item code: [case ids picked]}

    checks: Mapped[list[SamplingCheck]] = relationship(back_populates="draw", order_by="SamplingCheck.id")

    @property
    def rates(self) -> dict[str, int]:
        return json.loads(self.rates_json or "{}")

    @property
    def population(self) -> dict[str, list[int]]:
        return json.loads(self.population_json or "{}")

    @property
    def picks(self) -> dict[str, list[int]]:
        return json.loads(self.picks_json or "{}")

    def store(self, rates: dict[str, int], population: dict[str, list[int]], picks: dict[str, list[int]]) -> None:
        dump = lambda value: json.dumps(value, sort_keys=True)  # noqa: E731
        self.rates_json, self.population_json, self.picks_json = dump(rates), dump(population), dump(picks)


class SamplingCheck(Base):
    """One drawn case and what checking it found."""

    __tablename__ = "sampling_check"
    __table_args__ = (
        UniqueConstraint("application_id"),
        CheckConstraint("outcome IN ('pending', 'confirmed', 'false_commitment')", name="outcome"),
        CheckConstraint("outcome = 'pending' OR decided_at IS NOT NULL", name="decided_has_time"),
        CheckConstraint("outcome <> 'false_commitment' OR reason IS NOT NULL", name="false_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sampling_draw.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(24), default=Outcome.PENDING.value, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # told to the applicant when the commitment was false
    note: Mapped[str | None] = mapped_column(Text)  # internal: what was checked and how
    version: Mapped[int] = mapped_column(Integer, default=1)  # two staff concluding at once: one wins

    draw: Mapped[SamplingDraw] = relationship(back_populates="checks")
    application = relationship("Application")
    decided_by = relationship("Account", foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)

    @property
    def outcome_enum(self) -> Outcome:
        return Outcome(self.outcome)

    def summary(self) -> dict[str, Any]:
        return {"draw": self.draw_id, "case": self.application_id, "outcome": self.outcome}
