"""The revision that links account movements to their cases: a 一次性支取 recorded before it (its note names the case
number) is linked to its case, other movements are not, and the revision downgrades and upgrades cleanly (on a
database of its own: SQLite, or a schema of PORTAL_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import inspect, text

from portal.accounts.models import Account
from portal.applications.models import Application
from portal.insurance.models import AccountTransaction, Person, PersonalAccount
from tests.notifications.test_delivery_migration import _insert
from tests.test_downgrades import migrated_database

pytestmark = pytest.mark.no_db
REVISION, BEFORE = "3bc29cb29e9e", "8af973a543b2"


def test_earlier_withdrawals_are_linked_to_their_cases_and_the_revision_round_trips(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        command.upgrade(config, BEFORE)
        connection.commit()
        account_id = _insert(connection, Account, kind="citizen", login_key="citizen:migration", display_name="")
        person_id = _insert(connection, Person, insured_no="P-migr", name="x", name_index="n", id_number="x",
                            id_number_index="i", gender="F", birth_date=date(1960, 1, 1))
        case_id = _insert(connection, Application, region="yueyang", item_code="002036002003", item_name="支取",
                          handler="claims", audience="individual", limit_kind="working_days",
                          applicant_id=account_id, applicant_name="x", number="YY2026120100001", state="completed")
        other_case = _insert(connection, Application, region="yueyang", item_code="002036002003", item_name="支取",
                             handler="claims", audience="individual", limit_kind="working_days",
                             applicant_id=account_id, applicant_name="x", number="YY2026120100002", state="paying")
        wallet = _insert(connection, PersonalAccount, person_id=person_id, opened_on=date(2020, 1, 1),
                         balance=Decimal("0.00"))
        movement = {"account_id": wallet, "occurred_on": date(2026, 12, 1)}
        credit = _insert(connection, AccountTransaction, **movement, amount=Decimal("100.00"), kind="credit",
                         balance_after=Decimal("100.00"), note="一次性支取 YY2026120100001")
        withdrawal = _insert(connection, AccountTransaction, **movement, amount=Decimal("-100.00"),
                             kind="lump_sum_withdrawal", balance_after=Decimal("0.00"),
                             note="一次性支取 YY2026120100001")
        connection.commit()

        command.upgrade(config, REVISION)
        connection.commit()
        links = dict(connection.execute(text("SELECT id, application_id FROM account_transaction")).all())
        # the withdrawal names its case; a credit is never a case's withdrawal; the paying case has no debit yet
        assert links == {credit: None, withdrawal: case_id} and other_case not in links.values()

        command.downgrade(config, BEFORE)
        connection.commit()
        assert "application_id" not in {c["name"] for c in inspect(connection).get_columns("account_transaction")}
        assert connection.execute(text("SELECT count(*) FROM account_transaction")).scalar_one() == 2
        command.upgrade(config, REVISION)
        connection.commit()
        assert "application_id" in {c["name"] for c in inspect(connection).get_columns("account_transaction")}
