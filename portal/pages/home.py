"""What the home page shows: the high-frequency services as tiles, the visitor's cases in progress and unread
messages, and notices — only ones built from data the portal holds (the holiday schedule), never invented.

The tiles are the services people come for most (the national platform, 粤省事 and 浙里办 put the same ones on
their front page); which of them appear depends on who is looking and on what this region offers. Elder mode
(适老化) keeps only the ``is_core`` ones: at most six, in one column of large targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app, url_for

from ..accounts.models import AccountKind
from ..applications import operations as applications
from ..applications.constants import State
from ..calendar import engine as calendar
from ..catalog.views import translate_text
from ..certificates.constants import KIND_OF_HANDLER
from ..core import clock
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..notifications import operations as notifications
from ..notifications.messages import render

MAX_CORE_TILES = 6
NOTICE_DAYS_AHEAD = 14  # a holiday is announced on the home page this many days before it starts
OPEN_CASES_SHOWN = 5
UNREAD_SHOWN = 3


@dataclass(frozen=True)
class Tile:
    key: str  # stable, for tests and styling
    title: str
    hint: str
    href: str
    is_core: bool  # one of the few kept in elder mode
    badge: int = 0


@dataclass(frozen=True)
class NextStep:
    """What happens next on an open case, who does it, and by when."""

    title: str  # the item, in the page's language
    text: str
    due: date | None
    is_yours: bool  # the applicant has to act
    href: str


@dataclass(frozen=True)
class HolidayNotice:
    name: str
    first: date
    last: date


# The holidays as the State Council's notice names them (imported schedules) and as the chinesecalendar package
# names them (English): one label per language.
HOLIDAY_NAMES = {
    "元旦": _l("New Year's Day"), "New Year's Day": _l("New Year's Day"),
    "春节": _l("Spring Festival"), "Spring Festival": _l("Spring Festival"),
    "清明节": _l("Qingming Festival"), "清明": _l("Qingming Festival"), "Tomb-sweeping Day": _l("Qingming Festival"),
    "劳动节": _l("Labour Day"), "Labour Day": _l("Labour Day"),
    "端午节": _l("Dragon Boat Festival"), "Dragon Boat Festival": _l("Dragon Boat Festival"),
    "中秋节": _l("Mid-Autumn Festival"), "Mid-autumn Festival": _l("Mid-Autumn Festival"),
    "国庆节": _l("National Day"), "National Day": _l("National Day"),
}


def _offers_certificates() -> bool:
    return any(item.handler in KIND_OF_HANDLER for item in current_app.extensions["portal_catalog"].items)


def _offers_remote_care() -> bool:
    if "remote_care.index" not in current_app.view_functions:
        return False
    from ..services.remote_care.operations import offered_categories

    return bool(offered_categories())


def tiles(user: Any, *, unread: int) -> list[Tile]:
    """The service tiles for ``user`` (anonymous visitors see the citizen's: each asks to log in when opened)."""
    kind = getattr(user, "kind", None) if getattr(user, "is_authenticated", False) else None
    if kind == AccountKind.STAFF:  # the back-office pages this member of staff may open (workbench/menu.py)
        from ..workbench.menu import entries_for

        return [Tile(e.endpoint.replace(".", "-").replace("_", "-"), str(e.label), "", url_for(e.endpoint), True)
                for e in entries_for(user)]
    out: list[Tile] = []
    if _offers_certificates():
        out.append(Tile("certificate", _("Print an insurance certificate"),
                        _("Issued at once, with a QR code anyone can verify") if kind != AccountKind.AGENT
                        else _("The unit's certificate, issued at once"), url_for("certificates.mine"), True))
    if kind == AccountKind.AGENT:
        out += [Tile("records", _("Unit insurance records"), _("Insured staff, contributions and arrears"),
                     url_for("insurance.unit_records"), True),
                Tile("staff", _("Insured staff"), _("Who is insured, by insurance type"),
                     url_for("insurance.unit_staff"), False)]
    else:
        out.append(Tile("records", _("My insurance records"), _("Enrolment, contributions and personal account"),
                        url_for("insurance.person_records"), True))
        if _offers_remote_care():
            out.append(Tile("remote-care", _("Register care elsewhere"), _("File, check or change a registration"),
                            url_for("remote_care.index"), True))
    out += [Tile("progress", _("Track an application"), _("With the receipt number, or scan the receipt's QR code"),
                 url_for("progress.lookup"), True),
            Tile("mine", _("My applications"), _("Drafts, cases in progress and results"),
                 url_for("applications.mine"), True),
            Tile("messages", _("Messages"), _("Acceptances, requests for corrections, results"),
                 url_for("notifications.inbox"), kind is not None, unread)]
    if kind != AccountKind.AGENT:
        out += [Tile("contributions", _("My contributions"), _("Month by month, by insurance type"),
                     url_for("insurance.person_contributions"), False),
                Tile("account", _("My personal account"), _("Balance and movements"),
                     url_for("insurance.person_account"), False)]
    out.append(Tile("guide", _("Service guide"), _("Every item, its materials and time limits"),
                    url_for("catalog.index"), False))
    return out


def core_tiles(all_tiles: list[Tile]) -> list[Tile]:
    return [t for t in all_tiles if t.is_core][:MAX_CORE_TILES]


def next_step(case: Any) -> NextStep:
    """The next step of an open case: the applicant's corrections, or the agency's acceptance, review or payment."""
    href = url_for("applications.detail", case_id=case.id)
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    title = translate_text(item.name) if item is not None else case.item_name
    state = case.state_enum
    if state == State.CORRECTION_REQUESTED:
        notice = case.open_notice
        return NextStep(title, _("Send the corrections the agency asked for"),
                        notice.respond_by if notice else None, True, url_for("applications.correct", case_id=case.id))
    if state == State.SUBMITTED or (state == State.RESUBMITTED and case.accepted_at is None):
        return NextStep(title, _("The agency accepts it or tells you at once what is missing"),
                        case.accept_by or case.due_date, False, href)
    if state in (State.APPROVED, State.PAYING):
        return NextStep(title, _("Approved: the agency pays and completes it"), case.due_date, False, href)
    return NextStep(title, _("The agency reviews it and decides"), case.due_date, False, href)


def open_cases(user: Any) -> tuple[list[tuple[Any, NextStep]], int]:
    if not getattr(user, "is_authenticated", False) or user.kind not in (AccountKind.CITIZEN, AccountKind.AGENT):
        return [], 0
    cases, total = applications.open_cases(user, limit=OPEN_CASES_SHOWN)
    return [(c, next_step(c)) for c in cases], total


def unread_messages(user: Any) -> list[dict[str, Any]]:
    """The newest unread messages (subject and time), for the home page of a logged-in user."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows, _total = notifications.inbox(user, page=1, per_page=20)
    unread = [n for n in rows if n.read_at is None][:UNREAD_SHOWN]
    return [{"subject": render(n.event, n.context).subject, "at": n.created_at} for n in unread]


def holiday_notice(today: date | None = None) -> HolidayNotice | None:
    """The next public holiday starting within ``NOTICE_DAYS_AHEAD`` days (or under way), from the holiday schedule
    the deadlines use; None when none is near or the year's schedule is not known (no guessing)."""
    today = today or clock.today()
    day = today
    while day <= today + timedelta(days=NOTICE_DAYS_AHEAD):
        info = _known_day(day)
        if info is not None and not info.is_workday and info.name in HOLIDAY_NAMES:
            first = last = day
            while (before := _known_day(first - timedelta(days=1))) and not before.is_workday:
                first -= timedelta(days=1)
            while (after := _known_day(last + timedelta(days=1))) and not after.is_workday:
                last += timedelta(days=1)
            return HolidayNotice(str(HOLIDAY_NAMES[info.name]), first, last)
        day += timedelta(days=1)
    return None


def _known_day(day: date) -> calendar.DayInfo | None:
    info = calendar.day_info(day)
    return None if info.is_estimated else info
