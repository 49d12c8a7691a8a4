"""What a completed case changed in the system of record, kept so post-hoc checking can undo exactly that.

A handler that changes the records at completion writes one ``CaseEffect`` row listing its steps (rows it
created, fields it changed with their values before and after, history rows it appended). Revoking walks
the steps backwards and refuses when the records have moved on since (someone else changed the same row),
so a revocation never overwrites a later, legitimate change. The steps hold row ids and enumerated values,
never personal data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
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
