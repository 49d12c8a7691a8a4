"""The benefit records (``insurance.models.Benefit``) that completed recognitions write, and the questions others ask.

A recognising item's handler grants at completion, through the case's ``Ledger``: the record is a created row of
the case's effect, so post-hoc checking (事后核查) that revokes the case deletes it (``effects.revert``), like every
other effect. Other families write their own grades through the same call (the 长期护理 assessment its 失能等级
as ``level``)::

    from portal.services.benefits.records import Grant, grant
    grant(case, Grant(BenefitKind.LONG_TERM_CARE, valid_from=day, valid_until=None, level="重度失能一级"), ledger)
    ledger.save(case, case.handler)

Whether a person holds a benefit on a day is ``held`` / ``holds`` (``Benefit.holds_on``): status active and the
day inside the validity; a record whose last day has passed no longer holds, whether or not the daily reminder
run has marked it expired yet (``expire_due``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select

from ...core import clock
from ...core.db import db
from ...insurance.constants import BenefitKind, BenefitStatus
from ...insurance.models import Benefit
from ..effects import Ledger

EXPIRY_REMIND_DAYS = 30  # before a recognition's last day: time to file the renewal (the recognition again)


@dataclass(frozen=True)
class Grant:
    """What a completed recognition grants: kind, what (code and name), when, where, and how much."""

    kind: BenefitKind
    valid_from: date
    valid_until: date | None = None  # None: open, or ended by an event (``until``)
    code: str | None = None  # disease or drug code (the region's catalog), when there is one
    name: str | None = None  # what was recognised, as the applicant reads it (病种, 药品)
    institutions: tuple[str, ...] = ()  # the designated institutions (定点医院, 定点药店) the seed names
    level: str | None = None  # a graded benefit's grade (长护 失能等级)
    until: str | None = None  # an end that is an event, e.g. ``end_of_this_childbirth`` (seed: 至当次生育结束)
    extra: dict[str, Any] = field(default_factory=dict)


def grant(case: Any, what: Grant, ledger: Ledger) -> Benefit:
    """Write the benefit record of the completed ``case`` (its person) as a created step of ``ledger``."""
    detail = dict(what.extra)
    if what.name:
        detail["name"] = what.name
    if what.institutions:
        detail["institutions"] = list(what.institutions)
    if what.until:
        detail["until"] = what.until
    detail["item"] = case.item_code
    row = Benefit(person_id=case.person_id, kind=what.kind, item_code=what.code, status=BenefitStatus.ACTIVE,
                  valid_from=what.valid_from, valid_until=what.valid_until, application_id=case.id,
                  level=what.level, created_at=clock.now())
    row.detail_data = detail
    return ledger.created(row)


def of_case(case: Any) -> Benefit | None:
    """The record the case's completion wrote, if any (the newest, should there be more)."""
    return db.session.execute(select(Benefit).where(Benefit.application_id == case.id)
                              .order_by(Benefit.id.desc()).limit(1)).scalar_one_or_none()


def held(person_id: int, kinds: Iterable[BenefitKind] | None = None, *, day: date | None = None,
         items: Iterable[str] | None = None) -> list[Benefit]:
    """The person's records that hold on ``day`` (today), newest first; only ``kinds``, or those written by
    cases of the catalog ``items``, when given."""
    day = day or clock.today()
    query = select(Benefit).where(Benefit.person_id == person_id, Benefit.status == BenefitStatus.ACTIVE,
                                  Benefit.valid_from <= day,
                                  or_(Benefit.valid_until.is_(None), Benefit.valid_until >= day))
    if kinds is not None:
        query = query.where(Benefit.kind.in_(list(kinds)))
    rows = db.session.execute(query.order_by(Benefit.valid_from.desc(), Benefit.id.desc())).scalars().all()
    if items is not None:
        wanted = set(items)
        rows = [r for r in rows if wanted & items_of(r)]
    return rows


def items_of(record: Benefit) -> set[str]:
    """The catalog items behind the record: the one that granted it and those that confirmed or changed it
    since (吉林's 门诊慢性病 备案 and 变更 after the 认定)."""
    detail = record.detail_data
    return {c for c in [detail.get("item"), *(detail.get("also") or [])] if c}


def holds(person_id: int, kinds: Iterable[BenefitKind] | None = None, *, day: date | None = None,
          items: Iterable[str] | None = None) -> bool:
    return bool(held(person_id, kinds, day=day, items=items))


def expiring(today: date, days: int = EXPIRY_REMIND_DAYS) -> list[Benefit]:
    """Active records with a last day within ``days`` of ``today`` (today included), soonest first."""
    return list(db.session.execute(
        select(Benefit).where(Benefit.status == BenefitStatus.ACTIVE, Benefit.valid_until.is_not(None),
                              Benefit.valid_until >= today, Benefit.valid_until <= today + timedelta(days=days))
        .order_by(Benefit.valid_until, Benefit.id)).scalars())


def expire_due(today: date) -> int:
    """Mark expired the active records whose last day is before ``today``; returns how many."""
    rows = db.session.execute(select(Benefit).where(Benefit.status == BenefitStatus.ACTIVE,
                                                    Benefit.valid_until.is_not(None),
                                                    Benefit.valid_until < today)).scalars().all()
    for row in rows:
        row.status = BenefitStatus.EXPIRED
    db.session.flush()
    return len(rows)


def standing(record: Benefit, today: date) -> BenefitStatus:
    """The record's standing as the person reads it on ``today``: an active record past its last day is expired
    even before the daily run marks it."""
    if record.status is BenefitStatus.ACTIVE and record.valid_until is not None and record.valid_until < today:
        return BenefitStatus.EXPIRED
    return record.status


RECOGNITION_KINDS = (BenefitKind.CHRONIC_DISEASE, BenefitKind.SPECIAL_DRUG, BenefitKind.MATERNITY,
                     BenefitKind.LONG_TERM_CARE, BenefitKind.OTHER)


@dataclass(frozen=True)
class Shown:
    """A record as the person reads it (我的 → 待遇认定, ``/api/v1/records/me``)."""

    record: Benefit
    standing: BenefitStatus
    what: str | None  # 病种 / 药品 name
    institutions: tuple[str, ...]
    until: str | None  # an end that is an event (``end_of_this_childbirth``)
    case_id: int | None
    case_number: str | None
    item: Any  # the catalog item that granted it (and renews it), when the catalog has it
    renew: bool  # within the reminder window or expired: apply for ``item`` again


def shown(person_id: int, today: date, catalog: Any, kinds: Iterable[BenefitKind] = RECOGNITION_KINDS) -> list[Shown]:
    """The person's records of ``kinds``, current ones first, newest first, with their source case."""
    from ...applications.models import Application

    rows = db.session.execute(
        select(Benefit, Application.number).outerjoin(Application, Application.id == Benefit.application_id)
        .where(Benefit.person_id == person_id, Benefit.kind.in_(list(kinds)))
        .order_by(Benefit.valid_from.desc(), Benefit.id.desc())).all()
    out = []
    for record, number in rows:
        detail = record.detail_data
        state = standing(record, today)
        item = catalog.get(detail["item"]) if detail.get("item") else None
        soon = record.valid_until is not None and record.valid_until <= today + timedelta(days=EXPIRY_REMIND_DAYS)
        out.append(Shown(record, state, detail.get("name"), tuple(detail.get("institutions") or ()),
                         detail.get("until"), record.application_id, number, item,
                         renew=item is not None and soon and state in (BenefitStatus.ACTIVE, BenefitStatus.EXPIRED)))
    active_first = {BenefitStatus.ACTIVE: 0}
    return sorted(out, key=lambda s: active_first.get(s.standing, 1))
