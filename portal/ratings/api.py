"""``/api/v1/applications/<id>/rating``: the mini-program reads and gives (or changes) the rating of a completed
case, and reads the follow-up of a bad one. Same operations as the rating page."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from ..api import current_account, endpoint
from ..applications import operations as case_ops
from ..applications.permissions import is_applicant
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import NotFound
from ..core.translation import gettext as _
from . import operations
from .constants import Level, Stage

TAGS = ("ratings",)
MAX_ID = 2**31 - 1


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: Level = Field(description="very_satisfied, satisfied, basically_satisfied, dissatisfied, very_dissatisfied")
    stages: dict[Stage, Level] = Field(default_factory=dict, description="Optional: acceptance, review, completion")
    comment: str = Field(default="", max_length=2000, description="Required for the two bad levels")


class RectificationOut(BaseModel):
    state: str
    state_label: str
    due_date: date
    is_substantiated: bool | None
    check_note: str | None
    rectify_note: str | None
    followup_note: str | None
    closed_on: date | None


class RatingOut(BaseModel):
    can_rate: bool
    reason: str | None = Field(description="Why the case cannot be rated (now), if it cannot")
    level: str | None = None
    level_label: str | None = None
    stages: dict[str, str] = Field(default_factory=dict)
    comment: str | None = None
    rated_at: datetime | None = None
    changeable_until: datetime | None = None
    rectification: RectificationOut | None = None


def _case(case_id: int):
    account = current_account()
    case = case_ops.get_case(case_id, for_account=account) if 0 < case_id <= MAX_ID else None
    if case is None or not is_applicant(account, case):
        raise NotFound(_("No such application."))
    return case


def to_api(case, account) -> RatingOut:
    rating = operations.rating_of(case)
    reason = operations.cannot_rate(account, case)
    out = RatingOut(can_rate=reason is None, reason=reason)
    if rating is None:
        return out
    out.level, out.level_label, out.comment = rating.level, rating.level_enum.label, rating.comment
    out.rated_at, out.changeable_until = rating.rated_at, rating.changeable_until
    out.stages = {s.value: getattr(rating, f"{s.value}_level") for s in Stage if getattr(rating, f"{s.value}_level")}
    rect = rating.rectification
    if rect is not None:
        out.rectification = RectificationOut(
            state=rect.state, state_label=rect.state_enum.label, due_date=rect.due_date,
            is_substantiated=rect.is_substantiated, check_note=rect.check_note, rectify_note=rect.rectify_note,
            followup_note=rect.followup_note, closed_on=rect.closed_on)
    return out


@endpoint("/applications/<int:case_id>/rating", summary="The rating of my case, and the follow-up of a bad one",
          tags=TAGS, response=RatingOut, errors=(404,))
def api_rating(case_id: int) -> RatingOut:
    return to_api(_case(case_id), current_account())


@endpoint("/applications/<int:case_id>/rating", method="PUT", summary="Rate my completed case (or change the rating)",
          tags=TAGS, body=RatingIn, response=RatingOut, errors=(404, 409, 422))
def api_rate(case_id: int, body: RatingIn) -> RatingOut:
    account = current_account()
    case = _case(case_id)
    data = operations.RatingInput(body.level.value, {k.value: v.value for k, v in body.stages.items()}, body.comment)
    try:
        operations.rate_case(case, data, by=account, actor=actor_of(account))
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return to_api(case, account)
