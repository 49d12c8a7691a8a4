"""Personal names are sealed at rest (issue 25, point 6): person.name (with a blind index for exact search),
account.display_name and unit.legal_rep_name; the migration converts existing rows and its downgrade writes the
plaintext back (SQLite, and a schema of its own on PostgreSQL when PORTAL_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import select, text

from portal.core.crypto import keyring
from portal.insurance.models import Person, id_number_index, person_name_index
from tests.factories import valid_id_number
from tests.test_downgrades import migrate, migrated_database

REVISION = "d5e9a3c7b1f4"
BEFORE = "d3a9e6f1c2b8"
NAMES = {"person": "欧阳 春花", "agent": "赵经办", "staff": "王受理", "rep": "钱法人"}


def _old_rows(connection) -> None:
    """Rows as the schema before the revision holds them: names in plaintext."""
    number = valid_id_number()
    connection.execute(text(
        "INSERT INTO unit (id, code, credit_code, name, nature, status, legal_rep_name, created_at) VALUES "
        "(1, 'U1', '91220100MA17DEM55F', '长春名称测试有限公司', 'enterprise', 'active', :rep, "
        "'2026-12-01 00:00:00+00')"), {"rep": NAMES["rep"]})
    connection.execute(text(
        "INSERT INTO person (id, insured_no, name, id_number, id_number_index, gender, birth_date, category, "
        "is_retired_cadre, is_model_worker, is_extreme_poverty, is_subsistence_allowance, is_severely_disabled, "
        "is_disabled_veteran, created_at) VALUES (1, 'P1', :name, :number, :number_index, 'F', :birth, 'employee', "
        "false, false, false, false, false, false, '2026-12-01 00:00:00+00')"),
        {"name": NAMES["person"], "number": keyring().seal(number, "person.id_number"),
         "number_index": id_number_index(number), "birth": date(1985, 3, 12)})
    for account_id, kind, key, name, unit in ((1, "agent", "agent:1:x", NAMES["agent"], 1),
                                              (2, "staff", "staff:wangsl", NAMES["staff"], None)):
        connection.execute(text(
            "INSERT INTO account (id, kind, login_key, display_name, unit_id, is_unit_admin, username, password_hash, "
            "totp_last_step, role_codes, failed_logins, bind_failures, is_enabled, created_at) VALUES "
            "(:id, :kind, :key, :name, :unit, false, :username, :hash, 0, :roles, 0, 0, true, "
            "'2026-12-01 00:00:00+00')"),
            {"id": account_id, "kind": kind, "key": key, "name": name, "unit": unit,
             "username": "wangsl" if kind == "staff" else None, "hash": "x" if kind == "staff" else None,
             "roles": "acceptor" if kind == "staff" else ""})


def _stored(connection) -> dict[str, str]:
    return {"person": connection.execute(text("SELECT name FROM person")).scalar_one(),
            "agent": connection.execute(text("SELECT display_name FROM account WHERE id = 1")).scalar_one(),
            "staff": connection.execute(text("SELECT display_name FROM account WHERE id = 2")).scalar_one(),
            "rep": connection.execute(text("SELECT legal_rep_name FROM unit")).scalar_one()}


@pytest.mark.no_db
def test_the_migration_seals_existing_names_and_its_downgrade_opens_them(app, tmp_path):
    contexts = {"person": "person.name", "agent": "account.display_name", "staff": "account.display_name",
                "rep": "unit.legal_rep_name"}
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, BEFORE)
        _old_rows(connection)
        connection.commit()

        migrate(connection, command.upgrade, config, REVISION)
        stored = _stored(connection)
        for key, name in NAMES.items():
            assert name not in stored[key] and name.split()[0] not in stored[key]  # no plaintext left
            assert keyring().open(stored[key], contexts[key]) == name
        index = connection.execute(text("SELECT name_index FROM person")).scalar_one()
        assert index == person_name_index("欧阳  春花 ")  # normalised: exact search finds it however typed

        migrate(connection, command.downgrade, config, BEFORE)
        assert _stored(connection) == NAMES
        assert "name_index" not in {c["name"] for c in
                                    connection.dialect.get_columns(connection, "person")}
        migrate(connection, command.upgrade, config, "head")
        assert keyring().open(_stored(connection)["person"], "person.name") == NAMES["person"]


def test_a_name_is_stored_sealed_and_found_by_its_blind_index(db_session, make_person, make_unit, make_staff):
    person = make_person(name="司马 光")
    unit = make_unit()
    unit.legal_rep_name = "钱法人"
    staff, _secret = make_staff("sealclerk")
    db_session.flush()
    raw_person = db_session.execute(text("SELECT name, name_index FROM person WHERE id = :id"),
                                    {"id": person.id}).one()
    raw_rep = db_session.execute(text("SELECT legal_rep_name FROM unit WHERE id = :id"), {"id": unit.id}).scalar_one()
    raw_staff = db_session.execute(text("SELECT display_name FROM account WHERE id = :id"),
                                   {"id": staff.id}).scalar_one()
    assert "司马" not in raw_person.name and "钱法人" not in raw_rep and "Sealclerk" not in raw_staff
    found = db_session.execute(select(Person).where(Person.name_index == person_name_index("司马 光"))).scalars()
    assert [p.id for p in found] == [person.id]
    person.name = "司马光"  # a renamed person is found by the new name only
    db_session.flush()
    assert db_session.execute(select(Person.id).where(Person.name_index == person_name_index("司马光"))).all()
    assert not db_session.execute(select(Person.id).where(Person.name_index == person_name_index("司马 光"))).all()


@pytest.mark.parametrize("context", ["person.name", "account.display_name", "unit.legal_rep_name"])
def test_a_sealed_name_does_not_open_in_another_column(app, context):
    from portal.core.crypto import KeyError_

    sealed = keyring().seal("张三", context)
    with pytest.raises(KeyError_):
        keyring().open(sealed, "person.id_number")
