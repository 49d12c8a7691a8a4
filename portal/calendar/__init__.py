"""Working days of mainland China: holidays, 调休 and staff overrides (see ``engine``)."""

from .engine import (
    Coverage,
    DayInfo,
    Deadline,
    Source,
    add_working_days,
    calendar_warnings,
    coverage,
    day_info,
    deadline,
    due_date,
    is_workday,
    next_working_day,
    working_days_between,
)

__all__ = [
    "Coverage",
    "DayInfo",
    "Deadline",
    "Source",
    "add_working_days",
    "calendar_warnings",
    "coverage",
    "day_info",
    "deadline",
    "due_date",
    "is_workday",
    "next_working_day",
    "working_days_between",
]
