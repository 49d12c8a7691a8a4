"""``portal national …``: serve the hub, run the worker, pull once, show what waits."""

from __future__ import annotations

import contextlib
import sys
import time

import click
from flask.cli import with_appcontext


def register(group: click.Group) -> None:
    @group.group("national")
    def national() -> None:
        """The national medical-security platform: the outbox, the inbox and the development hub."""

    @national.command("hub")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8790, show_default=True, type=int)
    @click.option("--store", default="national-hub.sqlite", show_default=True,
                  help="The hub's SQLite file (messages are kept there in clear: development only).")
    @click.option("--nodes-file", required=True, type=click.Path(exists=True, dir_okay=False),
                  help='JSON object of area code to secret, e.g. {"220100": "…", "231025": "…"}.')
    def hub(host: str, port: int, store: str, nodes_file: str) -> None:
        """Serve the development hub over the platform's HTTP protocol for several portal deployments (each with
        PORTAL_NATIONAL_BACKEND=http, PORTAL_NATIONAL_URL=http://HOST:PORT and its secret from the nodes file)."""
        from ..integrations.national import serve_hub

        try:
            server = serve_hub(store, nodes_file, host, port)
        except (ValueError, OSError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        areas = ", ".join(sorted(server.app.hub.nodes or ()))
        click.echo(f"national hub on http://{host}:{server.server_port}/ for areas {areas} (store {store}); "
                   "Ctrl+C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()

    @national.command("work")
    @click.option("--once", is_flag=True, help="One round (receive, then send what is due), then exit.")
    @click.option("--poll", default=5.0, show_default=True, help="Seconds to wait when nothing happened.")
    @with_appcontext
    def work(once: bool, poll: float) -> None:
        """Receive messages for this area and send the outbox, retrying what the platform did not take."""
        from ..integrations.national import NationalError
        from .operations import work_once

        while True:
            try:
                tally = work_once()
            except NationalError as exc:  # the platform is away: the outbox waits, try again after the poll
                tally = {"error": 1}
                click.echo(f"national platform: {exc}", err=True)
            if once:
                click.echo(" ".join(f"{k}={v}" for k, v in sorted(tally.items())))
                return
            if not any(tally.values()):
                time.sleep(poll)

    @national.command("status")
    @with_appcontext
    def status() -> None:
        """How many messages wait, failed or went out, and the filings not yet reported."""
        from sqlalchemy import func, select

        from ..core.db import db
        from .filings import unreported
        from .models import OutboundMessage

        counts = dict(db.session.execute(select(OutboundMessage.status, func.count())
                                         .group_by(OutboundMessage.status)).all())
        click.echo("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"))
        click.echo(f"filings not yet reported: {len(unreported())}")
