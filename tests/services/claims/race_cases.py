"""What the claims' PostgreSQL race tests build before the race: staff members, and an outpatient claim in review
(吉林 门诊费用报销, jilin employee demo values: cap 150,000, 80 ％ above 600), through the real operations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from portal.accounts import operations as account_ops
from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.core import clock
from tests.factories import STAFF_PASSWORD
from tests.race_support import SYSTEM, complete_draft

OUTPATIENT = "G002036006001"


def staff_member(username: str, role: Role) -> Any:
    return account_ops.create_staff(account_ops.NewStaff(username, role.value.title(), STAFF_PASSWORD,
                                                         frozenset({role})), actor=SYSTEM)[0]


def claim_in_review(app, citizen, acceptor, reviewer, number: str, total: str) -> int:
    """The id of ``citizen``'s outpatient claim of one invoice (``number``, ``total``), accepted and in review."""
    case = complete_draft(app, citizen, code=OUTPATIENT, form={
        "payee_name": citizen.person.name, "hospital_level": "三级", "invoices": [{
            "number": number, "issued_on": (clock.today() - timedelta(days=20)).isoformat(),
            "institution": "吉林大学第一医院", "visit_type": "门诊", "total": total}]})
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    ops.accept_application(case, by=acceptor, actor=SYSTEM)
    ops.start_review(case, by=reviewer, actor=SYSTEM)
    return case.id


def states_of(app, case_ids: list[int]) -> list[str]:
    """The states of the cases as committed, sorted (read in a session of its own)."""
    from portal.applications.models import Application
    from portal.core.db import db

    with app.app_context():
        try:
            return sorted(db.session.get(Application, case_id).state for case_id in case_ids)
        finally:
            db.session.remove()
