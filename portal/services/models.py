"""What a completed case changed in the system of record, kept so post-hoc checking can undo exactly that.

A handler that changes the records at completion writes one ``CaseEffect`` row listing its steps (rows it
created, fields it changed with their values before and after, history rows it appended). Revoking walks
the steps backwards and refuses when the records have moved on since (someone else changed the same row),
so a revocation never overwrites a later, legitimate change. The steps hold row ids and enumerated values,
never personal data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..core.db import Base


class CaseEffect(Base):
    __tablename__ = "case_effect"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    handler: Mapped[str] = mapped_column(String(64))
    steps_json: Mapped[str] = mapped_column(Text, default="[]")
    applied_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def steps(self) -> list[dict[str, Any]]:
        return json.loads(self.steps_json or "[]")

    @steps.setter
    def steps(self, value: list[dict[str, Any]]) -> None:
        self.steps_json = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class CareAssessment(Base):
    """The 长期护理 assessment of a case (长期护理保险评估认定): the score of each item of the
    《长期护理保险日常生活活动能力评定量表》, the total and the 失能等级 it falls in (``long_term_care/scale.py``).

    Staff enter it in the workbench after the on-site assessment (seed 4.3.2); entering it again replaces it until
    the case is decided. Approval needs one; completion writes the level into the person's benefit record. Scores
    and levels are assessment data, not personal numbers; who entered it and when is kept (and audited).
    Rule (CHECK): the total is within the scale's 0..100.
    """

    __tablename__ = "care_assessment"
    __table_args__ = (CheckConstraint("total >= 0 AND total <= 100", name="total_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    scores_json: Mapped[str] = mapped_column(Text, default="{}")
    total: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))  # the band's key: severe, moderate, mild, none
    assessed_on: Mapped[date] = mapped_column(Date)  # 评估日期
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    entered_at: Mapped[datetime] = mapped_column(default=clock.now)

    @property
    def scores(self) -> dict[str, int]:
        return json.loads(self.scores_json or "{}")

    @scores.setter
    def scores(self, value: dict[str, int]) -> None:
        self.scores_json = json.dumps(value, sort_keys=True)
