"""Alembic, driven from the app: ``portal up`` and ``portal db ...`` use these.

A downgrade never drops data silently: a revision whose downgrade would remove rows or values that exist
nowhere else first calls ``refuse_data_loss``, which stops the whole downgrade (one transaction) and names what
would be lost, unless the operator asked for it explicitly (``portal db downgrade REV --discard-data``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..config import ROOT
from .db import db

log = logging.getLogger("portal")
DISCARD_DATA = "portal_discard_data"  # Config.attributes key: the operator accepted losing data in a downgrade


class DataLossRefused(RuntimeError):
    """A downgrade step would drop data that exists nowhere else; nothing was changed."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    assert db.engine is not None
    config.set_main_option("sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade_database(revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the app never migrates itself at request time)."""
    config = alembic_config()
    with _migrating() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_database(revision: str, *, discard_data: bool = False) -> None:
    """Take the schema back to ``revision``. Raises ``DataLossRefused`` (and changes nothing) when a step would
    drop data, unless ``discard_data``."""
    config = alembic_config()
    config.attributes[DISCARD_DATA] = discard_data
    with _migrating() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def _migrating() -> Iterator[sa.Connection]:
    """A connection for migrating: on PostgreSQL without the request-sized statement timeout (rewriting a large
    table may take minutes); the lock timeout stays, so a migration waiting for a lock gives up instead of queueing
    every request behind it."""
    with db.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()
        try:
            yield connection
        finally:
            if postgres:
                connection.rollback()
                connection.exec_driver_sql("RESET statement_timeout")  # back to the pool as it came
                connection.commit()


@cache
def head_revisions() -> frozenset[str]:
    """The revisions the code expects (read once per process: the code does not change under it)."""
    return frozenset(ScriptDirectory(str(ROOT / "migrations")).get_heads())


@dataclass(frozen=True)
class SchemaState:
    current: frozenset[str]
    head: frozenset[str]

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        current = ", ".join(sorted(self.current)) or "none (never migrated)"
        return f"database at {current}, code expects {', '.join(sorted(self.head))}"


def schema_state(connection: sa.Connection) -> SchemaState:
    """Where the database's schema stands against the code's migrations."""
    current = MigrationContext.configure(connection).get_current_heads()
    return SchemaState(frozenset(current), head_revisions())


def refuse_data_loss(what: str, count_sql: str) -> None:
    """Inside a migration's ``downgrade()``: stop when ``count_sql`` counts anything that the step would drop.

    ``what`` says what would be lost, e.g. "issued certificates (table certificate)". With ``--discard-data``
    the step goes on; the count is still printed, so the loss is never silent.
    """
    from alembic import context, op

    count = op.get_bind().execute(sa.text(count_sql)).scalar_one()
    if not count:
        return
    if context.config.attributes.get(DISCARD_DATA):
        log.warning("downgrade discards %s %s (--discard-data)", count, what)
        return
    revision = context.get_context().get_current_revision()
    raise DataLossRefused(
        f"downgrading {revision} would drop {count} {what}, which exist nowhere else. Nothing was changed. "
        "Back up the database first; to downgrade anyway and lose them, add --discard-data.")


def refuse_to_drop_tables(*tables: str) -> None:
    """``refuse_data_loss`` for each table the step drops."""
    for table in tables:
        refuse_data_loss(f"rows of table {table}", f"SELECT count(*) FROM {table}")  # noqa: S608 (names from code)
