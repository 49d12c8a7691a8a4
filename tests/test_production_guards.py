"""Guard rails for operators: development-only commands refuse production, the health check reports an
unmigrated schema, the command line starts without reading the catalog, and the test suite never empties a
database whose name does not say it is for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

import portal
from portal import cli
from portal.catalog import loader
from portal.insurance.models import Person
from tests.conftest import database_url, is_test_database_name

ROOT = Path(__file__).resolve().parent.parent


def test_portal_up_is_refused_in_production_and_names_gunicorn(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    served = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **k: served.append(a))
    result = app.test_cli_runner().invoke(args=["portal", "up", "--no-demo"])
    assert result.exit_code == 2
    assert "refused in production" in result.output and "gunicorn" in result.output
    assert served == []


def test_portal_demo_is_refused_in_production(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    before = db_session.scalar(select(func.count()).select_from(Person))
    result = app.test_cli_runner().invoke(args=["portal", "demo", "--persons", "20", "--units", "2"])
    assert result.exit_code == 2 and "refused in production" in result.output
    assert db_session.scalar(select(func.count()).select_from(Person)) == before


def test_healthz_is_down_when_the_schema_is_not_at_the_head(client, db_session, monkeypatch):
    from portal.core.migrate import head_revisions
    from portal.pages import views as pages

    now = [1000.0]
    monkeypatch.setattr(pages, "time", SimpleNamespace(monotonic=lambda: now[0]))  # the health check's clock
    assert client.get("/healthz").status_code == 200
    db_session.execute(text("UPDATE alembic_version SET version_num = '08b3c497f211'"))
    assert client.get("/healthz").status_code == 200  # a good answer is kept for up to a second
    now[0] += pages.SCHEMA_KEPT_SECONDS
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["checks"]["database"] == "ok" and body["checks"]["schema"] == "behind"
    assert "08b3c497f211" in body["schema"] and all(head in body["schema"] for head in head_revisions())
    assert "portal db upgrade" in body["schema"]
    # a bad answer is not kept: the migration done, the next check (the same moment) is up again
    (head,) = head_revisions()
    db_session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert client.get("/healthz").status_code == 200


def test_healthz_is_down_when_the_database_was_never_migrated(client, db_session):
    db_session.execute(text("DELETE FROM alembic_version"))
    response = client.get("/healthz")
    assert response.status_code == 503 and "never migrated" in response.get_json()["schema"]


def test_portal_help_neither_builds_the_app_nor_reads_the_catalog(monkeypatch, capsys):
    built, read = [], []
    monkeypatch.setattr(portal, "create_app", lambda *a, **k: built.append(a))
    monkeypatch.setattr(loader, "load_region", lambda *a, **k: read.append(a))
    monkeypatch.setattr(sys, "argv", ["portal", "--help"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0
    listing = capsys.readouterr().out
    assert all(f"  {name} " in listing for name in ("up", "db", "demo", "keys", "notify"))
    assert built == [] and read == []


def test_a_command_that_builds_the_app_reads_the_catalog_only_when_it_uses_it(tmp_path):
    script = ("from portal.catalog import loader\nfrom portal.cli import main\ntry:\n    main()\n"
              "except SystemExit:\n    pass\nprint('catalogs read:', loader.get_catalog.cache_info().currsize)")
    env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_INSTANCE_PATH": str(tmp_path)}
    env.pop("PORTAL_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", script, "db", "current"], env=env, cwd=ROOT,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert "never migrated" in done.stdout, done.stderr  # the app was built and asked the database
    assert "catalogs read: 0" in done.stdout


@pytest.mark.parametrize(("name", "is_for_tests"), [
    ("portal_test_failures", True), ("testdb", True), ("portal_tests", True), ("portal_ci_1733480000_4242", True),
    ("portal", False), ("portal_prod", False), ("medicare_city", False), ("contest", False), ("", False),
])
def test_the_suite_knows_a_test_database_by_its_name(name, is_for_tests):
    assert is_test_database_name(name) is is_for_tests


def test_the_suite_refuses_to_empty_a_database_not_named_for_tests(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/portal")
    with pytest.raises(pytest.exit.Exception, match="must say it is a test database"):
        database_url(tmp_path_factory)
    monkeypatch.setenv("PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/portal_ci_1_2")
    assert database_url(tmp_path_factory).endswith("/portal_ci_1_2")
