"""The staff case page of a claim filed after its deadline: the deadline missed and the claimant's reason, the
acceptance asking for the force majeure, and, once accepted, who accepted it, when and why."""

from __future__ import annotations

from datetime import datetime

from portal.accounts.models import Role
from portal.core import clock
from portal.workbench import operations as desk
from tests.conftest import csrf_from
from tests.services.claims.test_claims import OUTPATIENT, _invoice
from tests.workbench.conftest import SYSTEM


def test_the_case_page_shows_the_late_claim_and_records_its_acceptance(browser_as, make_case, citizen, db_session):
    with clock.frozen(datetime(2026, 4, 2, 10)):
        _late_claim_accepted(browser_as, make_case, citizen, db_session)


def _late_claim_accepted(browser_as, make_case, citizen, db_session):
    case = make_case(OUTPATIENT, citizen, form={"invoices": [{**_invoice("LATE-P"), "issued_on": "2025-12-20"}],
                                                "late_reason": "洪水封路"})
    browser, acceptor = browser_as("lateacc", Role.ACCEPTOR)
    desk.claim_case(case, by=acceptor, actor=SYSTEM, version=case.version)
    db_session.commit()
    page = browser.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'id="claim-late"' in page and "洪水封路" in page and "Force majeure (不可抗力) for which" in page
    sent = {"csrf_token": csrf_from(page), "version": str(case.version), "action": "accept"}
    refused = browser.post(f"/staff/cases/{case.id}/decide", data=sent, follow_redirects=True)
    assert "record the force majeure" in refused.get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "submitted"
    done = browser.post(f"/staff/cases/{case.id}/decide", data={**sent, "reason": "洪灾封路属不可抗力"},
                        follow_redirects=True)
    page = done.get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "accepted"
    assert 'id="claim-late-accepted"' in page and "洪灾封路属不可抗力" in page
