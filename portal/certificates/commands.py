"""``portal certificates revoke NUMBER --reason TEXT``: the agency withdraws a certificate.

From then on its verification page and API say it is revoked. The workbench will offer the same to staff;
until then an administrator runs this, and the audit log records it as the system.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


def register(group: click.Group) -> None:
    @group.group("certificates")
    def certificates() -> None:
        """Issued certificates (参保凭证, 参保证明)."""

    @certificates.command("revoke")
    @click.argument("number")
    @click.option("--reason", required=True, help="Why the certificate is withdrawn (kept with it).")
    @with_appcontext
    def revoke(number: str, reason: str) -> None:
        """Revoke the certificate numbered NUMBER, e.g. '(吉林省)(220100)(2026)(第0001号)'."""
        from sqlalchemy import select

        from ..core.audit import Actor
        from ..core.db import db
        from ..core.errors import ValidationFailed
        from .models import Certificate
        from .operations import revoke_certificate

        certificate = db.session.execute(select(Certificate).where(Certificate.number == number.strip())
                                         ).scalar_one_or_none()
        if certificate is None:
            click.echo(f"no certificate numbered {number}", err=True)
            sys.exit(1)
        try:
            revoke_certificate(certificate, reason, actor=Actor.system())
        except ValidationFailed as error:
            click.echo(error.message, err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(f"revoked {certificate.number}")
