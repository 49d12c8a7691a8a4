"""The organisations migration (a1c3e5f7b9d2) never drops data silently: a unit that is registering, agents'
mandates or registrations make its downgrade refuse, changing nothing; ``--discard-data`` is an explicit choice."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.core.migrate import DISCARD_DATA, DataLossRefused, schema_state
from tests.test_downgrades import migrate, migrated_database

pytestmark = pytest.mark.no_db
REVISION = "a1c3e5f7b9d2"
UNIT = ("INSERT INTO unit (id, code, credit_code, name, nature, status, created_at) VALUES "
        "(1, 'U1', '91220100MA17DEM55F', '登记中单位', 'enterprise', :status, '2026-12-01 00:00:00+00')")


def test_a_registering_unit_makes_the_downgrade_refuse_until_data_is_discarded(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text(UNIT), {"status": "pending"})
        connection.commit()
        with pytest.raises(DataLossRefused, match=r"units awaiting their enrolment registration"):
            migrate(connection, command.downgrade, config, f"{REVISION}-1")
        connection.rollback()
        assert schema_state(connection).at_head
        assert connection.execute(text("SELECT status FROM unit")).scalar_one() == "pending"

        config.attributes[DISCARD_DATA] = True
        migrate(connection, command.downgrade, config, f"{REVISION}-1")
        assert connection.execute(text("SELECT status FROM unit")).scalar_one() == "cancelled"
        with pytest.raises(IntegrityError):  # the older schema has no such status
            connection.execute(text("UPDATE unit SET status = 'pending'"))
        connection.rollback()
        migrate(connection, command.upgrade, config, "head")
        connection.execute(text("UPDATE unit SET status = 'pending'"))  # and the head has it again
        connection.commit()
