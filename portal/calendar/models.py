"""Calendar overrides: the official holiday schedule entered by staff when ``chinesecalendar`` lacks it.

The State Council publishes next year's 放假安排 each November or December; until the package catches up,
staff enter every holiday and every adjusted working day (调休) of that year here. An override wins over
the package for its day.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..core.db import Base


class CalendarOverride(Base):
    __tablename__ = "calendar_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64))  # e.g. 春节, 国庆节调休
    note: Mapped[str | None] = mapped_column(Text)  # e.g. the notice it comes from (国办发明电〔2026〕N号)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by: Mapped[str | None] = mapped_column(String(64))  # audit actor id, or None for the system

    def __repr__(self) -> str:
        kind = "workday" if self.is_workday else "holiday"
        return f"<CalendarOverride {self.day.isoformat()} {kind} {self.name!r}>"
