"""Two reviewers approve, at the same moment, the claims of two people that carry one invoice (PostgreSQL: each
request its own session and connection, the cases committed before; each request has read its case before either
approves). Two filings at one moment can both pass the filing's check for an invoice claimed elsewhere; approval is
the backstop, and each invoice number is taken in turn there, so exactly one of the two is approved."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.models import Application
from portal.core.db import db
from portal.services.claims.models import Claim, ClaimInvoice
from tests.race_support import SYSTEM, bound_citizen, empty_every_table, outcomes_at_once, race_setup
from tests.services.claims.race_cases import claim_in_review, staff_member, states_of

pytestmark = pytest.mark.no_db

@pytest.fixture
def two_claims_of_one_invoice(app, monkeypatch):
    """(reviewer ids, case ids): two people's claims in review, both carrying invoice INV-RACE-1."""
    with race_setup(app, monkeypatch):
        citizens = [bound_citizen(seq=seq, insured_no=f"P-race-inv-{seq}", name=name, gender="M",
                                  client_ip=f"127.0.0.{n + 20}")
                    for n, (seq, name) in enumerate((("824", "吴票据"), ("825", "郑票据")))]
        acceptor = staff_member("invacceptor", Role.ACCEPTOR)
        reviewers = [staff_member(f"invreviewer{n}", Role.REVIEWER) for n in range(2)]
        cases = [claim_in_review(app, citizens[n], acceptor, reviewers[n], f"INV-RACE-{n + 1}", "2000.00")
                 for n in range(2)]
        # as two filings at one moment leave them: both passed the filing's check before either was recorded
        second = select(Claim.id).where(Claim.application_id == cases[1]).scalar_subquery()
        db.session.execute(update(ClaimInvoice).where(ClaimInvoice.claim_id == second).values(number="INV-RACE-1"))
        db.session.commit()
        ids = [r.id for r in reviewers], cases
    yield ids
    empty_every_table(app)


def test_two_approvals_of_one_invoice_at_once_approve_one(app, two_claims_of_one_invoice):
    from portal.accounts.models import Account
    from portal.core.errors import InvalidTransition
    from portal.services.claims import operations as claims

    reviewers, cases = two_claims_of_one_invoice
    loaded = threading.Barrier(2, timeout=20)

    def approve(reviewer_id: int, case_id: int) -> None:
        case = db.session.get(Application, case_id)
        assert [i.number for i in claims.claim_of(case).invoices] == ["INV-RACE-1"]
        loaded.wait()
        ops.approve_application(case, by=db.session.get(Account, reviewer_id), actor=SYSTEM)

    outcomes = outcomes_at_once(app, approve, list(zip(reviewers, cases, strict=True)), (InvalidTransition,))
    assert sorted(outcomes) == ["InvalidTransition", "ok"]
    assert states_of(app, cases) == ["approved", "under_review"]

