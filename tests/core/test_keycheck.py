"""Keys checked against the data (issue 14.5): a check value per key id in the database; a wrong or missing key
refuses to start naming its id; `portal keys status` and `/healthz` see a wrong key under the right id; development
never generates keys over existing data. Key files on disk (issue 25.6): `portal keys new --out` writes 0600."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal import create_app
from portal.cli import portal_group
from portal.config import ConfigError, load_keys
from portal.core import keycheck
from portal.core.db import db
from portal.core.keycheck import KeyCheck, KeyCheckFailed

from .deployment import Deployment, _open_apps, another_key, drop_database, keep_keyring, new_deployment

pytestmark = pytest.mark.no_db


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    restore_keyring = keep_keyring()
    built = new_deployment(tmp_path / "site")
    try:
        yield built
    finally:
        drop_database(built.database_url)
        restore_keyring()


def recorded(deployment: Deployment) -> dict[str, str]:
    with deployment.app(check_keys=False).app_context():
        return {row.key_id: row.kind for row in db.session.execute(select(KeyCheck)).scalars()}


def test_a_start_records_a_check_value_per_key_id_and_never_the_key(deployment):
    assert recorded(deployment) == {"f1": "field", "index": "index", "k1": "file"}
    keys = deployment.keys()
    with deployment.app().app_context():
        values = {row.key_id: row.check_value for row in db.session.execute(select(KeyCheck)).scalars()}
    secrets_in_file = [*keys["field_keys"].values(), keys["index_key"], *keys["file_keys"].values()]
    for value in values.values():
        assert len(value) == 64 and not any(secret in value for secret in secrets_in_file)


@pytest.mark.parametrize(("section", "key_id", "label"), [
    ("field_keys", "f1", "field-encryption key f1"),
    ("index_key", "index", "blind-index key index"),
    ("file_keys", "k1", "file key k1"),
])
def test_a_wrong_key_under_the_right_id_refuses_to_start_naming_it(deployment, section, key_id, label):
    good = deployment.keys()
    wrong = json.loads(json.dumps(good))
    if section == "index_key":
        wrong["index_key"] = another_key()
    else:
        wrong[section][key_id] = another_key()
    deployment.write_keys(wrong)
    with pytest.raises(KeyCheckFailed) as refused:
        deployment.app()
    message = str(refused.value)
    assert f"{label} is not the key that wrote the data" in message and "Restore the keys file" in message

    deployment.write_keys(good)  # the right keys back: it starts again
    assert deployment.app().config["PORTAL_KEYS"] == good


def test_a_recorded_key_missing_from_the_file_refuses_until_it_is_back_or_forgotten(deployment):
    keys = deployment.keys()
    deployment.write_keys({**keys, "file_keys": {**keys["file_keys"], "k2": another_key()}})
    deployment.app()  # k2 is new: recorded
    assert "k2" in recorded(deployment)
    deployment.write_keys(keys)  # k2 removed again
    with pytest.raises(KeyCheckFailed, match="file key k2 is recorded in the database but not loaded"):
        deployment.app()

    app = deployment.app(check_keys=False)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["portal", "keys", "forget", "k1"])
    assert refused.exit_code == 1 and "still in the keys file" in refused.output
    forgotten = runner.invoke(args=["portal", "keys", "forget", "k2"])  # no file was stored under k2
    assert forgotten.exit_code == 0, forgotten.output
    deployment.app()  # starts again
    assert "k2" not in recorded(deployment)


def test_forget_refuses_a_field_key_that_still_seals_values(deployment):
    keys = deployment.keys()
    deployment.write_keys({**keys, "field_keys": {**keys["field_keys"], "f2": another_key()}})
    app = deployment.app()  # f2 is the newest: it seals from now on
    with app.test_request_context("/"):
        from portal.insurance.demo import generate_demo_data

        generate_demo_data(seed=3, persons=20, units=2)
        db.session.commit()
    deployment.write_keys(keys)  # f2 dropped although persons are sealed under it
    with pytest.raises(KeyCheckFailed, match="field-encryption key f2"):
        deployment.app()
    result = deployment.app(check_keys=False).test_cli_runner().invoke(args=["portal", "keys", "forget", "f2"])
    assert result.exit_code == 1 and "still sealed under f2" in result.output and "person." in result.output


def test_keys_status_detects_a_wrong_key_with_the_right_id(deployment):
    app = deployment.app()
    ok = app.test_cli_runner().invoke(args=["portal", "keys", "status"])
    assert ok.exit_code == 0, ok.output
    assert "field-encryption key f1: matches the data" in ok.output and "file key k1: matches the data" in ok.output

    keys = deployment.keys()
    deployment.write_keys({**keys, "field_keys": {"f1": another_key()}})
    wrong = deployment.app(check_keys=False).test_cli_runner().invoke(args=["portal", "keys", "status"])
    assert wrong.exit_code == 1
    assert "field-encryption key f1: WRONG KEY" in wrong.output and "blind-index key index: matches" in wrong.output


def test_the_command_line_refuses_wrong_keys_but_keys_status_still_reports_them(deployment, monkeypatch, capsys):
    import portal.cli

    keys = deployment.keys()
    deployment.write_keys({**keys, "index_key": another_key()})
    for name, value in deployment.overrides().items():
        monkeypatch.setenv(f"PORTAL_{name}", value)
    monkeypatch.setattr(portal.cli, "_check_keys_at_start", True)  # as in a fresh process
    make_app = portal.cli._make_app

    def tracked_app():  # closed with the deployment's other apps, so no connection outlives the test
        app = make_app()
        _open_apps.append(app)
        return app

    monkeypatch.setattr(portal.cli, "_make_app", tracked_app)

    def portal_command(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["portal", *args])
        with pytest.raises(SystemExit) as exited:
            portal.cli.main()
        return exited.value.code

    assert portal_command("audit", "verify") == 2
    assert "blind-index key index is not the key that wrote the data" in capsys.readouterr().err
    assert portal_command("keys", "status") == 1
    assert "blind-index key index: WRONG KEY" in capsys.readouterr().out


def test_healthz_reports_the_keys(deployment):
    client = deployment.app().test_client()
    healthy = client.get("/healthz")
    assert healthy.status_code == 200 and healthy.get_json()["checks"]["keys"] == "ok"

    keys = deployment.keys()
    deployment.write_keys({**keys, "file_keys": {"k1": another_key()}})
    response = deployment.app(check_keys=False).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "checks": {"database": "ok", "schema": "ok", "keys": "mismatch"}}


def test_a_key_not_recorded_yet_is_reported_as_unchecked_then_recorded_at_the_next_start(deployment):
    keys = deployment.keys()
    deployment.write_keys({**keys, "field_keys": {**keys["field_keys"], "f2": another_key()}})
    unstarted = deployment.app(check_keys=False)
    with unstarted.app_context():
        assert keycheck.report(unstarted.config["PORTAL_KEYS"]).ids(keycheck.KeyState.UNRECORDED) == ["f2"]
    assert unstarted.test_client().get("/healthz").get_json()["checks"]["keys"] == "unchecked"
    assert deployment.app().test_client().get("/healthz").get_json()["checks"]["keys"] == "ok"


# --- development: never generate keys over existing data ------------------------------------------------------


def test_development_generates_keys_only_for_an_empty_database(tmp_path):
    restore_keyring = keep_keyring()
    try:
        empty = {"ENV": "development", "INSTANCE_PATH": str(tmp_path / "inst"),
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"}
        app = create_app(empty)
        first = app.config["PORTAL_KEYS"]
        with app.app_context():
            from portal.core.migrate import upgrade_database

            upgrade_database()
        started = create_app(empty)  # records the keys: the database now holds data sealed under them
        assert started.config["PORTAL_KEYS"] == first
        (tmp_path / "inst" / "keys.json").unlink()  # the keys file is lost
        with pytest.raises(ConfigError) as refused:
            create_app(empty)
        message = str(refused.value)
        assert "already holds data" in message and "Restore keys.json from the backup" in message
        assert not (tmp_path / "inst" / "keys.json").exists()  # nothing generated
    finally:
        restore_keyring()


# --- key files on disk (issue 25.6) --------------------------------------------------------------------------


def test_keys_new_writes_an_owner_only_file_and_never_overwrites(tmp_path):
    target = tmp_path / "keys.json"
    previous = os.umask(0o022)
    try:
        written = CliRunner().invoke(portal_group, ["keys", "new", "--out", str(target)])
    finally:
        os.umask(previous)
    assert written.exit_code == 0, written.output
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    keys = load_keys(target)
    assert keys["development"] is False and keys["field_keys"] and keys["file_keys"] and keys["index_key"]

    before = target.read_bytes()
    again = CliRunner().invoke(portal_group, ["keys", "new", "--out", str(target)])
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert target.read_bytes() == before
