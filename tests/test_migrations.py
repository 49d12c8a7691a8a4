"""Alembic: one head, and upgrading an empty database gives exactly the models' schema (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import secrets

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from portal.core.db import Base, make_engine
from portal.core.migrate import alembic_config
from portal.core.models_registry import import_all_models

pytestmark = pytest.mark.no_db


def test_there_is_a_single_head(app):
    with app.app_context():
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads


def _upgrade_and_diff(app, connection) -> list:
    with app.app_context():
        config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    import_all_models()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def test_upgrade_from_empty_matches_the_models(app, tmp_path):
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url and url.startswith("postgresql"):
        engine = make_engine(url)
        schema = f"migr_{secrets.token_hex(4)}"
        with engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
            connection.execute(text(f"SET search_path TO {schema}"))
            connection.commit()
            try:
                diff = _upgrade_and_diff(app, connection)
            finally:
                connection.rollback()
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                connection.commit()
        engine.dispose()
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'migr.db'}")
        with engine.connect() as connection:
            diff = _upgrade_and_diff(app, connection)
        engine.dispose()
    assert diff == [], diff
