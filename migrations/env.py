"""Alembic environment: runs against the portal's engine; batch mode on SQLite."""

from alembic import context

from portal.core.db import Base, db
from portal.core.models_registry import import_all_models

import_all_models()
target_metadata = Base.metadata
config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        assert db.engine is not None, "create the app before migrating"
        with db.engine.connect() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    # one transaction for the whole run on SQLite too (its DDL is transactional; the engine issues BEGIN): a step
    # that fails or refuses (a downgrade that would drop data) leaves the database as it was, not half-way
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True, transactional_ddl=True)
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        # batch mode rebuilds a table (copy, drop, rename), which SQLite refuses while other tables' foreign keys
        # point at it; the keys are checked once at the end instead (the pragma only acts outside a transaction)
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("the migration left rows whose foreign keys point nowhere; nothing was changed")
        if connection.in_transaction():
            connection.commit()
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
