"""A small real deployment for the key-check and restore tests: a migrated database of its own, a keys file, a file
store and a signing pair in a folder, with a few persons, an issued certificate and a stored file.

The database is a fresh SQLite file, or, when the suite runs on PostgreSQL, a fresh database on the same server
whose name says it is a test database (created here, dropped by ``drop_database``). Nothing here touches the
suite's own database.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url

from portal import create_app
from portal.accounts import binding as binding_ops
from portal.config import new_keyset
from portal.core import crypto

_open_apps: list[Flask] = []  # apps built here, kept until close_apps() closes their connection pools
PNG_BODY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 600  # several STREAM segments


def postgres_server() -> str | None:
    """The suite's PostgreSQL URL when the suite runs on PostgreSQL."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def new_database_url(folder: Path, label: str) -> str:
    server = postgres_server()
    if server is None:
        return f"sqlite:///{folder / f'{label}.db'}"
    url = make_url(server).set(database=f"portal_test_keys_{label}_{secrets.token_hex(3)}")
    _pg("createdb", url)
    return url.render_as_string(hide_password=False)


def close_apps() -> None:
    """Close the connection pools of the apps built here (before their databases are dropped)."""
    while _open_apps:
        _open_apps.pop().extensions["portal_db_engine"].dispose()


def drop_database(url: str) -> None:
    close_apps()
    if url.startswith("postgresql"):
        _pg("dropdb", make_url(url), "--if-exists", "--force")


def _pg_args(url: Any) -> list[str]:
    return ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]


def _tool(name: str) -> str:
    """PostgreSQL's own client program, by its full path."""
    path = shutil.which(name)
    assert path is not None, f"{name} is not installed"
    return path


def _pg_env(url: Any) -> dict[str, str]:
    return {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}


def _pg(program: str, url: Any, *extra: str) -> None:
    assert "test" in url.database, url.database  # never anything but a test database
    subprocess.run([_tool(program), *_pg_args(url), *extra, url.database], check=True, env=_pg_env(url),  # noqa: S603
                   capture_output=True, timeout=120)


@dataclass(frozen=True)
class Deployment:
    """Where one deployment keeps what must be backed up together."""

    folder: Path
    database_url: str
    keys_file: Path
    files: Path
    signing_key: Path
    signing_cert: Path

    def overrides(self) -> dict[str, Any]:
        return {"ENV": "development", "INSTANCE_PATH": str(self.folder / "instance"),
                "DATABASE_URL": self.database_url, "KEYS_FILE": str(self.keys_file), "STORAGE_DIR": str(self.files),
                "SIGNING_KEY_FILE": str(self.signing_key), "SIGNING_CERT_FILE": str(self.signing_cert)}

    def app(self, *, check_keys: bool | None = None) -> Flask:
        app = create_app(self.overrides(), check_keys=check_keys)
        _open_apps.append(app)
        return app

    def keys(self) -> dict[str, Any]:
        return json.loads(self.keys_file.read_text(encoding="utf-8"))

    def write_keys(self, keys: dict[str, Any]) -> None:
        self.keys_file.write_text(json.dumps(keys), encoding="utf-8")
        self.keys_file.chmod(0o600)


def new_deployment(folder: Path) -> Deployment:
    """Keys, a development signing pair and a migrated, empty database; the keys recorded by a second start."""
    from portal.certificates.signing import new_pair

    folder.mkdir(parents=True, exist_ok=True)
    signing_key, signing_cert = new_pair(folder / "signing", "吉林省医疗保障经办机构 (test)", development=True)
    deployment = Deployment(folder, new_database_url(folder, "src"), folder / "keys.json", folder / "files",
                            signing_key, signing_cert)
    deployment.write_keys(new_keyset())
    app = deployment.app()
    with app.app_context():
        from portal.core.migrate import upgrade_database

        upgrade_database()
    deployment.app()  # a start after migrating records the keys' check values
    close_apps()
    return deployment


def populate(deployment: Deployment) -> dict[str, Any]:
    """A few demo persons, a citizen bound to one with an issued certificate, and a stored file."""
    from portal.accounts import operations as account_ops
    from portal.certificates.constants import CertificateKind
    from portal.certificates.operations import certificate_of_case, request_certificate
    from portal.core.audit import Actor
    from portal.core.db import db
    from portal.insurance.demo import generate_demo_data
    from portal.insurance.models import Person
    from portal.materials.models import MaterialFile
    from portal.materials.operations import store

    system = Actor.system()
    app = deployment.app()
    with app.test_request_context("/"):
        generate_demo_data(seed=7, persons=20, units=2)
        person = db.session.query(Person).order_by(Person.id).first()
        issued = account_ops.request_login_code(account_ops.CodeRequest(person.phone), actor=system,
                                                client_ip="127.0.0.7")
        account = account_ops.login_with_code(account_ops.CodeLogin(issued.code, handle=issued.handle), actor=system,
                                              client_ip="127.0.0.7")
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number),
                                   actor=system)
        case = request_certificate(CertificateKind.PERSON_VOUCHER, by=account, actor=system)
        certificate = certificate_of_case(case)
        assert certificate is not None, case.state
        stored = store().save([PNG_BODY])
        row = MaterialFile(material_id="id_card", storage_key=stored.storage_key, kid=stored.kid,
                           wrapped_dek=stored.wrapped_dek, size_plain=stored.size_plain,
                           size_stored=stored.size_stored, stream_header=stored.stream_header, kind="png",
                           media_type="image/png", name="身份证.png")
        db.session.add(row)
        db.session.commit()
        facts = {"certificate": certificate.number, "file_id": row.id, "storage_key": row.storage_key,
                 "id_number": person.id_number}
    close_apps()
    return facts


def restore(source: Deployment, folder: Path, dump: Path) -> Deployment:
    """Restore ``source`` as its README says: the database from ``dump``, then the file store, the keys file and
    the signing pair copied into ``folder`` (a fresh place, with a fresh database)."""
    folder.mkdir(parents=True)
    url = new_database_url(folder, "dst")
    if url.startswith("sqlite"):
        shutil.copyfile(dump, make_url(url).database)
    else:
        target = make_url(url)
        command = [_tool("pg_restore"), *_pg_args(target), "--no-owner", "--exit-on-error", "-d", target.database,
                   str(dump)]
        subprocess.run(command, check=True, env=_pg_env(target), capture_output=True, timeout=300)  # noqa: S603
    shutil.copytree(source.files, folder / "files")
    shutil.copy2(source.keys_file, folder / "keys.json")
    (folder / "signing").mkdir()
    for path in (source.signing_key, source.signing_cert):
        shutil.copy2(path, folder / "signing" / path.name)
    return replace(source, folder=folder, database_url=url, keys_file=folder / "keys.json", files=folder / "files",
                   signing_key=folder / "signing" / source.signing_key.name,
                   signing_cert=folder / "signing" / source.signing_cert.name)


def dump_database(source: Deployment, dump: Path) -> None:
    """A consistent copy of the database: SQLite's online backup API, or ``pg_dump`` in its custom format."""
    if source.database_url.startswith("sqlite"):
        with sqlite3.connect(make_url(source.database_url).database) as live, sqlite3.connect(dump) as copy:
            live.backup(copy)
        return
    url = make_url(source.database_url)
    command = [_tool("pg_dump"), *_pg_args(url), "--format=custom", "--file", str(dump), url.database]
    subprocess.run(command, check=True, env=_pg_env(url), capture_output=True, timeout=300)  # noqa: S603


def another_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def keep_keyring():
    """Put back the process-wide field keyring of the suite's app after a test built apps of its own."""
    saved = crypto._keyring
    return lambda: setattr(crypto, "_keyring", saved)
