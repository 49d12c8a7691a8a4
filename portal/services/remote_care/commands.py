"""``portal remote-care expire`` (end filings past their last day; run daily) and ``portal commitments purge``
(delete signatures past their retention) and ``portal commitments verify`` (check every stored signature)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ...core.audit import Actor
from ...core.db import db


def register(group: click.Group) -> None:
    @group.group("remote-care")
    def remote_care() -> None:
        """异地就医备案 filings."""

    @remote_care.command("expire")
    @with_appcontext
    def expire() -> None:
        """End every filing whose validity has passed without an extension (uses the portal's clock)."""
        from .operations import expire_filings

        count = expire_filings(actor=Actor.system())
        db.session.commit()
        click.echo(f"expired: {count}")

    @group.group("commitments")
    def commitments_group() -> None:
        """Signed commitments (承诺书)."""

    @commitments_group.command("purge")
    @with_appcontext
    def purge() -> None:
        """Delete signatures whose retention period (at least two years) has ended."""
        from ...commitments.operations import purge_expired_signatures

        count = purge_expired_signatures(actor=Actor.system())
        db.session.commit()
        click.echo(f"purged: {count}")

    @commitments_group.command("verify")
    @with_appcontext
    def verify() -> None:
        """Check that every stored signature still matches its text and data; exit 1 when one does not."""
        from sqlalchemy import select

        from ...commitments.models import CommitmentSignature
        from ...commitments.operations import verify_signature

        bad = 0
        for signature in db.session.execute(select(CommitmentSignature)).scalars():
            problems = verify_signature(signature)
            if problems:
                bad += 1
                click.echo(f"signature {signature.id}: " + "; ".join(problems))
        click.echo(f"checked, {bad} not matching")
        if bad:
            sys.exit(1)
