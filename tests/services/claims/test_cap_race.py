"""Two reviewers approve two claims of one person at the same moment (PostgreSQL: each request its own session and
connection, the cases committed before; each request has read its case before either approves). Each claim alone is
within the year's cap, the two together are not: the person's row is taken in turn, so exactly one is approved and
the other is told what the cap has left."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.models import Application
from portal.core.db import db
from portal.core.errors import InvalidTransition
from tests.race_support import SYSTEM, bound_citizen, empty_every_table, race_setup, run_at_once
from tests.services.claims.race_cases import claim_in_review, staff_member, states_of

pytestmark = pytest.mark.no_db

@pytest.fixture
def two_claims(app, monkeypatch):
    """(reviewer id, [case ids]): two claims of one person in review, each computed against the whole cap."""
    with race_setup(app, monkeypatch):
        citizen = bound_citizen(seq="823", insured_no="P-race-cap", name="周封顶", gender="M", client_ip="127.0.0.9")
        acceptor = staff_member("capacceptor", Role.ACCEPTOR)
        reviewers = [staff_member(f"capreviewer{n}", Role.REVIEWER) for n in range(2)]
        cases = [claim_in_review(app, citizen, acceptor, reviewers[n], f"CAP-RACE-{n}", "150000.00")
                 for n in range(2)]
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
    assert states_of(app, cases) == ["approved", "under_review"]
