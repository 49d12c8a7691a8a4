"""Post-hoc checking (事后核查): who is drawn, and what a check concludes.

A case is commitment-based when any of its materials was replaced by a signed 承诺书 (mode
``commitment``). Completed commitment-based cases of a period form the population, item by item; a draw
picks ``ceil(rate × n)`` of each item's cases (so any non-zero rate checks at least one case), with a
random generator seeded by the draw's recorded seed and the item code over the ascending case ids:
the same seed and population always give the same picks (``pick``). The rate of an item is the one a
chief set for the region (``SamplingRate``), or ``PORTAL_SAMPLING_RATE_PERCENT`` (5 %) by default.

A check concludes ``confirmed``, or ``false_commitment``: the item's handler revokes the case's effect on the
records, the person's record notes it, and the applicant reads why on the case's timeline. Both send
``sample_concluded`` (sender: the check) inside the transaction, for the notifications to hook onto.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import Role
from ..applications.constants import Action, MaterialMode, State
from ..applications.models import Application, ApplicationEvent
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from ..core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..core.translation import gettext as _
from ..services import handler_for
from .models import Outcome, SamplingCheck, SamplingDraw, SamplingRate
from .signals import sample_concluded

DRAW_ROLES = frozenset({Role.CHIEF})
RATE_ROLES = frozenset({Role.CHIEF, Role.ADMIN})
CHECK_ROLES = frozenset({Role.REVIEWER, Role.CHIEF})
DONE_STATES = (State.COMPLETED.value, State.DELIVERED.value)
MAX_REASON = 2000


# --- who may -------------------------------------------------------------------------------------------


def _has(user: Any, roles: frozenset[Role]) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(getattr(user, "roles", frozenset()) & roles)


def can_view_sampling(user: Any) -> bool:
    return _has(user, DRAW_ROLES | CHECK_ROLES | RATE_ROLES)


def can_draw(user: Any) -> bool:
    return _has(user, DRAW_ROLES)


def can_set_rates(user: Any) -> bool:
    return _has(user, RATE_ROLES)


def cannot_conclude(user: Any, check: SamplingCheck) -> str | None:
    """Why ``user`` may not conclude ``check``, or None. Nobody checks a case they decided or completed (S7)."""
    if not _has(user, CHECK_ROLES):
        return _("Your role does not allow this step.")
    deciders = {e.actor_id for e in check.application.events
                if e.action in {Action.ACCEPT, Action.APPROVE, Action.COMPLETE}}
    if user.id in deciders:
        return _("You handled this case: another member of staff must check it.")
    return None


# --- rates ---------------------------------------------------------------------------------------------


def default_rate() -> int:
    return int(current_app.config.get("PORTAL_SAMPLING_RATE_PERCENT", 5))


def region_rates(region: str) -> dict[str, int]:
    """The rates a chief set for the region's items (the others take the default)."""
    rows = db.session.execute(select(SamplingRate.item_code, SamplingRate.rate_percent)
                              .where(SamplingRate.region == region)).all()
    return dict(rows)


def set_rate(item_code: str, percent: Any, *, by: Any, actor: Actor) -> SamplingRate:
    """Set the region's sampling rate of an item, a whole percentage from 0 to 100."""
    if not can_set_rates(by):
        raise PermissionDenied(_("Your role does not allow this step."))
    if current_app.extensions["portal_catalog"].get(item_code) is None:
        raise NotFound(_("This item is no longer in the catalog."))
    try:
        rate = int(str(percent).strip())
    except ValueError:
        rate = -1
    if not 0 <= rate <= 100:
        raise ValidationFailed([("rate", _("The rate is a whole percentage from 0 to 100."))])
    region = current_app.config["PORTAL_REGION"]
    row = db.session.execute(select(SamplingRate).where(SamplingRate.region == region,
                                                        SamplingRate.item_code == item_code)).scalar_one_or_none()
    before = row.rate_percent if row else None
    if row is None:
        row = SamplingRate(region=region, item_code=item_code, rate_percent=rate)
        db.session.add(row)
    row.rate_percent, row.updated_by_id, row.updated_at = rate, getattr(by, "id", None), clock.now()
    db.session.flush()
    record("sampling.set_rate", actor=actor, object_type="sampling_rate", object_id=row.id,
           detail={"item": item_code, "before": before, "after": rate})
    return row


# --- the draw ------------------------------------------------------------------------------------------


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, tzinfo=clock.LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=clock.LOCAL_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def is_commitment_based(materials: dict[str, str]) -> bool:
    return MaterialMode.COMMITMENT.value in materials.values()


def population(region: str, first: date, last: date) -> dict[str, list[int]]:
    """Completed commitment-based cases of the period not drawn before, by item, ids ascending.

    The database narrows by state, period and a text match on the materials; the match is then confirmed
    on the parsed materials, so a material id that merely contains the word is not counted.
    """
    start, end = _utc_bounds(first, last)
    drawn = select(SamplingCheck.application_id)
    rows = db.session.execute(
        select(Application.id, Application.item_code, Application.materials_json)
        .where(Application.region == region, Application.state.in_(DONE_STATES),
               Application.completed_at >= start, Application.completed_at < end,
               Application.materials_json.like(f'%"{MaterialMode.COMMITMENT.value}"%'),
               Application.id.not_in(drawn))
        .order_by(Application.item_code, Application.id)).all()
    out: dict[str, list[int]] = {}
    for case_id, item_code, materials in rows:
        if is_commitment_based(json.loads(materials or "{}")):
            out.setdefault(item_code, []).append(case_id)
    return out


def pick(case_ids: list[int], percent: int, seed: str, item_code: str) -> list[int]:
    """The reproducible picks of one item: ``ceil(percent % × n)`` ids, ascending."""
    ids = sorted(case_ids)
    count = min(len(ids), math.ceil(len(ids) * percent / 100))
    return sorted(random.Random(f"{seed}:{item_code}").sample(ids, count))


@dataclass(frozen=True)
class DrawInput:
    period_from: date
    period_to: date
    seed: str | None = None  # None: a fresh random seed, recorded with the draw


def draw_sample(data: DrawInput, *, by: Any, by_label: str, actor: Actor) -> SamplingDraw:
    """Draw the cases to check among the period's completed commitment-based cases, and record the draw."""
    if by is not None and not can_draw(by):
        raise PermissionDenied(_("Your role does not allow this step."))
    if data.period_from > data.period_to:
        raise ValidationFailed([("period_from", _("The period starts after it ends."))])
    if data.period_to > clock.today():
        raise ValidationFailed([("period_to", _("The period cannot end in the future."))])
    seed = (data.seed or "").strip()[:64] or secrets.token_hex(8)
    region = current_app.config["PORTAL_REGION"]
    cases = population(region, data.period_from, data.period_to)
    set_rates, default = region_rates(region), default_rate()
    rates = {code: set_rates.get(code, default) for code in cases}
    picks = {code: pick(ids, rates[code], seed, code) for code, ids in cases.items()}
    draw = SamplingDraw(region=region, drawn_by_id=getattr(by, "id", None), drawn_by_label=by_label[:64],
                        drawn_at=clock.now(), seed=seed, period_from=data.period_from, period_to=data.period_to)
    draw.store(rates, cases, picks)
    db.session.add(draw)
    db.session.flush()
    for code, ids in picks.items():
        for case_id in ids:
            db.session.add(SamplingCheck(draw_id=draw.id, application_id=case_id, item_code=code))
    try:
        db.session.flush()
    except IntegrityError as error:  # another draw took some of these cases a moment ago
        db.session.rollback()
        raise Conflict(_("Another draw took some of these cases a moment ago. Draw again.")) from error
    record("sampling.draw", actor=actor, object_type="sampling_draw", object_id=draw.id,
           detail={"seed": seed, "from": data.period_from, "to": data.period_to, "rates": rates,
                   "population": {c: len(i) for c, i in cases.items()}, "picks": picks})
    return draw


# --- concluding a check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conclusion:
    outcome: str
    reason: str = ""  # told to the applicant; required when the commitment was false
    note: str = ""  # internal


def conclude_check(check: SamplingCheck, data: Conclusion, *, by: Any, actor: Actor) -> SamplingCheck:
    """Record what checking found. A false commitment revokes the case's effect, notes the person's record
    and tells the applicant why on the case's timeline; a revocation the records cannot take is refused."""
    problem = cannot_conclude(by, check)
    if problem:
        raise PermissionDenied(problem)
    if check.outcome_enum is not Outcome.PENDING:
        raise InvalidTransition(_("This check has already been concluded."))
    try:
        outcome = Outcome(data.outcome)
    except ValueError:
        outcome = Outcome.PENDING
    if outcome is Outcome.PENDING:
        raise ValidationFailed([("outcome", _("Choose what the check found."))])
    reason = (data.reason or "").strip()[:MAX_REASON] or None
    if outcome is Outcome.FALSE_COMMITMENT and reason is None:
        raise ValidationFailed([("reason", _("Give the reason: the applicant is told it."))])
    case = check.application
    now = clock.now()
    check.outcome, check.decided_by_id, check.decided_at = outcome.value, by.id, now
    check.reason, check.note = reason, (data.note or "").strip()[:MAX_REASON] or None
    try:  # the version column: of two staff concluding at once, the second is told before anything is revoked
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(_("Someone else concluded this check a moment ago. Reload it to see the outcome.")) from error
    if outcome is Outcome.FALSE_COMMITMENT:
        _revoke(case, reason)
    _timeline(case, outcome, reason, by=by, at=now)
    db.session.flush()
    record(f"sampling.{outcome.value}", actor=actor, object_type="application", object_id=case.id,
           detail={"check": check.id, "draw": check.draw_id, "number": case.number})
    sample_concluded.send(check, case=case, outcome=outcome)
    return check


def _revoke(case: Application, reason: str) -> None:
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    if item is not None:
        handler_for(item).revoke_effect(case, reason)
    # record data, kept in Chinese whatever the language of the staff member
    note = f"{clock.today().isoformat()} 事后核查：办件 {case.number} 承诺不实，已撤销其办理结果。原因：{reason}"
    for person in _persons_of(case):
        person.notes = f"{person.notes}\n{note}" if person.notes else note


def _persons_of(case: Application) -> list[Any]:
    """The persons the case is about: its own person, or those named on the effect's enrolment rows."""
    from ..insurance.models import Enrolment, Person
    from ..services.effects import effect_of

    persons = [case.person] if case.person is not None else []
    effect = effect_of(case)
    if effect is not None:
        enrolment_ids = {s["id"] for s in effect.steps if s["table"] == "enrolment"}
        person_ids = {s["id"] for s in effect.steps if s["table"] == "person"}
        if enrolment_ids:
            person_ids |= set(db.session.execute(select(Enrolment.person_id)
                                                 .where(Enrolment.id.in_(enrolment_ids))).scalars())
        persons += [p for p in (db.session.get(Person, i) for i in sorted(person_ids)) if p and p not in persons]
    return persons


def _timeline(case: Application, outcome: Outcome, reason: str | None, *, by: Any, at: datetime) -> None:
    """An event the applicant reads on the case's timeline; the case's state does not change."""
    event = ApplicationEvent(action=Action.POST_CHECK.value, from_state=case.state, to_state=case.state, at=at,
                             reason=reason, actor_id=by.id, actor_kind=by.kind, actor_role=by.audit_role)
    event.detail_json = json.dumps({"outcome": outcome.value}, sort_keys=True)
    case.events.append(event)


# --- reads for the pages ---------------------------------------------------------------------------------


def get_check(check_id: int) -> SamplingCheck:
    check = db.session.get(SamplingCheck, check_id) if 0 < check_id < 2**31 else None
    if check is None:
        raise NotFound(_("No such check."))
    return check


def open_checks(region: str, *, limit: int = 200) -> list[SamplingCheck]:
    return list(db.session.execute(
        select(SamplingCheck).join(SamplingDraw).where(SamplingDraw.region == region,
                                                      SamplingCheck.outcome == Outcome.PENDING.value)
        .order_by(SamplingCheck.id).limit(limit)).scalars())


def recent_draws(region: str, *, limit: int = 20) -> list[SamplingDraw]:
    return list(db.session.execute(select(SamplingDraw).where(SamplingDraw.region == region)
                                   .order_by(SamplingDraw.id.desc()).limit(limit)).scalars())


def outcome_counts(region: str) -> dict[str, int]:
    rows = db.session.execute(select(SamplingCheck.outcome, func.count()).join(SamplingDraw)
                              .where(SamplingDraw.region == region).group_by(SamplingCheck.outcome)).all()
    return dict(rows)
