"""Migration b7c3e1a4d2f9: bindings made by name + 身份证 alone from another phone become pending; those from the
phone on record become proven ``phone`` bindings (SQLite here; the schema diff runs on both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.accounts.models import Account, citizen_login_key
from portal.core.db import make_engine
from portal.core.migrate import alembic_config
from portal.insurance.models import Person
from tests.factories import mobile, valid_id_number

pytestmark = pytest.mark.no_db


def test_unproven_bindings_become_pending_and_phone_ones_stay(app, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context(), engine.connect() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "e5fc2b95736b")
        connection.commit()
        people, accounts = [], []
        with Session(bind=connection) as session:
            for i, same_phone in enumerate((True, False)):
                phone, number = mobile(), valid_id_number()
                person = Person(insured_no=f"PM{i}", name=f"迁移{i}", gender="F", birth_date=date(1985, 3, 12))
                person.set_id_number(number)
                person.set_phone(phone)
                session.add(person)
                session.flush()
                login_phone = phone if same_phone else mobile()
                account = Account(kind="citizen", login_key=citizen_login_key(login_phone), person_id=person.id)
                account.set_phone(login_phone)
                session.add(account)
                session.flush()
                people.append(person.id)
                accounts.append(account.id)
            session.commit()
        command.upgrade(config, "b7c3e1a4d2f9")
        rows = connection.execute(text("SELECT account_id, person_id, status, method FROM person_binding "
                                       "ORDER BY account_id")).all()
        assert [tuple(r) for r in rows] == [(accounts[0], people[0], "active", "phone"),
                                            (accounts[1], people[1], "pending", None)]
        bound = dict(connection.execute(text("SELECT id, person_id FROM account")).all())
        assert bound == {accounts[0]: people[0], accounts[1]: None}
        with pytest.raises(RuntimeError, match="would be lost"):
            command.downgrade(config, "e5fc2b95736b")  # a pending binding the old schema cannot hold
    engine.dispose()
