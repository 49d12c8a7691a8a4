"""The workbench's queues: which queue a case sits in, and one page of a queue, fast at any size.

Every case row carries its queue (``application.queue``) and the day the agency must act by
(``application.work_due``: the acceptance deadline before acceptance, the due date after it; NULL while the
applicant has the case or once it is closed). Both are set on every insert and update of the row by a mapper
event, in the same flush, so they can never disagree with the state. A queue page is then one range of one
index, read in order from where the previous page stopped (keyset pagination): the cost of a page does not
grow with the number of cases, and a page is always the same few queries.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import and_, event, or_, select, union
from sqlalchemy.orm import aliased

from ..accounts.models import Account
from ..applications.constants import State
from ..applications.models import Application
from ..calendar import engine
from ..core import clock
from ..core.db import db
from ..core.translation import lazy_gettext as _l
from ..insurance.models import Person

NO_LIMIT = date(9999, 12, 31)  # work_due of an accepted case whose item sets no time limit: last in its queue
DUE_SOON_WORKING_DAYS = 2
PER_PAGE = 20
_ASSIGNEE = aliased(Account)
# What a queue page shows of a case (templates/workbench/queue.html) and its cursor, with the assignee's name: read
# as plain columns (``QueueRow``), not as cases — nothing of the applicant's account, person and unit, nor the
# sealed form, and no ORM objects to build and expire for a page that only lists.
_LISTING = select(Application.id, Application.number, Application.item_code, Application.item_name,
                  Application.is_instant, Application.applicant_name, Application.state, Application.work_due,
                  Application.due_date, Application.paused_working_days, _ASSIGNEE.display_name,
                  Application.returned_at).outerjoin(_ASSIGNEE, _ASSIGNEE.id == Application.assignee_id)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One case as a queue lists it."""

    id: int
    number: str | None
    item_code: str
    item_name: str
    is_instant: bool
    applicant_name: str
    state: str
    work_due: date | None
    due_date: date | None
    paused_working_days: int
    assignee_name: str | None  # who is working on it (None: nobody)
    returned_at: datetime | None  # its approval was returned to review before payment (退回重审)

    @property
    def state_enum(self) -> State:
        return State(self.state)


class Queue(StrEnum):
    """A tab of the workbench. The first five are stored on the row; the others are views across them."""

    INTAKE = "intake"  # 待受理
    CORRECTION = "correction"  # 待补正: waiting for the applicant
    REVIEW = "review"  # 待审核 (and accepted 即办件 waiting to be completed)
    PAYMENT = "payment"  # 待拨付
    DUE_SOON = "due_soon"  # 即将超期
    OVERDUE = "overdue"  # 已超期
    DONE = "done"  # 已办结

    @property
    def label(self) -> str:
        return str(QUEUE_LABELS[self])


QUEUE_LABELS = {
    Queue.INTAKE: _l("To accept"),
    Queue.CORRECTION: _l("Waiting for corrections"),
    Queue.REVIEW: _l("To review"),
    Queue.PAYMENT: _l("To pay"),
    Queue.DUE_SOON: _l("Due soon"),
    Queue.OVERDUE: _l("Overdue"),
    Queue.DONE: _l("Completed"),
}
# queues where the agency has work and a deadline; due-soon and overdue look across these
WORK_QUEUES = (Queue.INTAKE, Queue.REVIEW, Queue.PAYMENT)
# stored values for rows no tab lists
DRAFT, CLOSED = "draft", "closed"
# the states each stored queue can hold (for the state filter)
QUEUE_STATES: dict[Queue, tuple[State, ...]] = {
    Queue.INTAKE: (State.SUBMITTED, State.RESUBMITTED),
    Queue.CORRECTION: (State.CORRECTION_REQUESTED,),
    Queue.REVIEW: (State.ACCEPTED, State.RESUBMITTED, State.UNDER_REVIEW, State.APPROVED),
    Queue.PAYMENT: (State.APPROVED, State.PAYING),
    Queue.DONE: (State.COMPLETED, State.DELIVERED),
}
QUEUE_STATES[Queue.DUE_SOON] = QUEUE_STATES[Queue.OVERDUE] = tuple(
    dict.fromkeys(s for q in WORK_QUEUES for s in QUEUE_STATES[q]))


def queue_of(state: str, *, accepted: bool, is_money: bool) -> str:
    """The stored queue of a case in ``state``."""
    match State(state):
        case State.DRAFT:
            return DRAFT
        case State.SUBMITTED:
            return Queue.INTAKE.value
        case State.RESUBMITTED:
            return (Queue.REVIEW if accepted else Queue.INTAKE).value
        case State.CORRECTION_REQUESTED:
            return Queue.CORRECTION.value
        case State.ACCEPTED | State.UNDER_REVIEW:
            return Queue.REVIEW.value
        case State.APPROVED:
            return (Queue.PAYMENT if is_money else Queue.REVIEW).value
        case State.PAYING:
            return Queue.PAYMENT.value
        case State.COMPLETED | State.DELIVERED:
            return Queue.DONE.value
        case _:
            return CLOSED


def work_due_of(queue: str, *, accept_by: date | None, due_date: date | None) -> date | None:
    """The day the agency must act by in ``queue``: accept (or notify) before acceptance, decide after it."""
    if queue == Queue.INTAKE:
        return accept_by or NO_LIMIT
    if queue in (Queue.REVIEW, Queue.PAYMENT):
        return due_date or NO_LIMIT
    return None


def place(case: Application) -> None:
    """Set the case's queue and work_due from its state (called in every flush of the row)."""
    state = case.state or State.DRAFT.value  # a new row gets its column default only in the INSERT itself
    case.queue = queue_of(state, accepted=case.accepted_at is not None, is_money=bool(case.is_money))
    case.work_due = work_due_of(case.queue, accept_by=case.accept_by, due_date=case.due_date)


@event.listens_for(Application, "before_insert")
@event.listens_for(Application, "before_update")
def _place(_mapper, _connection, case: Application) -> None:
    place(case)


# --- a page of a queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a member of staff narrowed the queue to. ``person_index`` is the blind index of a 身份证, ``name_index``
    that of a person's full name (names are sealed: exact search goes through the index)."""

    item_codes: tuple[str, ...] | None = None  # None: every item; () matches nothing (an agency with no items)
    state: State | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    person_index: str | None = None
    name_index: str | None = None
    mine_for: int | None = None  # only cases this staff member is working


@dataclass(frozen=True)
class Page:
    rows: list[QueueRow]
    next_cursor: str | None


def due_soon_cutoff(today: date) -> date:
    """The last day that still counts as "due soon": two working days from today (kept for the day: it only
    decides what the queues list and highlight, engine.kept_for_display)."""
    return engine.kept_for_display(today, ("due_soon",), lambda: engine.due_date(today, DUE_SOON_WORKING_DAYS))


def _where(queue: Queue, filters: Filters, today: date) -> list:
    if queue is Queue.OVERDUE:
        where = [Application.work_due.is_not(None), Application.work_due < today]
    elif queue is Queue.DUE_SOON:
        where = [Application.work_due >= today, Application.work_due <= due_soon_cutoff(today)]
    else:
        where = [Application.queue == queue.value]
    if filters.item_codes is not None:
        where.append(Application.item_code.in_(filters.item_codes))
    if filters.state is not None:
        where.append(Application.state == filters.state.value)
    if filters.submitted_from is not None:
        where.append(Application.submitted_at >= _local_midnight(filters.submitted_from))
    if filters.submitted_to is not None:
        where.append(Application.submitted_at < _local_midnight(filters.submitted_to + timedelta(days=1)))
    if filters.person_index is not None:
        where.append(Application.id.in_(cases_of_person(filters.person_index)))
    if filters.name_index is not None:
        where.append(Application.id.in_(cases_of_name(filters.name_index)))
    if filters.mine_for is not None:
        where.append(Application.assignee_id == filters.mine_for)
    return where


def cases_of_person(person_index: str) -> list[int]:
    """The ids of every case about the person with this blind index, as the subject or as the principal of a
    filing on their behalf: two indexed lookups combined (a person has a handful of cases), read before the
    queue's range so the page never scans the queue to find them."""
    people = select(Person.id).where(Person.id_number_index == person_index).scalar_subquery()
    lookups = union(select(Application.id).where(Application.person_id.in_(people)),
                    select(Application.id).where(Application.principal_id_index == person_index))
    return list(db.session.execute(lookups).scalars())


def cases_of_name(name_index: str) -> list[int]:
    """The ids of the cases about the persons with this full name (blind index of the normalised name: names are
    sealed), read first like ``cases_of_person``."""
    people = select(Person.id).where(Person.name_index == name_index).scalar_subquery()
    return list(db.session.execute(select(Application.id).where(Application.person_id.in_(people))).scalars())


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.LOCAL_TZ)


def _by_due(queue: Queue) -> bool:
    """Work queues read by deadline, earliest first; the others newest first (they have no deadline)."""
    return queue not in (Queue.CORRECTION, Queue.DONE)


def encode_cursor(case: QueueRow | Application, queue: Queue) -> str:
    raw = f"{case.work_due.isoformat()}|{case.id}" if _by_due(queue) else str(case.id)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, queue: Queue) -> tuple[date | None, int] | None:
    """The (work_due, id) after which the page starts; None for the first page or a cursor that does not parse."""
    if not cursor or len(cursor) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if _by_due(queue):
            day, ident = raw.split("|")
            return date.fromisoformat(day), int(ident)
        return None, int(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def queue_page(queue: Queue, filters: Filters = Filters(), *, after: str | None = None,
               per_page: int = PER_PAGE, today: date | None = None) -> Page:
    """One page of ``queue``: one query whatever the number of cases (the assignee joined in), reading only what
    the page shows (``QueueRow``)."""
    today = today or clock.today()
    where = _where(queue, filters, today)
    position = decode_cursor(after, queue)
    if _by_due(queue):
        order: Sequence = (Application.work_due, Application.id)
        if position is not None:
            day, ident = position
            where.append(or_(Application.work_due > day, and_(Application.work_due == day, Application.id > ident)))
    else:
        order = (Application.id.desc(),)
        if position is not None:
            where.append(Application.id < position[1])
    found = db.session.execute(_LISTING.where(*where).order_by(*order).limit(per_page + 1)).all()
    rows = [QueueRow(*row) for row in found[:per_page]]
    return Page(rows, encode_cursor(rows[-1], queue) if len(found) > per_page and rows else None)
