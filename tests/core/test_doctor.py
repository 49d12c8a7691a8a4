"""Backup and restore (issue 14.6): a dump restored into a fresh database and a fresh folder, with the keys and the
signing pair, passes `portal doctor`; a damaged restore (a file body missing, a wrong key, a flipped byte) fails it,
naming the item. On SQLite through the online backup API; on PostgreSQL through pg_dump and pg_restore into a fresh
test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result

from portal.core import clock, doctor
from portal.core.doctor import Outcome

from .deployment import (
    Deployment,
    another_key,
    drop_database,
    dump_database,
    keep_keyring,
    new_deployment,
    populate,
    restore,
)

pytestmark = pytest.mark.no_db
COVERED_DAY = datetime(2026, 6, 15, 10)  # this year's holidays are known, next year's not yet needed


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict, Path]]:
    """A populated deployment and a dump of its database, made once for the module."""
    restore_keyring = keep_keyring()
    folder = tmp_path_factory.mktemp("source")
    built = new_deployment(folder / "site")
    facts = populate(built)
    dump = folder / "portal.dump"
    dump_database(built, dump)
    try:
        yield built, facts, dump
    finally:
        drop_database(built.database_url)
        restore_keyring()


@pytest.fixture
def restored(source, tmp_path: Path) -> Iterator[Deployment]:
    built, _facts, dump = source
    restore_keyring = keep_keyring()
    copy = restore(built, tmp_path / "restored", dump)
    try:
        yield copy
    finally:
        drop_database(copy.database_url)
        restore_keyring()


def run_doctor(deployment: Deployment, *args: str, check_keys: bool | None = False) -> Result:
    app = deployment.app(check_keys=check_keys)
    with clock.frozen(COVERED_DAY):
        return app.test_cli_runner().invoke(args=["portal", "doctor", *args])


def test_a_restore_into_a_fresh_database_and_folder_passes_doctor(source, restored):
    built, facts, _dump = source
    assert restored.database_url != built.database_url and restored.files != built.files
    result = run_doctor(restored, check_keys=None)  # starts normally: the restored keys match the restored data
    assert result.exit_code == 0, result.output
    for line in ("ok   schema: at head", "ok   keys: 3 keys match", "ok   files: 1 of 1 files whole",
                 "ok   certificates: 1 certificates checked; signature validates", "ok   calendar", "ok   audit"):
        assert line in result.output, result.output
    assert "doctor: all checks passed" in result.output

    app = restored.app()  # and the restored citizen's data opens: the blind index finds the person
    with app.app_context():
        from sqlalchemy import select

        from portal.core.db import db
        from portal.insurance.models import Person, id_number_index

        found = db.session.execute(select(Person).where(Person.id_number_index == id_number_index(
            facts["id_number"]))).scalar_one()
        assert found.id_number == facts["id_number"]


def test_a_missing_file_body_fails_naming_the_file(source, restored):
    _built, facts, _dump = source
    (restored.files / facts["storage_key"]).unlink()
    result = run_doctor(restored)
    assert result.exit_code == 1
    assert (f"- files: file {facts['file_id']} (object {facts['storage_key']}): body missing from the file store"
            in result.output), result.output
    assert f"doctor: 1 of {len(doctor.checks())} checks failed" in result.output


def test_a_flipped_byte_in_a_file_body_fails_naming_the_file(source, restored):
    _built, facts, _dump = source
    body = restored.files / facts["storage_key"]
    data = bytearray(body.read_bytes())
    data[len(data) // 2] ^= 0x01
    body.write_bytes(bytes(data))
    result = run_doctor(restored)
    assert result.exit_code == 1
    assert f"- files: file {facts['file_id']} (object {facts['storage_key']}): body does not decrypt" in result.output


def test_a_wrong_key_fails_doctor_naming_the_key_and_the_items(source, restored):
    _built, facts, _dump = source
    keys = json.loads(restored.keys_file.read_text())
    restored.write_keys({**keys, "field_keys": {"f1": another_key()}, "file_keys": {"k1": another_key()}})
    result = run_doctor(restored)
    assert result.exit_code == 1
    output = result.output
    assert "- keys: field-encryption key f1 is not the key that wrote the data" in output
    assert "- keys: file key k1 is not the key that wrote the data" in output
    assert f"- files: file {facts['file_id']} (object {facts['storage_key']}): data key does not open" in output
    assert f"- certificates: certificate {facts['certificate']}" in output and "does not open" in output


def test_a_wrong_blind_index_key_makes_certificates_not_found(source, restored):
    _built, facts, _dump = source
    keys = json.loads(restored.keys_file.read_text())
    restored.write_keys({**keys, "index_key": another_key()})
    result = run_doctor(restored, "--only", "certificates")
    assert result.exit_code == 1
    assert f"certificate {facts['certificate']} (id " in result.output
    assert "its verification code is no longer found" in result.output


def test_a_signing_key_that_does_not_match_its_certificate_fails(source, restored, tmp_path):
    from portal.certificates.signing import new_pair

    other_key, _other_cert = new_pair(tmp_path / "other", "another agency", development=True)
    restored.signing_key.write_bytes(other_key.read_bytes())
    result = run_doctor(restored, "--only", "certificates")
    assert result.exit_code == 1
    assert f"signing key {restored.signing_key}" in result.output, result.output


def _alter(restored, statement: str) -> None:
    """Change the restored database behind the portal's back, as someone with access to it would."""
    from sqlalchemy import text

    from portal.core.db import db

    with restored.app().app_context():
        db.session.execute(text(statement))
        db.session.commit()


def test_an_audit_row_altered_after_the_backup_fails(restored):
    _alter(restored, "UPDATE audit_event SET result = 'denied' WHERE id = 2")
    result = run_doctor(restored, "--only", "audit")
    assert result.exit_code == 1 and "- audit: audit row 2: content does not match its hash" in result.output


def test_a_schema_behind_head_fails(restored):
    _alter(restored, "UPDATE alembic_version SET version_num = 'e5fc2b95736b'")
    result = run_doctor(restored, "--only", "schema")
    assert result.exit_code == 1 and "- schema: schema is at e5fc2b95736b, not at head" in result.output


def test_a_year_without_a_holiday_schedule_fails_the_calendar_check(restored):
    app = restored.app()
    with clock.frozen(datetime(2090, 12, 2, 10)):  # far beyond any published schedule
        result = app.test_cli_runner().invoke(args=["portal", "doctor", "--only", "calendar"])
    assert result.exit_code == 1
    assert "- calendar: holidays of 2090 are not known" in result.output
    assert "- calendar: holidays of 2091 are not known" in result.output  # December: next year is needed too


# --- the registry ---------------------------------------------------------------------------------------------


def test_checks_are_a_registry_other_packages_add_to(restored):
    names = list(doctor.checks())
    assert names[:4] == ["schema", "keys", "audit", "calendar"] and {"files", "certificates"} <= set(names)

    calls = []

    @doctor.check("test-adapter", "a check registered by another package")
    def adapter_health() -> Outcome:
        calls.append(1)
        return Outcome("unreachable", ("adapter X: connection refused",))

    @doctor.check("test-broken", "a check that raises")
    def broken() -> Outcome:
        raise RuntimeError("the adapter's client crashed")

    try:
        with pytest.raises(ValueError, match="already registered"):
            doctor.check("test-adapter", "a second one under the same name")(lambda: Outcome("ok"))
        result = run_doctor(restored, "--only", "test-adapter", "--only", "test-broken", "--only", "keys")
        assert result.exit_code == 1 and calls == [1]
        assert "- test-adapter: adapter X: connection refused" in result.output
        assert "- test-broken: RuntimeError: the adapter's client crashed" in result.output
        assert "ok   keys" in result.output  # the others still ran
        listing = run_doctor(restored, "--list")
        assert "test-adapter: a check registered by another package" in listing.output
    finally:
        doctor._checks.pop("test-adapter")
        doctor._checks.pop("test-broken")


def test_the_commands_that_skip_the_key_check_start_in_a_process_of_their_own(tmp_path):
    """``portal doctor`` and ``portal keys status`` start their app without the key check (to report keys that do
    not match), and so without its loading of every model first: run in-process after the suite has loaded them all,
    they passed while in a shell both crashed at start on a relationship to a model not imported yet. Here each runs
    as an operator runs it, on a freshly migrated instance."""
    import subprocess
    import sys

    from tests import servers

    env = servers.portal_env(tmp_path)
    servers.migrate(env)
    for command in (["doctor"], ["keys", "status"]):
        done = subprocess.run([sys.executable, "-m", "portal", *command], cwd=servers.ROOT, env=env,  # noqa: S603
                              capture_output=True, text=True, timeout=300, check=False)
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        assert done.returncode in (0, 1), (command, done.returncode, done.stdout, done.stderr[-3000:])
        if command == ["doctor"]:
            assert "ok   schema" in done.stdout and "ok   keys" in done.stdout and "ok   sms_templates" in done.stdout
