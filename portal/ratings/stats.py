"""Satisfaction statistics for supervisors, as SQL aggregates: per item, per agency, per member of staff, per
month; and whether bad ratings were rectified on time.

Satisfaction (满意率) counts 非常满意, 满意 and 基本满意 over all ratings; the mean score runs 5 (非常满意) … 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from ..accounts.models import Account
from ..core import clock
from ..core.db import db
from .constants import RectState
from .models import Rating, RatingStaff, Rectification


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int
    mean_score: float
    satisfied: int  # 非常满意 + 满意 + 基本满意
    bad: int  # 不满意 + 非常不满意

    @property
    def satisfaction(self) -> float:
        return self.satisfied / self.count if self.count else 0.0


def _measures() -> list[Any]:
    return [func.count(Rating.id), func.avg(Rating.score), func.sum(case((Rating.score >= 3, 1), else_=0)),
            func.sum(case((Rating.score <= 2, 1), else_=0))]


def _rows(result: Any) -> list[Row]:
    return [Row(str(key), str(label or key), int(n), round(float(mean or 0), 2), int(good or 0), int(bad or 0))
            for key, label, n, mean, good, bad in result]


def _since(query: Any, since: str | None) -> Any:
    return query.where(Rating.rated_month >= since) if since else query


def by_item(since: str | None = None) -> list[Row]:
    query = select(Rating.item_code, func.max(Rating.item_name), *_measures()).group_by(Rating.item_code)
    return _rows(db.session.execute(_since(query, since).order_by(func.count(Rating.id).desc(), Rating.item_code)))


def by_agency(since: str | None = None) -> list[Row]:
    query = select(Rating.agency, Rating.agency, *_measures()).group_by(Rating.agency)
    return _rows(db.session.execute(_since(query, since).order_by(Rating.agency)))


def by_staff(since: str | None = None) -> list[Row]:
    query = (select(Account.username, func.max(Account.display_name), *_measures())
             .join(RatingStaff, RatingStaff.rating_id == Rating.id).join(Account, Account.id == RatingStaff.staff_id)
             .group_by(Account.username))
    return _rows(db.session.execute(_since(query, since).order_by(Account.username)))


def by_month(since: str | None = None) -> list[Row]:
    query = select(Rating.rated_month, Rating.rated_month, *_measures()).group_by(Rating.rated_month)
    return _rows(db.session.execute(_since(query, since).order_by(Rating.rated_month)))


@dataclass(frozen=True)
class RectificationFigures:
    opened: int
    closed: int
    closed_on_time: int
    open_overdue: int
    substantiated: int

    @property
    def on_time_rate(self) -> float:
        return self.closed_on_time / self.closed if self.closed else 0.0


def rectification_figures(today: date | None = None) -> RectificationFigures:
    today = today or clock.today()
    closed = Rectification.state == RectState.CLOSED.value
    row = db.session.execute(select(
        func.count(Rectification.id),
        func.sum(case((closed, 1), else_=0)),
        func.sum(case((closed & (Rectification.closed_on <= Rectification.due_date), 1), else_=0)),
        func.sum(case((~closed & (Rectification.due_date < today), 1), else_=0)),
        func.sum(case((Rectification.is_substantiated.is_(True), 1), else_=0)),
    )).one()
    return RectificationFigures(*(int(v or 0) for v in row))
