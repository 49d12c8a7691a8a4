"""异地就医备案 reported to the national platform, so a hospital at the destination can see the filing.

Every change of a filing — filed, changed, extended, cancelled, expired, revoked — queues one ``filing_report``
(its latest state) in the transaction of the change (``remote_care.operations`` calls :func:`report_filing`).
:func:`report_status` says on the filing's pages whether the latest report went out, and if not, why;
:func:`unreported` lists, for staff, the filings whose latest report has not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ..core.db import db
from ..core.formatting import local_datetime
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..core.translation import ngettext
from ..integrations.national import NATIONAL
from .models import OutboundMessage, OutboundStatus
from .operations import queue, this_node

EVENT_LABELS = {"filed": _l("Filed"), "changed": _l("Changed"), "extended": _l("Extended"),
                "cancelled": _l("Cancelled"), "expired": _l("Expired"), "revoked": _l("Revoked after checking")}
EVENTS = tuple(EVENT_LABELS)


def _area() -> dict[str, str]:
    region = current_app.extensions["portal_catalog"].region
    return {"code": this_node(), "name": region.name.zh}


def report_body(filing: Any, event: str) -> dict[str, Any]:
    person = filing.person
    return {
        "filing_number": filing.number, "event": event,
        "person": {"id_number": person.id_number.upper(), "name": person.name},
        "insured_area": _area(), "category": filing.category, "term": filing.term,
        "destination": {"code": filing.destination_code, "name": filing.destination_name},
        "start_date": filing.start_date.isoformat(),
        "end_date": filing.end_date.isoformat() if filing.end_date else None,
        "status": filing.status, "occurred_at": filing.updated_at.isoformat(timespec="seconds"),
    }


def report_filing(filing: Any, event: str) -> OutboundMessage:
    """Queue the filing's latest state for the platform (flushes; the caller commits with the change)."""
    if event not in EVENTS:
        raise ValueError(f"unknown filing event {event!r}")
    db.session.flush()
    return queue("filing_report", NATIONAL, report_body(filing, event), filing_id=filing.id, filing_event=event)


@dataclass(frozen=True)
class ReportStatus:
    reported: bool
    text: str  # what the filing's pages say
    row: OutboundMessage | None


def latest_report(filing_id: int) -> OutboundMessage | None:
    return db.session.execute(select(OutboundMessage).where(OutboundMessage.filing_id == filing_id)
                              .order_by(OutboundMessage.id.desc()).limit(1)).scalar_one_or_none()


def describe(row: OutboundMessage | None) -> ReportStatus:
    if row is None:
        return ReportStatus(False, _("Not reported to the national platform: this filing was made before reporting "
                                     "began."), None)
    if row.status == OutboundStatus.SENT:
        return ReportStatus(True, _("Reported to the national platform on %(when)s.",
                                    when=local_datetime(row.sent_at)), row)
    if row.status == OutboundStatus.FAILED:
        return ReportStatus(False, _("Not reported to the national platform: it refused the report. The agency has "
                                     "been shown why and will send it again."), row)
    if row.attempts:
        return ReportStatus(False, ngettext("Not yet reported to the national platform: it could not be reached "
                                            "(%(num)d attempt so far); it is tried again automatically.",
                                            "Not yet reported to the national platform: it could not be reached "
                                            "(%(num)d attempts so far); it is tried again automatically.",
                                            row.attempts), row)
    return ReportStatus(False, _("Not yet reported to the national platform: the report is waiting to be sent."), row)


def report_status(filing: Any) -> ReportStatus:
    return describe(latest_report(filing.id))


def unreported(limit: int = 200) -> list[tuple[Any, OutboundMessage]]:
    """(filing, its latest report) for every filing whose latest report has not gone out, oldest first."""
    from ..insurance.filings import RemoteCareFiling

    latest = (select(func.max(OutboundMessage.id)).where(OutboundMessage.filing_id.is_not(None))
              .group_by(OutboundMessage.filing_id))
    rows = db.session.execute(
        select(RemoteCareFiling, OutboundMessage)
        .join(OutboundMessage, OutboundMessage.filing_id == RemoteCareFiling.id)
        .where(OutboundMessage.id.in_(latest), OutboundMessage.status != OutboundStatus.SENT.value)
        .order_by(OutboundMessage.created_at, OutboundMessage.id).limit(limit)).all()
    return [(filing, row) for filing, row in rows]


def waiting_since(row: OutboundMessage) -> datetime:
    return row.created_at
