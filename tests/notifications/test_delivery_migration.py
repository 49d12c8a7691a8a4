"""The delivery-attempt revision: it downgrades and upgrades cleanly, and refuses to downgrade while that would
lose the attempt history or deliveries the old schema cannot hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.core.db import make_engine
from portal.core.migrate import alembic_config
from portal.notifications.models import Delivery, DeliveryAttempt, Notification

pytestmark = pytest.mark.no_db
REVISION, BEFORE = "b7d41e0c9a3f", "e5fc2b95736b"


def test_the_revision_refuses_to_drop_attempts_and_round_trips_when_empty(app, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'migr.db'}")
    with app.app_context():
        config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, REVISION)
        connection.commit()
        with Session(bind=connection) as session:  # one delivery sent, with its attempt row
            account = Account(kind="citizen", login_key="citizen:migration", display_name="")
            session.add(account)
            session.flush()
            notification = Notification(account_id=account.id, event="accepted", context_json="")
            session.add(notification)
            session.flush()
            delivery = Delivery(notification_id=notification.id, channel="sms", status="sent",
                                sent_at=datetime(2026, 12, 6, 8, tzinfo=UTC))
            session.add(delivery)
            session.flush()
            session.add(DeliveryAttempt(delivery_id=delivery.id, kind="send", channel="sms", result="sent",
                                        started_at=datetime(2026, 12, 6, 8, tzinfo=UTC)))
            session.commit()
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
