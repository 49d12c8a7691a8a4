"""Command line: ``portal up | demo | keys | audit verify/seal | calendar check | sms outbox``.

``portal`` is ``flask --app wsgi portal`` with the app built for you.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .config import ConfigError

_check_keys_at_start = True


def _make_app() -> Flask:
    from . import create_app

    try:
        # a command reads the catalog when it needs it, not at every start
        return create_app(check_keys=_check_keys_at_start, load_catalog=False)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def diagnostic(command: Callable[..., Any]) -> Callable[..., Any]:
    """For a command that reports what is wrong with the keys (put above ``@with_appcontext``): its app starts
    without refusing keys that do not match the database, so the command can say which."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _check_keys_at_start
        _check_keys_at_start = False
        return command(*args, **kwargs)

    return wrapper


portal_group = click.Group("portal", help="Portal administration commands.")


@portal_group.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty database.")
@with_appcontext
def up(host: str, port: int, no_demo: bool) -> None:
    """Migrate the database, load demo data when it is empty, and serve the portal (development only)."""
    from .core.migrate import upgrade_database
    from .extensions import db

    if current_app.config["PORTAL_ENV"] == "production":
        click.echo("error: `portal up` runs the development server and is refused in production. Migrate with "
                   "`portal db upgrade`, then serve with gunicorn, e.g. `gunicorn -w 4 -b 127.0.0.1:8000 wsgi:app`, "
                   "behind the HTTPS reverse proxy.", err=True)
        sys.exit(2)
    current_app.extensions["portal_catalog"].region  # noqa: B018 (read and check the catalog before serving)
    upgrade_database()
    if not no_demo:
        from .accounts.demo import describe_demo_logins, ensure_demo_accounts
        from .insurance.demo import ensure_demo_data

        summary = ensure_demo_data()
        if summary:
            click.echo(summary)
        ensure_demo_accounts()
        db.session.commit()
        click.echo(describe_demo_logins())
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    from werkzeug.serving import run_simple

    # Flask's app.run() refuses to start inside its own CLI; the development server is run directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


@portal_group.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the seal chain, each sealed batch and every row; exit 1 at the first row or seal that was altered,
    removed, added or reordered."""
    from .core.audit import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"audit log intact: {report.checked} sealed rows in {report.seals} seals, {report.pending} rows "
                   f"not sealed yet (each matches its own hash); head {report.head}")
        return
    where = f"row {report.broken_at}" + (f" (seal {report.broken_seal})" if report.broken_seal else "")
    click.echo(f"audit log BROKEN at {where}: {report.reason} ({report.checked} rows intact before it)", err=True)
    sys.exit(1)


@audit_group.command("seal")
@click.option("--watch", "every", type=float, default=None,
              help="Keep sealing, every this many seconds (run it as a service); without it, seal once and stop.")
@click.option("--batch", type=int, default=5000, show_default=True, help="Rows per seal.")
@with_appcontext
def audit_seal(every: float | None, batch: int) -> None:
    """Seal the audit rows written since the last seal, in chained batches (writers never wait for this)."""
    import time

    from .core.audit import seal_all

    while True:
        sealed = seal_all(batch)
        if sealed or every is None:
            click.echo(f"sealed {len(sealed)} batches" + (f" ({sealed[0]}–{sealed[-1]})" if sealed else ""))
        if every is None:
            return
        time.sleep(every)


@portal_group.group("keys")
def keys_group() -> None:
    """Encryption keys (kept outside the database)."""


@keys_group.command("new")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the keys to this new file, readable by its owner only (an existing file is never "
                   "overwritten). Without it the JSON is printed: then run it under `umask 077`.")
def keys_new(out: str | None) -> None:
    """A new production key set as JSON (store it outside the database; point PORTAL_KEYS_FILE at it)."""
    import json
    import os

    from .config import new_keyset

    keys = new_keyset()
    keys["development"] = False
    body = json.dumps(keys, indent=2) + "\n"
    if out is None:
        click.echo(body, nl=False)
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        click.echo(f"refused: {out} exists; keys are never overwritten (the data sealed under them would be lost)",
                   err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"error: cannot create {out}: {exc.strerror}", err=True)
        sys.exit(1)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)  # whatever the umask
        fh.write(body)
    click.echo(f"wrote new keys to {out} (mode 0600); back it up with the database, then set PORTAL_KEYS_FILE")


@keys_group.command("forget")
@click.argument("key_id")
@diagnostic
@with_appcontext
def keys_forget(key_id: str) -> None:
    """Drop the recorded check value of KEY_ID after it was retired on purpose (refused while data uses it)."""
    from .core import keycheck
    from .core.db import db

    keys = current_app.config["PORTAL_KEYS"]
    if key_id in keycheck.loaded_keys(keys):
        click.echo(f"refused: {key_id} is still in the keys file; remove it there first", err=True)
        sys.exit(1)
    users = keycheck.key_in_use(key_id)
    if users:
        click.echo(f"refused: {users} still sealed under {key_id}; put the key back (or rotate) first", err=True)
        sys.exit(1)
    if not keycheck.forget(key_id):
        click.echo(f"no check value is recorded for {key_id}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"forgot the check value of {key_id}")


# Feature modules that add commands: each has ``register(group)``.
COMMAND_MODULES = (
    "portal.calendar.commands",
    "portal.insurance.commands",
    "portal.accounts.commands",
    "portal.sampling.commands",
    "portal.core.i18n",
    "portal.services.remote_care.commands",
    "portal.materials.commands",  # adds to the keys group above, so it is defined before this loop
    "portal.certificates.commands",
    "portal.notifications.commands",
    "portal.national.commands",
    "portal.organisations.commands",
    "portal.core.doctor",
)
for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(portal_group)


@portal_group.group("db")
def db_group() -> None:
    """Database schema (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from .core.migrate import upgrade_database

    upgrade_database(revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@click.option("--discard-data", is_flag=True,
              help="Go on even where a step drops data that exists nowhere else (back up first).")
@with_appcontext
def db_downgrade(revision: str, discard_data: bool) -> None:
    """Take the schema back to REVISION (a revision id, or -1 for one step). Refused, with nothing changed, when a
    step would drop data that exists nowhere else, unless --discard-data."""
    from .core.migrate import DataLossRefused, downgrade_database

    try:
        downgrade_database(revision, discard_data=discard_data)
    except DataLossRefused as refusal:
        click.echo(f"error: {refusal}", err=True)
        sys.exit(1)
    _echo_schema_state()


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's revision and the one the code expects; exit 1 when they differ."""
    if not _echo_schema_state():
        sys.exit(1)


def _echo_schema_state() -> bool:
    from .core.migrate import schema_state
    from .extensions import db

    with db.engine.connect() as connection:
        state = schema_state(connection)
    click.echo(state.describe())
    return state.at_head


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database (developers)."""
    from alembic import command

    from .core.migrate import alembic_config
    from .core.models_registry import import_all_models

    import_all_models()
    command.revision(alembic_config(), message=message, autogenerate=True)


def init_app(app: Flask) -> None:
    """Attach the command group to ``flask --app wsgi portal``; feature commands attach themselves here."""
    if "portal" not in app.cli.commands:
        app.cli.add_command(portal_group)


class _PortalGroup(FlaskGroup):
    """``portal``: the commands are all known without building the app, so listing them (``portal --help``) does
    not build it; a command that needs the app builds it when it runs (``with_appcontext``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


def main() -> None:
    """Console entry point ``portal``."""
    cli = _PortalGroup(create_app=_make_app, add_default_commands=False, add_version_option=False)
    for name, command in portal_group.commands.items():
        cli.add_command(command, name)
    cli.main(args=sys.argv[1:], prog_name="portal")
