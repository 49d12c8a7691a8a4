"""The rules of a 异地就医备案 that hold whichever way it is filed (the filing pages, the API, the generic
draft pages): destination, dates, the emergency window, discharge, one long-term filing.

Each check returns ``(field, message)`` pairs; the operations raise them as ``ValidationFailed`` and the
handler's pre-check turns them into blocking findings, so a case that breaks one is never submitted.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from ...calendar import engine as workdays
from ...catalog.schema import Item
from ...core.db import db
from ...core.formatting import local_date
from ...core.translation import gettext as _
from ...insurance.filings import FilingStatus, FilingTerm, RemoteCareFiling
from . import divisions
from .policy import BY_KEY, Category, RegionPolicy, category_of, rule

SELF_SERVICE = "自助备案（个人承诺）"  # filing_method: a signed commitment instead of proof
WITH_PROOF = "提供证明材料"
METHODS = (SELF_SERVICE, WITH_PROOF)
MAX_DAYS_AHEAD = 366  # a filing starts at most a year from now

Reasons = list[tuple[str | None, str]]


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, kept inside the target month (31 Jan + 1 month = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def destination(code: Any, policy: RegionPolicy) -> tuple[divisions.Division | None, Reasons]:
    """The division a filing targets: the province for the seven province-level-only places, else a city or a
    county. Refused: unknown codes, a province that has cities (choose the city), places inside the insured area."""
    division = divisions.get(str(code or "").strip())
    if division is None or division.province_code in divisions.NOT_SERVED:
        return None, [("destination_code", _("Choose the province and city where you will be treated."))]
    if division.province_code in divisions.PROVINCE_LEVEL_ONLY:
        division = divisions.get(division.province_code)
    elif division.level == "province":
        return None, [("destination_code", _("Choose the city in %(province)s where you will be treated: filing "
                                             "goes to the city.", province=division.name))]
    home = policy.home_code
    if home and _inside(division.code, home):
        return None, [("destination_code", _("%(place)s is inside your insured area: no filing is needed there.",
                                             place=divisions.full_name(division.code)))]
    return division, []


def _inside(code: str, home: str) -> bool:
    """True when ``code`` lies within the division ``home`` (a province, city or county)."""
    if home.endswith("0000"):
        return code[:2] == home[:2]
    if home.endswith("00"):
        return code[:4] == home[:4]
    return code == home


def long_term_filing(person_id: int | None, *, exclude_id: int | None = None) -> RemoteCareFiling | None:
    """The person's active long-term filing, if any (there is at most one)."""
    if person_id is None:
        return None
    query = select(RemoteCareFiling).where(RemoteCareFiling.person_id == person_id,
                                           RemoteCareFiling.status == FilingStatus.ACTIVE.value,
                                           RemoteCareFiling.term == FilingTerm.LONG_TERM.value)
    if exclude_id is not None:
        query = query.where(RemoteCareFiling.id != exclude_id)
    return db.session.execute(query).scalar_one_or_none()


def one_long_term(category: Category, person_id: int | None) -> Reasons:
    existing = long_term_filing(person_id) if category.term is FilingTerm.LONG_TERM else None
    if existing is None:
        return []
    return [("category", _("You already have a valid long-term filing (%(number)s, to %(place)s). A person has one "
                           "long-term filing at a time: change that filing instead of filing again.",
                           number=existing.number, place=existing.destination_name))]


def dates(item: Item, category: Category, data: dict[str, Any], today: date) -> Reasons:
    """Start date, emergency window and discharge.

    No seed's 备案表 asks for a start date: when none is given the filing starts on the day it takes effect. A
    date given starts today or later, except for a patient already admitted (补办 before discharge settlement);
    emergency care starts on the day of the emergency. Where the region sets a window of working days after the
    emergency (Yueyang: 3) the emergency date is needed and checked against it; elsewhere it is optional. After
    discharge settlement no filing can be made: the costs are claimed at home.
    """
    reasons: Reasons = []
    start = parse_date(data.get("start_date"))
    admitted = parse_date(data.get("admitted_on"))
    emergency = parse_date(data.get("emergency_date"))
    if data.get("discharged"):
        reasons.append(("admitted_on", _("A filing must be made before discharge settlement. After discharge, "
                                         "claim the costs at your insured place (manual reimbursement).")))
    if admitted is not None and (admitted > today or category.term is not FilingTerm.TEMPORARY):
        reasons.append(("admitted_on", _("The admission date must be a past date of a temporary filing.")))
    if category.key == "emergency":
        window = rule(item, "emergency_filing_within_working_days")
        if (emergency is None and window is not None) or (emergency is not None and emergency > today):
            reasons.append(("emergency_date", _("Enter the date of the emergency (today or earlier).")))
        elif emergency is not None and window is not None:
            last = workdays.add_working_days(emergency, int(window.params.get("days", 3)))
            if today > last:
                reasons.append(("emergency_date", _(
                    "An emergency must be filed within %(days)s working days after it, that is by %(last)s. "
                    "Claim these costs at your insured place instead.", days=window.params.get("days", 3),
                    last=local_date(last))))
        return reasons
    if start is None:  # no seed asks: the filing starts when it takes effect
        return reasons
    if start > today + timedelta(days=MAX_DAYS_AHEAD):
        reasons.append(("start_date", _("The start date can be at most one year from today.")))
    elif start < today and not (admitted is not None and start >= admitted):
        reasons.append(("start_date", _("The start date cannot be in the past, unless you are already admitted to "
                                        "hospital there: then give the admission date.")))
    return reasons


def check_filing(item: Item, data: dict[str, Any], person_id: int | None, policy: RegionPolicy,
                 today: date) -> Reasons:
    """Every rule of one filing, for the data of a case (form data keys)."""
    category = category_of(item) or BY_KEY["other_temporary"]
    _division, reasons = destination(data.get("destination_code"), policy)
    reasons += dates(item, category, data, today)
    reasons += one_long_term(category, person_id)
    return reasons
