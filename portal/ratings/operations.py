"""Rating a case and working the rectification of a bad rating. Operations flush, never commit.

- ``rate_case``: the applicant of a completed case rates it once (all five levels, optionally each stage, a
  comment); the rating can be changed until ``PORTAL_RATING_CHANGE_DAYS`` after it was first given. A bad
  rating (不满意, 非常不满意) opens a rectification due within ``PORTAL_RECTIFICATION_WORKING_DAYS`` working
  days, and tells the section chiefs in their inbox.
- ``check_rectification`` (核实: 属实 / 不属实), ``rectify`` (整改, only when 属实) and ``follow_up`` (回访) move
  the rectification through ``RECT_TRANSITIONS``; the follow-up tells the rater the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import Account, AccountKind, Role
from ..applications.models import Application
from ..applications.permissions import is_applicant
from ..calendar import add_working_days
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from ..core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..core.translation import gettext as _
from ..notifications import notify
from ..notifications.constants import Channel, Event
from ..notifications.receivers import item_names
from .constants import (
    RATABLE_STATES,
    RATING_CHANGE_DAYS,
    RECT_TRANSITIONS,
    RECTIFICATION_WORKING_DAYS,
    Level,
    RectAction,
    RectState,
    Response,
    Stage,
)
from .models import Rating, RatingStaff, Rectification

MAX_NOTE = 2000


@dataclass(frozen=True)
class RatingInput:
    level: str
    stages: dict[str, str] = field(default_factory=dict)  # Stage value → Level value; stages left out are unrated
    comment: str = ""


@dataclass(frozen=True)
class CheckInput:
    substantiated: bool | None
    note: str


@dataclass(frozen=True)
class FollowUpInput:
    note: str
    response: str


def _flush() -> None:
    """Flush; a concurrent change (version counter) or a second first rating of one case (unique) is a Conflict."""
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        db.session.rollback()
        raise Conflict(_("Someone else changed this a moment ago. Reload the page to see where it stands.")) from error


def _days(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


# --- rating --------------------------------------------------------------------------------------------


def rating_of(case: Application) -> Rating | None:
    return db.session.execute(select(Rating).where(Rating.application_id == case.id)).scalar_one_or_none()


def cannot_rate(account: Any, case: Application) -> str | None:
    """Why ``account`` cannot rate ``case`` (now), or None."""
    if not is_applicant(account, case):
        return _("Only the applicant can rate this application.")
    if case.state not in RATABLE_STATES:
        return _("An application can be rated once it is completed.")
    rating = rating_of(case)
    if rating is not None and clock.now() > rating.changeable_until:
        return _("The rating can no longer be changed: it could be changed until %(date)s.",
                 date=clock.to_local(rating.changeable_until).strftime("%Y-%m-%d"))
    return None


def _clean(data: RatingInput) -> tuple[Level, dict[Stage, Level], str | None]:
    reasons: list[tuple[str | None, str]] = []
    try:
        level = Level(data.level)
    except ValueError:
        reasons.append(("level", _("Choose how satisfied you are.")))
        level = None
    stages: dict[Stage, Level] = {}
    for key, value in (data.stages or {}).items():
        if not value:
            continue
        try:
            stages[Stage(key)] = Level(value)
        except ValueError:
            reasons.append((f"stage_{key}", _("Choose one of the five levels, or leave the stage unrated.")))
    comment = (data.comment or "").strip()
    if len(comment) > MAX_NOTE:
        reasons.append(("comment", _("Keep the comment under %(n)d characters.", n=MAX_NOTE)))
    if level is not None and level.is_bad and not comment:
        reasons.append(("comment", _("Tell us what went wrong, so that it can be put right.")))
    if reasons:
        raise ValidationFailed(reasons)
    return level, stages, comment or None


def _handling_staff(case: Application) -> set[int]:
    """The staff who acted on the case (its events) or worked it (its assignee)."""
    ids = {e.actor_id for e in case.events if e.actor_kind == AccountKind.STAFF.value and e.actor_id}
    if case.assignee_id:
        ids.add(case.assignee_id)
    return ids


def _agency(case: Application) -> str:
    catalog = current_app.extensions["portal_catalog"]
    item = catalog.get(case.item_code)
    if item is not None and item.accepting_unit is not None:
        return item.accepting_unit.zh[:200]
    return catalog.region.agency.name.zh[:200]


def rate_case(case: Application, data: RatingInput, *, by: Any, actor: Actor) -> Rating:
    """Rate ``case`` (or change its rating within the window). A bad rating opens a rectification."""
    problem = cannot_rate(by, case)
    if problem:
        raise (NotFound(_("No such application.")) if not is_applicant(by, case) else InvalidTransition(problem))
    level, stages, comment = _clean(data)
    now = clock.now()
    rating = rating_of(case)
    if rating is None:
        rating = Rating(application_id=case.id, account_id=by.id, item_code=case.item_code, item_name=case.item_name,
                        agency=_agency(case), rated_at=now, rated_month=clock.to_local(now).strftime("%Y-%m"),
                        changeable_until=now + timedelta(days=_days("PORTAL_RATING_CHANGE_DAYS", RATING_CHANGE_DAYS)))
        rating.staff = [RatingStaff(staff_id=i) for i in sorted(_handling_staff(case))]
        db.session.add(rating)
    before = rating.level
    rating.level, rating.score, rating.comment, rating.updated_at = level.value, level.score, comment, now
    rating.acceptance_level, rating.review_level, rating.completion_level = (
        stages[s].value if s in stages else None for s in (Stage.ACCEPTANCE, Stage.REVIEW, Stage.COMPLETION))
    _flush()
    record("rating.changed" if before else "rating.given", actor=actor, object_type="application", object_id=case.id,
           detail={"level": level.value, "before": before})
    if level.is_bad and rating.rectification is None:
        _open_rectification(rating, case)
    return rating


def _open_rectification(rating: Rating, case: Application) -> Rectification:
    days = _days("PORTAL_RECTIFICATION_WORKING_DAYS", RECTIFICATION_WORKING_DAYS)
    rect = Rectification(rating=rating, application_id=case.id, state=RectState.OPEN.value, opened_at=clock.now(),
                         due_date=add_working_days(clock.today(), days))
    db.session.add(rect)
    _flush()
    record("rectification.opened", actor=Actor.system(), object_type="rectification", object_id=rect.id,
           detail={"application": case.id, "due": rect.due_date.isoformat()})
    context = {"number": case.number, "item": item_names(case), "level": _level_pair(Level(rating.level)),
               "due_on": rect.due_date.isoformat()}
    for chief in supervisors():
        notify(chief, Event.RECTIFICATION_OPENED, context, channels=(Channel.INBOX,))
    return rect


def _level_pair(level: Level) -> dict[str, str]:
    from flask_babel import force_locale

    out = {}
    for key, locale in (("zh", "zh_Hans_CN"), ("en", "en")):
        with force_locale(locale):
            out[key] = level.label
    return out


def supervisors() -> list[Account]:
    """Enabled section chiefs (科长): they supervise rectifications."""
    rows = db.session.execute(select(Account).where(Account.kind == AccountKind.STAFF.value,
                                                    Account.is_enabled.is_(True))).scalars()
    return [a for a in rows if a.has_role(Role.CHIEF)]


# --- rectification ---------------------------------------------------------------------------------------


def can_supervise(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.kind == AccountKind.STAFF and \
        user.has_role(Role.CHIEF)


def get_rectification(rect_id: int, *, by: Any) -> Rectification:
    row = db.session.get(Rectification, rect_id) if 0 < rect_id < 2**31 else None
    if row is None or not can_supervise(by):
        raise NotFound(_("No such rectification."))
    return row


def _move(rect: Rectification, action: RectAction, *, by: Any) -> RectState:
    if not can_supervise(by):
        raise PermissionDenied(_("Only a section chief supervises rectifications."))
    if by.id in {s.staff_id for s in rect.rating.staff}:
        raise PermissionDenied(_("You handled the rated application: another section chief must work this."))
    after = RECT_TRANSITIONS.get((rect.state_enum, action))
    if after is None:
        raise InvalidTransition(_("This step is not possible while the rectification is “%(state)s”.",
                                  state=rect.state_enum.label))
    return after


def _note(value: str, field_name: str, message: str) -> str:
    note = (value or "").strip()
    if not note:
        raise ValidationFailed([(field_name, message)])
    if len(note) > MAX_NOTE:
        raise ValidationFailed([(field_name, _("Keep it under %(n)d characters.", n=MAX_NOTE))])
    return note


def check_rectification(rect: Rectification, data: CheckInput, *, by: Any, actor: Actor) -> None:
    """核实: is the complaint true (属实) or not (不属实)? A true one goes on to 整改, an untrue one to 回访."""
    if data.substantiated is None:
        raise ValidationFailed([("substantiated", _("Say whether the complaint is true or not."))])
    after = _move(rect, RectAction.CONFIRM if data.substantiated else RectAction.REJECT, by=by)
    rect.check_note = _note(data.note, "note", _("Write down what the check found."))
    rect.is_substantiated, rect.checked_at, rect.checked_by_id, rect.state = data.substantiated, clock.now(), by.id, \
        after.value
    _flush()
    record("rectification.checked", actor=actor, object_type="rectification", object_id=rect.id,
           detail={"substantiated": data.substantiated})


def rectify(rect: Rectification, note: str, *, by: Any, actor: Actor) -> None:
    """整改: what was put right."""
    after = _move(rect, RectAction.RECTIFY, by=by)
    rect.rectify_note = _note(note, "note", _("Write down what was put right."))
    rect.rectified_at, rect.rectified_by_id, rect.state = clock.now(), by.id, after.value
    _flush()
    record("rectification.rectified", actor=actor, object_type="rectification", object_id=rect.id)


def follow_up(rect: Rectification, data: FollowUpInput, *, by: Any, actor: Actor) -> None:
    """回访: the rater was told the outcome; their response is recorded, the case closes and they get a message."""
    try:
        response = Response(data.response)
    except ValueError:
        raise ValidationFailed([("response", _("Choose what the rater said."))]) from None
    after = _move(rect, RectAction.FOLLOW_UP, by=by)
    rect.followup_note = _note(data.note, "note", _("Write down what the rater was told."))
    now = clock.now()
    rect.response, rect.followed_up_at, rect.followed_up_by_id = response.value, now, by.id
    rect.state, rect.closed_on = after.value, clock.today()
    _flush()
    record("rectification.followed_up", actor=actor, object_type="rectification", object_id=rect.id,
           detail={"response": response.value, "on_time": rect.is_on_time})
    case = rect.application
    context = {"number": case.number, "item": item_names(case), "outcome": rect.followup_note}
    notify(rect.rating.account, Event.RECTIFICATION_DONE, context, application_id=case.id)


def rectifications(*, state: str | None = None, limit: int = 200) -> list[Rectification]:
    """The rectifications, open ones first by due date."""
    query = select(Rectification)
    if state in {s.value for s in RectState}:
        query = query.where(Rectification.state == state)
    query = query.order_by((Rectification.state == RectState.CLOSED.value), Rectification.due_date, Rectification.id)
    return list(db.session.execute(query.limit(limit)).scalars())
