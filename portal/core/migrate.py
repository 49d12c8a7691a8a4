"""Alembic, driven from the app: ``portal up`` and ``portal db ...`` use these."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from ..config import ROOT
from .db import db


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
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
