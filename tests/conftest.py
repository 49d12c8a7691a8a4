"""Fixtures: one app and schema per run; every test in a transaction that is rolled back.

Set PORTAL_TEST_DATABASE_URL=postgresql+psycopg://... to run the suite on PostgreSQL; the default is a
fresh SQLite file. Views commit as usual: their commits become savepoints inside the test's transaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from portal import create_app
from portal.calendar import engine as calendar_engine
from portal.core.db import Base, db
from portal.core.migrate import alembic_config
from portal.core.models_registry import import_all_models
from portal.extensions import limiter

pytest_plugins = ["tests.factories", "tests.log_sweep"]

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def is_test_database_name(name: str) -> bool:
    """Whether a database's name says it is for tests: a word of it starts with ``test`` or is ``ci``
    (``portal_test_x``, ``testdb``, ``portal_ci_1733_42`` from .ci/run), never ``portal`` or ``production``."""
    words = re.split(r"[^a-z0-9]+", name.lower())
    return any(word.startswith("test") or word == "ci" for word in words)


def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database the suite empties and fills: a fresh SQLite file, or PORTAL_TEST_DATABASE_URL, whose
    database name must say it is for tests (the fixture drops every table in it)."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        name = make_url(url).database or ""
        if not is_test_database_name(Path(name).name):
            pytest.exit(f"PORTAL_TEST_DATABASE_URL names the database {name!r}: the tests drop every table in it, so "
                        "its name must say it is a test database (contain 'test', or 'ci' as a word, e.g. "
                        "portal_test_yourname)", returncode=4)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app({
        "ENV": "testing",
        "DATABASE_URL": database_url(tmp_path_factory),
        "INSTANCE_PATH": str(instance),
        "REGION": os.environ.get("PORTAL_TEST_REGION", "jilin"),
    })
    import_all_models()
    with application.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        command.stamp(alembic_config(), "head", purge=True)  # create_all made the head's schema (test_migrations)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def db_session(request: pytest.FixtureRequest) -> Iterator[object]:
    """Each test runs inside one outer transaction that is rolled back afterwards."""
    if "no_db" in request.keywords:
        yield None
        return
    application: Flask = request.getfixturevalue("app")
    connection = application.extensions["portal_db_engine"].connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    limiter.reset()
    calendar_engine.forget_gaps()  # kept per process for a minute; each test starts from its own data
    application.extensions.pop("portal_keys_health", None)  # /healthz's keys answer, kept for half a minute
    application.extensions.pop("portal_schema_health", None)  # and its schema answer, kept for a second
    ctx = application.app_context()
    ctx.push()
    try:
        yield db.session
    finally:
        ctx.pop()
        db.session.remove()
        if outer.is_active:
            outer.rollback()
        connection.close()
        db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def get_csrf(client: FlaskClient):
    """Return a function that loads a page and returns the CSRF token of its form."""

    def _get(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return csrf_from(response.get_data(as_text=True))

    return _get
