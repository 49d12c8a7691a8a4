"""S20 on PostgreSQL: two members of staff claim the same case at the same moment; exactly one wins, the other is told.

Real concurrency: two threads, each with its own app context, session and database connection, both read the
case before either writes, then both claim it. The database serialises the two UPDATEs on the row; the second
finds the version moved and its member of staff gets the "changed a moment ago" answer.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.accounts import operations as account_ops
from portal.accounts.models import Account, Role
from portal.applications import operations as case_ops
from portal.applications.models import Application
from portal.core.audit import AuditEvent, actor_of
from portal.core.db import db
from portal.core.errors import Conflict
from portal.workbench import operations as ops
from tests.factories import STAFF_PASSWORD
from tests.race_support import SYSTEM, bound_citizen, complete_draft, empty_every_table, race_setup

pytestmark = pytest.mark.no_db


@pytest.fixture
def committed(app, monkeypatch):
    """A submitted case and two acceptors, committed for real; every table emptied afterwards."""
    with race_setup(app, monkeypatch):
        citizen = bound_citizen(seq="773", insured_no="P-race-1", name="赵竞争", gender="M", client_ip="127.0.0.20")
        staff = [account_ops.create_staff(account_ops.NewStaff(name, name, STAFF_PASSWORD, frozenset({Role.ACCEPTOR})),
                                          actor=SYSTEM)[0] for name in ("racer_a", "racer_b")]
        case = complete_draft(app, citizen)
        case_ops.submit_application(case, by=citizen, actor=SYSTEM)
        db.session.commit()
        ids = case.id, [s.id for s in staff]
    yield ids
    empty_every_table(app)


def test_two_staff_claiming_one_case_at_once_exactly_one_wins(app, committed):
    case_id, staff_ids = committed
    both_loaded = threading.Barrier(2, timeout=20)
    outcomes: dict[int, object] = {}

    def claim(staff_id: int) -> None:
        with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
            try:
                member = db.session.get(Account, staff_id)
                case = db.session.get(Application, case_id)
                assert case.assignee_id is None
                both_loaded.wait()  # both have read the unclaimed case; now both claim it
                ops.claim_case(case, by=member, actor=actor_of(member))
                db.session.commit()
                outcomes[staff_id] = "won"
            except Conflict as error:
                db.session.rollback()
                outcomes[staff_id] = error
            except Exception as error:
                db.session.rollback()
                outcomes[staff_id] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(s,)) for s in staff_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [s for s, outcome in outcomes.items() if outcome == "won"]
    losers = {s: outcome for s, outcome in outcomes.items() if outcome != "won"}
    assert len(winners) == 1, outcomes
    (loser, error), = losers.items()
    assert isinstance(error, Conflict) and error.code == "case_moved", repr(error)
    assert "changed this case a moment ago" in error.message  # what the loser is told
    with app.app_context():
        case = db.session.get(Application, case_id)
        assert case.assignee_id == winners[0] and case.assignee_id != loser
        claims = db.session.execute(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "workbench.claim")).scalar_one()
        assert claims == 1
        db.session.remove()
