"""``portal sms outbox`` and ``portal staff create | totp | unlock | identity``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ..core import clock
from ..core.audit import Actor
from ..core.db import db
from ..core.errors import ValidationFailed
from ..core.masking import mask_phone


def _staff(username: str):
    from .models import Account, staff_login_key

    account = db.session.execute(
        select(Account).where(Account.login_key == staff_login_key(username))).scalar_one_or_none()
    if account is None:
        click.echo(f"error: no staff account {username!r}", err=True)
        sys.exit(1)
    return account


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group."""

    @group.group("sms")
    def sms_group() -> None:
        """Text messages."""

    @sms_group.command("outbox")
    @click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 500))
    @with_appcontext
    def sms_outbox(limit: int) -> None:
        """Show the newest messages of the development SMS outbox (codes included)."""
        from ..integrations.sms import outbox_messages

        if current_app.config["PORTAL_SMS_BACKEND"] != "outbox":
            click.echo("error: PORTAL_SMS_BACKEND is not the outbox; messages went to the real gateway", err=True)
            sys.exit(1)
        messages = outbox_messages(limit=limit)
        if not messages:
            click.echo("The outbox is empty.")
        for message in messages:
            when = clock.to_local(message.created_at).strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{when}  {mask_phone(message.phone)}  {message.body}")

    @group.group("staff")
    def staff_group() -> None:
        """Staff accounts."""

    @staff_group.command("create")
    @click.argument("username")
    @click.option("--name", "display_name", default="", help="Name shown in the workbench.")
    @click.option("--role", "roles", multiple=True, required=True,
                  type=click.Choice(["acceptor", "reviewer", "finance", "chief", "admin"]),
                  help="Repeat for several roles.")
    @click.password_option(help="Prompted (twice) when not given.")
    @with_appcontext
    def staff_create(username: str, display_name: str, roles: tuple[str, ...], password: str) -> None:
        """Create a staff account and print its TOTP secret for an authenticator app."""
        from . import operations, passwords
        from .models import Role

        data = operations.NewStaff(username, display_name, password, frozenset(Role(r) for r in roles))
        try:
            account, secret = operations.create_staff(data, actor=Actor.system())
        except ValidationFailed as exc:
            for field, message in exc.reasons:
                click.echo(f"error: {field or ''}: {message}", err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(f"created staff {account.username} ({account.role_codes})")
        click.echo(f"TOTP secret (enter it in an authenticator app): {secret}")
        click.echo(f"or scan: {passwords.provisioning_uri(secret, account.username)}")

    @staff_group.command("totp")
    @click.argument("username")
    @with_appcontext
    def staff_totp(username: str) -> None:
        """Print the current TOTP code of a staff account (development only)."""
        from .passwords import current_totp

        if current_app.config["PORTAL_ENV"] != "development":
            click.echo("error: `portal staff totp` works in development only", err=True)
            sys.exit(2)
        account = _staff(username)
        click.echo(current_totp(account.totp_secret or "", clock.now()))

    @staff_group.command("unlock")
    @click.argument("username")
    @with_appcontext
    def staff_unlock(username: str) -> None:
        """Lift the lock after failed logins."""
        from .operations import unlock_staff

        unlock_staff(_staff(username), actor=Actor.system())
        db.session.commit()
        click.echo(f"unlocked {username}")

    @staff_group.command("identity")
    @click.argument("username")
    @click.option("--id-number", prompt=True, hide_input=True, help="Prompted (hidden) when not given.")
    @with_appcontext
    def staff_identity(username: str, id_number: str) -> None:
        """Record the staff member's own 身份证 (blind index only): they are kept off their own cases (S7)."""
        from .operations import set_staff_identity

        try:
            set_staff_identity(_staff(username), id_number, actor=Actor.system())
        except ValidationFailed as error:
            click.echo(f"error: {error.message}", err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(f"identity recorded for {username}")
