"""A downgrade never drops data silently: it carries the values (staff identities) or refuses, changing nothing.

Run on a database of its own (a fresh SQLite file, or a fresh schema of PORTAL_TEST_DATABASE_URL), migrated to
the head with real Alembic, holding rows written with plain SQL as an older deployment would hold them.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text

from portal.core.crypto import FieldKeyring
from portal.core.db import make_engine
from portal.core.migrate import DISCARD_DATA, DataLossRefused, alembic_config, schema_state

pytestmark = pytest.mark.no_db
ROOT = Path(__file__).resolve().parent.parent
STAFF = ("INSERT INTO account (id, kind, login_key, display_name, is_unit_admin, username, password_hash, "
         "totp_last_step, role_codes, failed_logins, bind_failures, is_enabled, created_at) VALUES "
         "(:id, 'staff', :key, :name, false, :key, 'x', 0, 'acceptor', 0, 0, true, '2026-12-01 00:00:00+00')")


# a citizen account (id 1) for the rows a revision's test writes before it: the name a placeholder, never read
CITIZEN = ("INSERT INTO account (id, kind, login_key, display_name, is_unit_admin, totp_last_step, role_codes, "
           "failed_logins, bind_failures, is_enabled, created_at) VALUES (1, 'citizen', 'c:1', 'sealed', false, 0, "
           "'', 0, 0, true, '2026-11-30 00:00:00+00')")


def staff_row(account_id: int, key: str) -> dict:
    """The values of STAFF: the display name sealed, as the head's schema holds it."""
    from portal.core.crypto import keyring

    return {"id": account_id, "key": key, "name": keyring().seal(key.title(), "account.display_name")}


@contextmanager
def migrated_database(app, tmp_path) -> Iterator[tuple[Connection, object]]:
    """A connection to an empty database of its own, and an Alembic config bound to it."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    with app.app_context():
        config = alembic_config()
    if url and url.startswith("postgresql"):
        engine = make_engine(url)
        schema = f"down_{secrets.token_hex(4)}"
        with engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
            connection.execute(text(f"SET search_path TO {schema}"))
            connection.commit()
            config.attributes["connection"] = connection
            try:
                yield connection, config
            finally:
                connection.rollback()
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                connection.commit()
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'down.db'}")
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            yield connection, config
    engine.dispose()


def migrate(connection: Connection, step, config, revision: str) -> None:
    """``step`` (``command.upgrade`` or ``downgrade``) to ``revision`` on the test's own connection, committed; what
    the test read or wrote before is committed first (a migration starts outside a transaction: SQLite's foreign-key
    pragma)."""
    if connection.in_transaction():
        connection.commit()
    step(config, revision)
    if connection.in_transaction():
        connection.commit()


def test_downgrading_the_workbench_revision_carries_the_staff_identities(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text(STAFF), staff_row(1, "shouli"))
        connection.execute(text(STAFF), staff_row(2, "shenhe"))
        connection.execute(text("UPDATE account SET staff_id_index = 'blind-index-of-shouli' WHERE id = 1"))
        connection.commit()

        migrate(connection, command.downgrade, config, "08b3c497f211")  # the revision before e5fc2b95736b
        assert "staff_id_index" not in {c["name"] for c in inspect(connection).get_columns("account")}
        migrate(connection, command.upgrade, config, "head")

        rows = connection.execute(text("SELECT id, staff_id_index FROM account ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "blind-index-of-shouli"), (2, None)]
        assert not inspect(connection).has_table("stash_e5fc2b95736b_staff_id_index")
        assert schema_state(connection).at_head


def test_a_downgrade_that_would_drop_rows_is_refused_and_changes_nothing(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text(STAFF), staff_row(1, "shouli"))
        connection.commit()
        with pytest.raises(DataLossRefused, match=r"1 rows of table account"):
            migrate(connection, command.downgrade, config, "base")
        connection.rollback()
        assert schema_state(connection).at_head  # every step before the refusal was undone with it
        assert inspect(connection).has_table("certificate")
        assert connection.execute(text("SELECT count(*) FROM account")).scalar_one() == 1


def test_case_assignments_are_not_dropped_by_their_downgrade(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text(STAFF), staff_row(1, "shouli"))
        connection.execute(text(
            "INSERT INTO application (id, region, item_code, item_name, handler, audience, is_money, is_instant, "
            "limit_kind, limit_wording, applicant_id, applicant_name, on_behalf, form_json, materials_json, state, "
            "queue, version, created_at, updated_at, paused_working_days, assignee_id) VALUES "
            "(1, 'jilin', 'X', 'x', 'generic', 'individual', false, false, 'days', '5', 1, 'x', false, '{}', '{}', "
            "'draft', 'draft', 1, '2026-12-01 00:00:00+00', '2026-12-01 00:00:00+00', 0, 1)"))
        connection.commit()
        # past the notifications, certificates, remote care and sampling tables (all empty) to the assignee column
        with pytest.raises(DataLossRefused, match=r"case assignments"):
            migrate(connection, command.downgrade, config, "edbac1b7e82a")
        connection.rollback()
        assert connection.execute(text("SELECT assignee_id FROM application")).scalar_one() == 1
        assert schema_state(connection).at_head


def test_discard_data_is_an_explicit_choice(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text(STAFF), staff_row(1, "shouli"))
        connection.commit()
        config.attributes[DISCARD_DATA] = True
        migrate(connection, command.downgrade, config, "base")
        assert not inspect(connection).has_table("account")


def test_portal_db_downgrade_refuses_and_names_what_would_be_lost(tmp_path):
    env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_INSTANCE_PATH": str(tmp_path)}
    env.pop("PORTAL_DATABASE_URL", None)
    portal = [sys.executable, "-c", "from portal.cli import main; main()"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*portal, *args], env=env, cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                              timeout=120)

    from portal.core.migrate import head_revisions

    (head,) = head_revisions()
    assert run("db", "upgrade").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    keys = json.loads((tmp_path / "keys.json").read_text())  # that instance's keys, not this test app's
    sealed = FieldKeyring(keys["field_keys"], keys["index_key"]).seal("Shouli", "account.display_name")
    with engine.begin() as connection:
        connection.execute(text(STAFF), {**staff_row(1, "shouli"), "name": sealed})
    engine.dispose()
    refused = run("db", "downgrade", "base")
    assert refused.returncode == 1
    assert "would drop 1 rows of table account" in refused.stderr and "--discard-data" in refused.stderr
    current = run("db", "current")
    assert current.returncode == 0 and f"database at {head}" in current.stdout


AUDIT = ("INSERT INTO audit_event (id, at, actor_kind, action, result, detail, prev_hash, hash) VALUES "
         "(:id, '2026-12-01 00:00:00+00', 'system', :action, 'ok', '{}', :prev, :hash)")


def test_the_audit_rows_of_the_sealed_scheme_are_chained_by_its_downgrade(app, tmp_path):
    """The old code verifies one chain of prev_hash links: the downgrade links the rows written since, keeping all."""
    import hashlib
    import json
    from datetime import UTC, datetime

    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text(AUDIT), {"id": 1, "action": "old", "prev": "0" * 64, "hash": "a" * 64})
        for ident in (2, 3):
            connection.execute(text(AUDIT), {"id": ident, "action": f"new{ident}", "prev": None, "hash": "b" * 64})
        connection.commit()
        migrate(connection, command.downgrade, config, "c4d8f2a6e1b3")
        assert not inspect(connection).has_table("audit_seal")
        rows = connection.execute(text("SELECT id, action, prev_hash, hash FROM audit_event ORDER BY id")).all()
        at = datetime(2026, 12, 1, tzinfo=UTC).isoformat()
        previous = "a" * 64
        for row in rows[1:]:
            canonical = json.dumps([at, "system", None, None, row.action, None, None, "ok", None, None, "{}", previous],
                                   ensure_ascii=False, separators=(",", ":"))
            assert row.prev_hash == previous and row.hash == hashlib.sha256(canonical.encode()).hexdigest()
            previous = row.hash
        assert len(rows) == 3 and rows[0].hash == "a" * 64
