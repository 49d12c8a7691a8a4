"""Reminders (``portal notify remind``, once a day from cron): corrections due soon to applicants, a digest of
cases due soon or overdue to the staff working them, and whatever other features register.

Each reminder carries a ``dedupe_key``, so running the command twice a day sends nothing twice. Another feature
(异地就医备案 filings about to expire, say) either calls ``portal.notifications.notify`` itself or registers a
source here::

    from portal.notifications.reminders import reminder_source
    from portal.notifications.constants import Event

    @reminder_source("filings")
    def expiring_filings(today):
        for filing in filings_expiring_by(today + timedelta(days=30)):
            context = {"destination": filing.destination_name, "expires_on": filing.valid_until.isoformat()}
            yield filing.account, Event.FILING_EXPIRING, context, f"filing_expiring:{filing.id}", None

A source yields ``(account, event, context, dedupe_key, application_id or None)``; the command writes them in
its transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..accounts.models import Account, AccountKind, Role
from ..applications.constants import CLOSED_STATES, State
from ..applications.deadlines import DUE_SOON_WORKING_DAYS
from ..applications.models import Application, CorrectionNotice
from ..calendar import add_working_days
from ..core import clock
from ..core.db import db
from .constants import Channel, Event
from .operations import notify
from .receivers import _materials, case_context

Reminder = tuple[Any, Event, dict[str, Any], str, int | None]
SOURCES: dict[str, Callable[[date], Iterable[Reminder]]] = {}
CORRECTION_REMIND_WORKING_DAYS = 3  # PORTAL_REMIND_CORRECTION_WORKING_DAYS


def reminder_source(name: str) -> Callable:
    """Register ``fn(today) -> iterable of (account, event, context, dedupe_key, application_id)`` under ``name``."""

    def wrap(fn: Callable[[date], Iterable[Reminder]]) -> Callable[[date], Iterable[Reminder]]:
        SOURCES[name] = fn
        return fn

    return wrap


@reminder_source("corrections")
def corrections_due(today: date) -> Iterator[Reminder]:
    """Applicants whose one-time notice is due within a few working days and still unanswered."""
    days = int(current_app.config.get("PORTAL_REMIND_CORRECTION_WORKING_DAYS", CORRECTION_REMIND_WORKING_DAYS))
    horizon = add_working_days(today, days)
    rows = db.session.execute(
        select(Application, CorrectionNotice).join(CorrectionNotice, CorrectionNotice.application_id == Application.id)
        .where(Application.state == State.CORRECTION_REQUESTED.value, CorrectionNotice.resolved_at.is_(None),
               CorrectionNotice.respond_by >= today, CorrectionNotice.respond_by <= horizon)).all()
    for case, notice in rows:
        context = case_context(case, {"respond_by_on": notice.respond_by.isoformat(), "materials": _materials(case)})
        yield case.applicant, Event.CORRECTION_DUE, context, f"correction_due:{notice.id}", case.id


@reminder_source("staff_digest")
def staff_digest(today: date) -> Iterator[Reminder]:
    """Each member of staff: their cases due soon or overdue; section chiefs also get the unassigned ones."""
    horizon = add_working_days(today, DUE_SOON_WORKING_DAYS)
    open_states = [s.value for s in State if s not in CLOSED_STATES and s is not State.DRAFT]
    cases = db.session.execute(select(Application).where(
        Application.state.in_(open_states), Application.state != State.CORRECTION_REQUESTED.value,
        Application.due_date.is_not(None), Application.due_date <= horizon).order_by(Application.due_date)).scalars()
    by_staff: dict[int | None, list[Application]] = defaultdict(list)
    for case in cases:
        by_staff[case.assignee_id].append(case)
    recipients: dict[int, list[Application]] = {k: v for k, v in by_staff.items() if k is not None}
    if by_staff.get(None):
        chiefs = db.session.execute(select(Account).where(Account.kind == AccountKind.STAFF.value,
                                                          Account.is_enabled.is_(True))).scalars()
        for chief in chiefs:
            if chief.has_role(Role.CHIEF):
                recipients.setdefault(chief.id, []).extend(by_staff[None])
    for account_id, mine in recipients.items():
        account = db.session.get(Account, account_id)
        overdue = sum(1 for c in mine if c.due_date < today)
        numbers = [c.number for c in mine[:20]] + (["…"] if len(mine) > 20 else [])
        context = {"days": DUE_SOON_WORKING_DAYS, "due_soon": len(mine) - overdue, "overdue": overdue,
                   "numbers": numbers}
        yield account, Event.STAFF_DIGEST, context, f"staff_digest:{account_id}:{today.isoformat()}", None


FILING_REMIND_DAYS = 30  # before a 异地就医备案 filing's last day: inside every region's extension window


@reminder_source("filings")
def filings_expiring(today: date) -> Iterator[Reminder]:
    """Citizens whose active 异地就医备案 filing ends within a month: extend it, or direct settlement stops."""
    from ..insurance.filings import FilingStatus, RemoteCareFiling

    rows = db.session.execute(
        select(RemoteCareFiling, Account).join(Account, Account.person_id == RemoteCareFiling.person_id)
        .where(RemoteCareFiling.status == FilingStatus.ACTIVE.value, RemoteCareFiling.end_date.is_not(None),
               RemoteCareFiling.end_date >= today,
               RemoteCareFiling.end_date <= today + timedelta(days=FILING_REMIND_DAYS))).all()
    for filing, account in rows:
        context = {"destination": filing.destination_name, "expires_on": filing.end_date.isoformat()}
        yield account, Event.FILING_EXPIRING, context, f"filing_expiring:{filing.id}:{filing.end_date}", \
            filing.application_id


@reminder_source("benefits")
def benefits_expiring(today: date) -> Iterator[Reminder]:
    """Citizens whose recognition (门诊慢特病, 特药...) ends within a month: renew it by applying again. Records
    already past their last day are marked expired first (they stopped holding the day after)."""
    from ..services.benefits.records import expire_due, expiring

    expire_due(today)
    catalog = current_app.extensions["portal_catalog"]
    for record in expiring(today):
        code = record.detail_data.get("item")
        item = catalog.get(code) if code else None
        if item is None:
            continue  # a record brought over from the old system names no item to renew it with
        item_names = {"zh": item.name.zh, "en": item.name.en or item.name.zh}
        name = record.detail_data.get("name")
        context = {"what": name or item_names, "expires_on": record.valid_until.isoformat(), "item": item_names,
                   "item_code": item.code}
        accounts = db.session.execute(select(Account).where(Account.person_id == record.person_id,
                                                            Account.kind == AccountKind.CITIZEN.value)).scalars()
        for account in accounts:
            yield account, Event.BENEFIT_EXPIRING, context, \
                f"benefit_expiring:{record.id}:{record.valid_until}:{account.id}", record.application_id


@reminder_source("accounts_left_open")
def accounts_left_open(today: date) -> Iterator[Reminder]:
    """The applicant of a withdrawal for death or settling abroad (死亡, 出国定居) that was paid but could not close the
    account, money having been credited after its payment started: once, a month after it completed, unless a new
    withdrawal for that account is under way. The money can be withdrawn on a new application, which closes it."""
    from ..services.claims.effects import left_open, remind_days

    days = remind_days()
    for row in left_open():
        if row.balance <= 0 or row.again is not None or row.case.completed_at is None:
            continue
        if clock.to_local(row.case.completed_at).date() + timedelta(days=days) > today:
            continue
        context = case_context(row.case, {"left_yuan": str(row.balance)})
        yield row.case.applicant, Event.ACCOUNT_LEFT_OPEN, context, f"account_left_open:{row.case.id}", row.case.id


def send_reminders(today: date | None = None, *, only: Iterable[str] | None = None) -> dict[str, int]:
    """Queue every registered source's reminders for ``today``; returns how many each queued (new ones only)."""
    today = today or clock.today()
    counts: dict[str, int] = {}
    for name, source in SOURCES.items():
        if only is not None and name not in set(only):
            continue
        counts[name] = 0
        for account, event, context, key, application_id in source(today):
            # the staff digest stays inside the portal: it lists case numbers, not for a phone's lock screen
            channels = (Channel.INBOX,) if event is Event.STAFF_DIGEST else None
            if notify(account, event, context, application_id=application_id, dedupe_key=key,
                      channels=channels) is not None:
                counts[name] += 1
    return counts
