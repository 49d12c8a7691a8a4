"""Migration b7c3e1a4d2f9: bindings made by name + 身份证 alone from another phone become pending; those from the
phone on record become proven ``phone`` bindings (SQLite here; the schema diff runs on both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.accounts.models import citizen_login_key
from portal.core.crypto import keyring
from portal.core.db import make_engine
from portal.core.migrate import alembic_config
from portal.insurance.models import id_number_index, phone_index
from tests.factories import mobile, valid_id_number

pytestmark = pytest.mark.no_db


def insert_person(session, insured_no: str, name: str, number: str, phone: str) -> int:
    """A person row as the schema before names were sealed holds it (plaintext name, sealed numbers)."""
    return session.execute(text(
        "INSERT INTO person (insured_no, name, id_number, id_number_index, gender, birth_date, phone, phone_index, "
        "category, is_retired_cadre, is_model_worker, is_extreme_poverty, is_subsistence_allowance, "
        "is_severely_disabled, is_disabled_veteran, created_at) VALUES (:no, :name, :number, :number_index, 'F', "
        ":birth, :phone, :phone_index, 'employee', false, false, false, false, false, false, "
        "'2026-12-01 00:00:00+00') RETURNING id"),
        {"no": insured_no, "name": name, "number": keyring().seal(number, "person.id_number"),
         "number_index": id_number_index(number), "birth": date(1985, 3, 12),
         "phone": keyring().seal(phone, "person.phone"), "phone_index": phone_index(phone)}).scalar_one()


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
                # as the schema of that revision holds them (names plaintext then): plain SQL, not today's models
                person_id = insert_person(session, f"PM{i}", f"迁移{i}", number, phone)
                login_phone = phone if same_phone else mobile()
                account_id = session.execute(text(
                    "INSERT INTO account (kind, login_key, display_name, phone, phone_index, person_id, is_unit_admin, "
                    "totp_last_step, role_codes, failed_logins, bind_failures, is_enabled, created_at) VALUES "
                    "('citizen', :key, '', :phone, :phone_index, :person, false, 0, '', 0, 0, true, "
                    "'2026-12-01 00:00:00+00') RETURNING id"),
                    {"key": citizen_login_key(login_phone), "phone": keyring().seal(login_phone, "account.phone"),
                     "phone_index": phone_index(login_phone), "person": person_id}).scalar_one()
                people.append(person_id)
                accounts.append(account_id)
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
