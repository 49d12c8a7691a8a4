"""Two reviewers approve two claims of one person at the same moment (PostgreSQL: each request its own session and
connection, the cases committed before; each request has read its case before either approves). Each claim alone is
within the year's cap, the two together are not: the person's row is taken in turn, so exactly one is approved and
the other is told what the cap has left."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.accounts import operations as account_ops
from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.models import Application
from portal.core import clock
from portal.core.db import db
from portal.core.errors import InvalidTransition
from tests.factories import STAFF_PASSWORD
from tests.race_support import SYSTEM, bound_citizen, complete_draft, empty_every_table, race_setup, run_at_once

pytestmark = pytest.mark.no_db

OUTPATIENT = "G002036006001"  # 吉林 门诊费用报销 (jilin employee demo values: cap 150,000, 80 ％ above 600)


def _claim_in_review(app, citizen, acceptor, reviewer, number: str) -> int:
    case = complete_draft(app, citizen, code=OUTPATIENT, form={
        "payee_name": citizen.person.name, "hospital_level": "三级", "invoices": [{
            "number": number, "issued_on": (clock.today() - timedelta(days=20)).isoformat(),
            "institution": "吉林大学第一医院", "visit_type": "门诊", "total": "150000.00"}]})
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    ops.accept_application(case, by=acceptor, actor=SYSTEM)
    ops.start_review(case, by=reviewer, actor=SYSTEM)
    return case.id


@pytest.fixture
def two_claims(app, monkeypatch):
    """(reviewer id, [case ids]): two claims of one person in review, each computed against the whole cap."""
    with race_setup(app, monkeypatch):
        citizen = bound_citizen(seq="823", insured_no="P-race-cap", name="周封顶", gender="M", client_ip="127.0.0.9")
        acceptor = account_ops.create_staff(account_ops.NewStaff("capacceptor", "Acceptor", STAFF_PASSWORD,
                                                                 frozenset({Role.ACCEPTOR})), actor=SYSTEM)[0]
        reviewers = [account_ops.create_staff(account_ops.NewStaff(f"capreviewer{n}", "Reviewer", STAFF_PASSWORD,
                                                                   frozenset({Role.REVIEWER})), actor=SYSTEM)[0]
                     for n in range(2)]
        cases = [_claim_in_review(app, citizen, acceptor, reviewers[n], f"CAP-RACE-{n}") for n in range(2)]
        db.session.commit()
        ids = [r.id for r in reviewers], cases
    yield ids
    empty_every_table(app)


def test_two_approvals_at_once_cannot_together_go_over_the_cap(app, two_claims):
    from portal.accounts.models import Account
    from portal.services.claims import operations as claims

    reviewers, cases = two_claims
    loaded = threading.Barrier(2, timeout=20)
    outcomes: list[str] = []

    def approve(reviewer_id: int, case_id: int) -> None:
        with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
            try:
                case = db.session.get(Application, case_id)
                assert claims.claim_of(case).computed_amount == Decimal("119520.00")
                loaded.wait()
                ops.approve_application(case, by=db.session.get(Account, reviewer_id), actor=SYSTEM)
                db.session.commit()
                outcomes.append("approved")
            except InvalidTransition as refusal:
                db.session.rollback()
                outcomes.append(refusal.message)
            finally:
                db.session.remove()

    run_at_once(approve, list(zip(reviewers, cases, strict=True)))
    assert len(outcomes) == 2 and outcomes.count("approved") == 1
    [refusal] = [outcome for outcome in outcomes if outcome != "approved"]
    assert "so at most CN¥30,480.00 can be approved" in refusal
    with app.app_context():
        try:
            states = sorted(db.session.get(Application, case_id).state for case_id in cases)
        finally:
            db.session.remove()
    assert states == ["approved", "under_review"]
