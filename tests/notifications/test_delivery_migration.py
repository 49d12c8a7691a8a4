"""The delivery-attempt revision: it downgrades and upgrades cleanly, and refuses to downgrade while that would
lose the attempt history or deliveries the old schema cannot hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, inspect, text

from portal.accounts.models import Account
from portal.core.db import make_engine
from portal.core.migrate import alembic_config
from portal.notifications.models import Delivery, DeliveryAttempt, Notification

pytestmark = pytest.mark.no_db
REVISION, BEFORE = "b7d41e0c9a3f", "e5fc2b95736b"


def _insert(connection, model, **values):
    """Insert one row into ``model``'s table as the database has it now, filling the columns that exist there and
    need a value with the model's own Python defaults; returns the new row's id."""
    table = Table(model.__table__.name, MetaData(), autoload_with=connection)
    for column in table.columns:
        declared = model.__table__.columns.get(column.name)
        if column.name in values or column.primary_key or column.nullable or column.server_default is not None:
            continue
        if declared is not None and declared.default is not None:
            arg = declared.default.arg
            values[column.name] = arg(None) if callable(arg) else arg
    return connection.execute(table.insert().values(**values)).inserted_primary_key[0]


def test_the_revision_refuses_to_drop_attempts_and_round_trips_when_empty(app, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'migr.db'}")
    with app.app_context():
        config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, REVISION)
        connection.commit()
        # one delivery sent, with its attempt row: written through the tables as they are at this revision (the
        # models follow the head, whose later columns these tables do not have yet)
        account_id = _insert(connection, Account, kind="citizen", login_key="citizen:migration", display_name="")
        notification_id = _insert(connection, Notification, account_id=account_id, event="accepted",
                                  context_json="")
        delivery_id = _insert(connection, Delivery, notification_id=notification_id, channel="sms", status="sent",
                              sent_at=datetime(2026, 12, 6, 8, tzinfo=UTC))
        _insert(connection, DeliveryAttempt, delivery_id=delivery_id, kind="send", channel="sms", result="sent",
                started_at=datetime(2026, 12, 6, 8, tzinfo=UTC))
        connection.commit()
        with pytest.raises(RuntimeError, match="1 delivery attempt row"):
            command.downgrade(config, BEFORE)
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM notification_delivery_attempt")).scalar_one() == 1

        connection.execute(text("DELETE FROM notification_delivery_attempt"))
        connection.commit()
        command.downgrade(config, BEFORE)
        connection.commit()
        inspector = inspect(connection)
        assert "notification_delivery_attempt" not in inspector.get_table_names()
        assert "lease_until" not in {c["name"] for c in inspector.get_columns("notification_delivery")}
        command.upgrade(config, REVISION)
        connection.commit()
        assert "lease_until" in {c["name"] for c in inspect(connection).get_columns("notification_delivery")}
    engine.dispose()
