"""Two requests of one person filing a long-term 异地就医备案 at the same moment, on PostgreSQL: one filing is
made, the other request is refused with a domain error (never a database error, never two long-term filings).

Runs only with PORTAL_TEST_DATABASE_URL pointing at PostgreSQL; the rows it commits are deleted afterwards.
"""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts.models import Account, LoginSession, OtpChallenge, PersonBinding, SmsMessage
from portal.applications.models import Application, ApplicationEvent
from portal.commitments.models import CommitmentSignature
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.validators import id_check_digit
from portal.insurance.filings import RemoteCareFiling
from portal.insurance.models import Person
from portal.national.models import OutboundMessage
from portal.services.remote_care import operations as rc

pytestmark = [
    pytest.mark.no_db,
    pytest.mark.skipif(not os.environ.get("PORTAL_TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="a concurrency test: needs PostgreSQL (PORTAL_TEST_DATABASE_URL)"),
]
SYSTEM = Actor.system()
PHONE = "13700000077"


def _setup(app) -> tuple[int, int]:
    with app.app_context(), app.test_request_context("/"):
        first = db.session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()
        first17 = "22010219500312077"
        person = Person(insured_no="PCONC00077", name="赵并发", gender="F", birth_date=date(1950, 3, 12))
        person.set_id_number(first17 + id_check_digit(first17))
        person.set_phone(PHONE)
        db.session.add(person)
        db.session.flush()
        code = account_ops.request_login_code(account_ops.CodeRequest(PHONE), actor=SYSTEM, client_ip="10.9.9.9")
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="10.9.9.9")
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
        db.session.commit()
        return account.id, first


def _cleanup(app, account_id: int, audit_from: int) -> None:
    with app.app_context():
        person_id = db.session.get(Account, account_id).person_id
        cases = select(Application.id).where(Application.applicant_id == account_id)
        db.session.execute(delete(RemoteCareFiling).where(RemoteCareFiling.person_id == person_id))
        db.session.execute(delete(CommitmentSignature).where(CommitmentSignature.person_id == person_id))
        db.session.execute(delete(ApplicationEvent).where(ApplicationEvent.application_id.in_(cases)))
        db.session.execute(delete(Application).where(Application.applicant_id == account_id))
        for model in (LoginSession, OtpChallenge, PersonBinding):
            if hasattr(model, "account_id"):
                db.session.execute(delete(model).where(model.account_id == account_id))
        db.session.execute(delete(SmsMessage))
        db.session.execute(delete(OutboundMessage))  # the filing's report to the national platform
        db.session.execute(delete(OtpChallenge))
        db.session.execute(delete(Account).where(Account.id == account_id))
        db.session.execute(delete(Person).where(Person.id == person_id))
        db.session.execute(delete(AuditEvent).where(AuditEvent.id > audit_from))
        db.session.commit()


def test_two_simultaneous_long_term_filings_make_one(app):
    account_id, audit_from = _setup(app)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def file(key: str) -> None:
        with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
            account = db.session.get(Account, account_id)
            # the start date is "today" in China's date, read from the clock the filing rule reads (not the
            # machine's date.today(), a day behind for eight hours a day)
            barrier.wait()
            try:
                case = rc.file_remote_care(rc.FilingInput(
                    category="resettled_retiree", destination_code="460100", start_date=clock.today().isoformat(),
                    care_address="海口市1号", care_phone="13912345678", commitment_consent=True, signed_name="赵并发"),
                    by=account, actor=SYSTEM, idempotency_key=key)
                db.session.commit()
                outcomes.append(case.state)
            except DomainError as error:
                db.session.rollback()
                outcomes.append(error)
            except Exception as error:  # anything else (a database error) is the bug this test looks for
                db.session.rollback()
                outcomes.append(error)

    try:
        threads = [threading.Thread(target=file, args=(f"concurrent-key-{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(outcomes) == 2, outcomes
        assert [o for o in outcomes if not isinstance(o, DomainError)] == ["completed"], outcomes
        with app.app_context():
            person_id = db.session.get(Account, account_id).person_id
            count = db.session.execute(select(func.count()).select_from(RemoteCareFiling).where(
                RemoteCareFiling.person_id == person_id)).scalar_one()
        assert count == 1
    finally:
        _cleanup(app, account_id, audit_from)
