"""异地就医备案 reported to the national platform: every filing, change, extension, cancellation, expiry and
revocation queues a report with the change; the worker delivers it (retrying a platform that cannot be reached);
the filing's page says whether it was reported and why not; staff see the unreported ones and send them again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.core import clock
from portal.core.db import db
from portal.insurance.filings import RemoteCareFiling
from portal.integrations.national.http import HttpNationalPlatform
from portal.integrations.national.local import LocalNationalPlatform
from portal.national import operations as national
from portal.national.filings import report_status, unreported
from portal.national.models import OutboundMessage, OutboundStatus
from portal.services.remote_care import operations as rc
from tests.factories import log_in_staff
from tests.services.remote_care_support import GUANGZHOU, SYSTEM, file

pytestmark = pytest.mark.usefixtures("english")
JILIN = "220100"


@pytest.fixture
def platform(app, tmp_path, monkeypatch):
    """This test's own hub (a file of its own), as the deployment's adapter; ``platform.use(adapter)`` swaps it."""
    hub = LocalNationalPlatform(str(tmp_path / "hub.sqlite"), JILIN)
    monkeypatch.setitem(app.extensions, "portal_national", hub)
    hub.use = lambda adapter: monkeypatch.setitem(app.extensions, "portal_national", adapter)
    return hub


def filing_of(case) -> RemoteCareFiling:
    return db.session.execute(select(RemoteCareFiling).where(RemoteCareFiling.application_id == case.id)).scalar_one()


def reports(filing) -> list[OutboundMessage]:
    return list(db.session.execute(select(OutboundMessage).where(OutboundMessage.filing_id == filing.id)
                                   .order_by(OutboundMessage.id)).scalars())


def test_a_filing_and_each_change_are_reported_and_the_platform_keeps_the_latest_state(citizen, at, platform):
    at(2026, 12, 1)
    filing = filing_of(file(citizen))
    [filed] = reports(filing)
    assert filed.status == OutboundStatus.PENDING and filed.recipient == "national"
    assert filed.body["filing_number"] == filing.number and filed.body["event"] == "filed"
    assert report_status(filing).text.startswith("Not yet reported to the national platform: the report is waiting")
    assert national.deliver_due() == {"sent": 1, "pending": 0, "failed": 0}
    status = report_status(filing)
    assert status.reported and status.text.startswith("Reported to the national platform on")
    [seen] = platform.filings_of(citizen.person.id_number)
    assert seen["filing_number"] == filing.number and seen["destination"]["code"] == "460000"

    at(2027, 6, 2)  # after the lock
    rc.change_filing(filing, rc.ChangeInput(GUANGZHOU), by=citizen, actor=SYSTEM)
    at(2028, 1, 3)
    rc.cancel_filing(filing, by=citizen, actor=SYSTEM)
    assert [r.filing_event for r in reports(filing)] == ["filed", "changed", "cancelled"]
    assert not report_status(filing).reported
    assert national.deliver_due()["sent"] == 2
    [seen] = platform.filings_of(citizen.person.id_number)
    assert seen["event"] == "cancelled" and seen["status"] == "cancelled"
    assert seen["destination"] == {"code": "440100", "name": "广东省广州市"}


def test_extension_expiry_and_revocation_are_reported(citizen, make_citizen, at, platform, region):
    region("jilin")  # long-term filings end after 12 months there, so they extend and expire
    at(2026, 12, 1)
    filing = filing_of(file(citizen))
    other = filing_of(file(make_citizen("王小红"), signed_name="王小红"))
    assert filing.end_date is not None
    at(filing.end_date.year, filing.end_date.month, filing.end_date.day)
    rc.extend_filing(filing, by=citizen, actor=SYSTEM)
    later = other.end_date + timedelta(days=1)
    at(later.year, later.month, later.day)
    assert rc.expire_filings(actor=SYSTEM) >= 1
    assert [r.filing_event for r in reports(filing)] == ["filed", "extended"]
    assert [r.filing_event for r in reports(other)][-1] == "expired"
    rc.revoke_filing(filing.application, "承诺不实")
    assert reports(filing)[-1].filing_event == "revoked"
    national.deliver_due()
    states = {f["filing_number"]: f["status"] for f in platform.filings_of(citizen.person.id_number)}
    assert states == {filing.number: "revoked"}


def test_an_unreachable_platform_is_retried_later_and_the_filing_says_so(citizen, at, platform, app):
    moment = at(2026, 12, 1)
    filing = filing_of(file(citizen))
    platform.use(HttpNationalPlatform("http://127.0.0.1:9", JILIN, "s" * 20, timeout=(0.3, 0.3)))
    assert national.deliver_due() == {"sent": 0, "pending": 1, "failed": 0}
    [row] = reports(filing)
    assert row.attempts == 1 and row.last_error.startswith("unavailable")
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=30)  # PORTAL_NOTIFY_BACKOFF_SECONDS
    assert national.deliver_due() == {"sent": 0, "pending": 0, "failed": 0}  # not due yet
    assert report_status(filing).text == ("Not yet reported to the national platform: it could not be reached "
                                          "(1 attempt so far); it is tried again automatically.")
    assert [f.id for f, _row in unreported()] == [filing.id]
    platform.use(platform)
    moment.tick(timedelta(minutes=2))
    assert national.deliver_due()["sent"] == 1
    assert report_status(filing).reported and unreported() == []


def test_a_worker_that_died_after_the_platform_took_the_report_sends_it_again_once(citizen, at, platform):
    moment = at(2026, 12, 1)
    filing = filing_of(file(citizen))
    [row] = reports(filing)
    platform.send(national._message(row))  # the platform took it …
    row.status, row.lease_until, row.attempts = "sending", clock.now() + timedelta(seconds=120), 1
    db.session.commit()  # … and the worker died before it recorded the receipt
    assert national.deliver_due()["sent"] == 0  # its lease holds
    moment.tick(timedelta(minutes=3))
    assert national.deliver_due()["sent"] == 1
    assert platform.hub.count(kind="filing_report") == 1  # one message, not two


def test_a_refused_report_is_listed_for_staff_and_sent_again(citizen, at, platform, make_staff, make_client,
                                                             db_session, tmp_path):
    at(2026, 12, 1)
    filing = filing_of(file(citizen))
    misconfigured = LocalNationalPlatform(str(tmp_path / "hub.sqlite"), "231025")  # another area's node
    platform.use(misconfigured)
    assert national.deliver_due()["failed"] == 1
    status = report_status(filing)
    assert not status.reported and status.text == ("Not reported to the national platform: it refused the report. The "
                                                   "agency has been shown why and will send it again.")
    _staff, secret = make_staff("clerk", roles={Role.ACCEPTOR})
    db_session.commit()
    browser = log_in_staff(make_client(), "clerk", secret)
    page = browser.get("/staff/national/").get_data(as_text=True)
    assert filing.number in page and "sender differs from the authenticated area" in page
    assert citizen.person.name not in page  # masked
    platform.use(platform)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    [row] = reports(filing)
    answer = browser.post(f"/staff/national/messages/{row.id}/retry", data={"csrf_token": token})
    assert answer.status_code == 302
    assert national.deliver_due()["sent"] == 1
    assert report_status(filing).reported
    assert "Every filing has been reported." in browser.get("/staff/national/").get_data(as_text=True)


def test_the_citizen_sees_whether_the_filing_was_reported(citizen, at, platform, browser_for):
    at(2026, 12, 1)
    filing = filing_of(file(citizen))
    browser = browser_for(citizen)
    detail = browser.get(f"/remote-care/filings/{filing.id}", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert "Not yet reported to the national platform" in detail
    national.deliver_due()
    db.session.commit()
    detail = browser.get(f"/remote-care/filings/{filing.id}").get_data(as_text=True)
    assert "Reported to the national platform on" in detail
    assert "Reported to the national platform on" in browser.get("/remote-care/filings").get_data(as_text=True)


def test_the_staff_screen_is_for_case_workers(make_staff, make_client, db_session):
    _admin, secret = make_staff("boss", roles={Role.ADMIN})
    db_session.commit()
    assert log_in_staff(make_client(), "boss", secret).get("/staff/national/").status_code == 403
