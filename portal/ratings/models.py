"""Ratings of cases, the staff each rating concerns, and the rectification a bad rating opens.

``score`` (5 … 1), ``rated_month`` (local ``YYYY-MM``) and ``closed_on`` are kept beside what they derive from,
so the supervisors' statistics are plain SQL aggregates on every engine. The comment is the rater's own words
and may name people: it is sealed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import Encrypted
from ..core.db import Base
from .constants import Level, RectState, Response

_LEVELS = ", ".join(f"'{v.value}'" for v in Level)
_RECT = ", ".join(f"'{v.value}'" for v in RectState)
_RESP = ", ".join(f"'{v.value}'" for v in Response)


class Rating(Base):
    """One rating per case (unique), changeable by the rater until ``changeable_until``."""

    __tablename__ = "rating"
    __table_args__ = (
        CheckConstraint(f"level IN ({_LEVELS})", name="level"),
        CheckConstraint(f"acceptance_level IS NULL OR acceptance_level IN ({_LEVELS})", name="acceptance_level"),
        CheckConstraint(f"review_level IS NULL OR review_level IN ({_LEVELS})", name="review_level"),
        CheckConstraint(f"completion_level IS NULL OR completion_level IN ({_LEVELS})", name="completion_level"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    level: Mapped[str] = mapped_column(String(24))
    score: Mapped[int] = mapped_column(Integer)
    acceptance_level: Mapped[str | None] = mapped_column(String(24))
    review_level: Mapped[str | None] = mapped_column(String(24))
    completion_level: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Encrypted("rating.comment"))
    item_code: Mapped[str] = mapped_column(String(40), index=True)
    item_name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(200), index=True)  # the accepting agency of the item when rated
    rated_at: Mapped[datetime] = mapped_column(default=clock.now)
    rated_month: Mapped[str] = mapped_column(String(7), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    changeable_until: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    staff: Mapped[list[RatingStaff]] = relationship(cascade="all, delete-orphan")
    application = relationship("Application")
    account = relationship("Account")
    rectification: Mapped[Rectification | None] = relationship(back_populates="rating", uselist=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def level_enum(self) -> Level:
        return Level(self.level)


class RatingStaff(Base):
    """A member of staff who handled the rated case (an event's actor, or its assignee)."""

    __tablename__ = "rating_staff"

    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, index=True)

    account = relationship("Account")


class Rectification(Base):
    """整改 of a bad rating: checked (属实 / 不属实), rectified when true, followed up with the rater, closed."""

    __tablename__ = "rectification"
    __table_args__ = (
        CheckConstraint(f"state IN ({_RECT})", name="state"),
        CheckConstraint(f"response IS NULL OR response IN ({_RESP})", name="response"),
        CheckConstraint("state = 'open' OR is_substantiated IS NOT NULL", name="checked_has_finding"),
        CheckConstraint("state <> 'closed' OR (closed_on IS NOT NULL AND followup_note IS NOT NULL)",
                        name="closed_was_followed_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id", ondelete="CASCADE"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=RectState.OPEN.value, index=True)
    opened_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_date: Mapped[date] = mapped_column(Date)
    is_substantiated: Mapped[bool | None] = mapped_column(Boolean)
    check_note: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    rectify_note: Mapped[str | None] = mapped_column(Text)
    rectified_at: Mapped[datetime | None]
    rectified_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    followup_note: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(String(16))
    followed_up_at: Mapped[datetime | None]
    followed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    rating: Mapped[Rating] = relationship(back_populates="rectification")
    application = relationship("Application")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def state_enum(self) -> RectState:
        return RectState(self.state)

    @property
    def is_on_time(self) -> bool | None:
        """Closed by its due date; None while open."""
        return None if self.closed_on is None else self.closed_on <= self.due_date
