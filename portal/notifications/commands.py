"""``portal notify work | remind | status | unconfirmed | settle``: deliver the outbox, queue the day's reminders,
count what waits, and settle by hand the sends no provider could confirm (see worker.py)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext


def register(group: click.Group) -> None:
    @group.group("notify")
    def notify_group() -> None:
        """Messages to applicants and staff (the outbox)."""

    @notify_group.command("work")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit (cron, tests).")
    @click.option("--batch", default=500, show_default=True, help="Deliveries per round.")
    @click.option("--poll", default=2.0, show_default=True, help="Seconds to sleep when nothing is due.")
    @with_appcontext
    def work(once: bool, batch: int, poll: float) -> None:
        """Deliver pending messages; run several at once on PostgreSQL (each skips rows the others hold)."""
        from .worker import deliver_due, run

        if once:
            tally = deliver_due(batch)
            click.echo(f"sent {tally.sent}, to retry {tally.retried}, failed {tally.failed}, "
                       f"unconfirmed {tally.unconfirmed}")
            return
        click.echo("delivering messages (Ctrl+C to stop)")
        try:
            run(poll_seconds=poll, batch=batch)
        except KeyboardInterrupt:
            click.echo("stopped")

    @notify_group.command("remind")
    @click.option("--date", "day", default=None, help="Act as if today were this date (YYYY-MM-DD).")
    @with_appcontext
    def remind(day: str | None) -> None:
        """Queue today's reminders (correction deadlines, staff digest, registered sources); safe to repeat."""
        from ..core.db import db
        from .reminders import send_reminders

        counts = send_reminders(date.fromisoformat(day) if day else None)
        db.session.commit()
        click.echo(", ".join(f"{name}: {n}" for name, n in counts.items()) or "no reminder sources")

    @notify_group.command("status")
    @with_appcontext
    def status() -> None:
        """How many deliveries are pending, sent and failed, per channel."""
        from sqlalchemy import func, select

        from ..core.db import db
        from .models import Delivery

        rows = db.session.execute(select(Delivery.channel, Delivery.status, func.count())
                                  .group_by(Delivery.channel, Delivery.status).order_by(Delivery.channel)).all()
        for channel, state, count in rows:
            click.echo(f"{channel:8} {state:8} {count}")
        if not rows:
            click.echo("the outbox is empty")

    @notify_group.command("unconfirmed")
    @with_appcontext
    def unconfirmed() -> None:
        """Deliveries that may have gone out unseen: look each up in the provider's console by its business id."""
        from sqlalchemy import select

        from ..core.db import db
        from .constants import Status
        from .models import Delivery, DeliveryAttempt

        rows = db.session.execute(select(Delivery).where(Delivery.status == Status.UNCONFIRMED.value)
                                  .order_by(Delivery.id)).scalars().all()
        for delivery in rows:
            sends = db.session.execute(select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id == delivery.id, DeliveryAttempt.kind == "send")
                .order_by(DeliveryAttempt.id)).scalars().all()
            first = sends[0].started_at.isoformat(timespec="seconds") if sends else "-"
            click.echo(f"{delivery.id:>8} {delivery.channel:7} business id {delivery.business_id}  "
                       f"{len(sends)} send(s), first {first}  {delivery.last_error or ''}")
        if not rows:
            click.echo("no unconfirmed deliveries")

    @notify_group.command("settle")
    @click.argument("delivery_id", type=int)
    @click.argument("decision", type=click.Choice(["sent", "failed", "resend"]))
    @click.option("--by", "who", required=True, help="Who checked the provider's console (for the audit log).")
    @click.option("--note", default="", help="What the console showed.")
    @with_appcontext
    def settle(delivery_id: int, decision: str, who: str, note: str) -> None:
        """Settle an unconfirmed delivery: it went out (sent), did not and stays unsent (failed), or did not and is
        sent again (resend)."""
        from ..core.audit import Actor
        from ..core.db import db
        from ..core.errors import DomainError
        from .operations import settle_delivery

        try:
            settle_delivery(delivery_id, decision, note=note, actor=Actor("system", who, "cli"))
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(f"delivery {delivery_id}: {decision}")
