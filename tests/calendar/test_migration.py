"""The imported-schedules revision refuses to downgrade while a schedule is stored (its days would lose their
source)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from portal.core.db import make_engine
from portal.core.migrate import alembic_config

pytestmark = pytest.mark.no_db
REVISION = "3c0a1e5d2027"


def test_downgrade_refuses_while_a_schedule_is_stored_and_works_once_it_is_deleted(app, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'down.db'}")
    with app.app_context():
        config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, REVISION)
        connection.execute(text(
            "INSERT INTO calendar_schedule (year, kind, source, text, digest, holiday_count, workday_count, "
            "applied_at, applied_by) VALUES (2027, 'notice', 'n.txt', 'x', 'd', 29, 4, '2026-12-06 00:00:00', 'a')"))
        connection.commit()
        with pytest.raises(RuntimeError, match="portal calendar delete"):
            command.downgrade(config, "-1")
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM calendar_schedule")).scalar() == 1
        connection.execute(text("DELETE FROM calendar_schedule"))
        connection.commit()
        command.downgrade(config, "-1")
        connection.commit()
        tables = {r[0] for r in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    engine.dispose()
    assert "calendar_schedule" not in tables and "calendar_override" in tables
