"""Reminders: corrections due soon to the applicant, a digest of cases due soon to staff, registered sources
(filings about to expire); each reminder once, however often the command runs."""

from __future__ import annotations

from datetime import date, datetime

from click.testing import CliRunner
from sqlalchemy import select

from portal.cli import portal_group
from portal.core import clock
from portal.notifications import reminders
from portal.notifications.constants import Event
from portal.notifications.models import Notification


def _of(account, event) -> list[Notification]:
    from portal.core.db import db

    return list(db.session.execute(select(Notification).where(Notification.account_id == account.id,
                                                              Notification.event == event)).scalars())


def test_an_unanswered_notice_is_reminded_once_when_its_deadline_nears(case_in, citizen):
    with clock.frozen(datetime(2026, 9, 1, 10, 0)):  # a Tuesday; the notice allows 15 working days
        case = case_in("correction_requested")
    respond_by = case.open_notice.respond_by
    assert reminders.send_reminders(date(2026, 9, 10))["corrections"] == 0  # still far off
    counts = reminders.send_reminders(respond_by)
    assert counts["corrections"] == 1
    [reminder] = _of(citizen, Event.CORRECTION_DUE)
    assert reminder.application_id == case.id and reminder.context["respond_by_on"] == respond_by.isoformat()
    assert reminders.send_reminders(respond_by)["corrections"] == 0  # the second run sends nothing twice


def test_staff_get_a_digest_of_their_cases_due_soon_in_the_portal_only(case_in, staff, db_session):
    with clock.frozen(datetime(2026, 9, 1, 10, 0)):
        case = case_in("accepted")
    case.assignee_id = staff["reviewer"].id
    db_session.flush()
    reminders.send_reminders(case.due_date, only=["staff_digest"])
    [digest] = _of(staff["reviewer"], Event.STAFF_DIGEST)
    assert digest.context["due_soon"] == 1 and digest.context["overdue"] == 0
    assert digest.context["numbers"] == [case.number]
    assert [d.channel for d in digest.deliveries] == ["inbox"]  # case numbers stay off phones' lock screens


def test_chiefs_hear_of_unassigned_cases_overdue(case_in, staff):
    with clock.frozen(datetime(2026, 9, 1, 10, 0)):
        case = case_in("accepted")
    reminders.send_reminders(date(2026, 12, 1), only=["staff_digest"])
    digest = _of(staff["chief"], Event.STAFF_DIGEST)[-1]
    assert case.number in digest.context["numbers"] and digest.context["overdue"] >= 1
    assert _of(staff["acceptor"], Event.STAFF_DIGEST) == []


def test_another_feature_registers_a_source_for_filings_about_to_expire(citizen, monkeypatch):
    def expiring(today):
        yield citizen, Event.FILING_EXPIRING, {"destination": "海南省", "expires_on": "2026-12-31"}, "filing:7", None

    monkeypatch.setitem(reminders.SOURCES, "filings", expiring)
    assert reminders.send_reminders(date(2026, 12, 1), only=["filings"]) == {"filings": 1}
    assert reminders.send_reminders(date(2026, 12, 2), only=["filings"]) == {"filings": 0}
    [message] = _of(citizen, Event.FILING_EXPIRING)
    assert {d.channel for d in message.deliveries} == {"inbox", "sms"}


def test_the_commands_run(app, case_in):
    case_in("accepted")
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(portal_group, ["notify", "work", "--once"], obj=None)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sent 1,")  # the acceptance's text message
