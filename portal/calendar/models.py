"""Calendar data entered by the agency: imported yearly schedules and single-day overrides.

The State Council publishes next year's 放假安排 each November or December; until ``chinesecalendar`` catches
up, an administrator imports the notice (``CalendarSchedule``, one per year, with its text, who applied it and
when). Its days are rows of ``calendar_override`` that point at it; a row without a schedule is a single day
entered by hand. Either wins over the package for its day; only an imported schedule makes a year covered.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..core.db import Base


class CalendarSchedule(Base):
    """The official holiday schedule of one year, as imported (a notice's text, or a plain list of dates)."""

    __tablename__ = "calendar_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "notice" or "list" (CSV/YAML)
    source: Mapped[str] = mapped_column(String(200))  # what was imported: a file name, or "pasted on the screen"
    text: Mapped[str] = mapped_column(Text)  # the text as imported, kept to show what the days came from
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the resulting days: the same days import as a no-op
    holiday_count: Mapped[int] = mapped_column(Integer)
    workday_count: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(default=clock.now)
    applied_by: Mapped[str] = mapped_column(String(64))  # audit actor id, or "system" for the command line

    def __repr__(self) -> str:
        return f"<CalendarSchedule {self.year} {self.kind} {self.holiday_count}+{self.workday_count}>"


class CalendarOverride(Base):
    __tablename__ = "calendar_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64))  # e.g. 春节, 国庆节调休
    note: Mapped[str | None] = mapped_column(Text)  # e.g. the notice it comes from (国办发明电〔2026〕N号)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by: Mapped[str | None] = mapped_column(String(64))  # audit actor id, or None for the system
    # the imported schedule this day belongs to; None for a day entered by hand
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_schedule.id", ondelete="CASCADE"),
                                                    index=True)

    def __repr__(self) -> str:
        kind = "workday" if self.is_workday else "holiday"
        return f"<CalendarOverride {self.day.isoformat()} {kind} {self.name!r}>"
