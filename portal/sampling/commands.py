"""Commands of this feature: ``portal sampling draw`` (事后核查 draw) and ``portal sampling show``."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from ..core.audit import Actor
from ..core.db import db
from ..core.errors import DomainError

if TYPE_CHECKING:
    from .models import SamplingDraw


def _print(draw: SamplingDraw) -> None:
    click.echo(f"draw {draw.id} by {draw.drawn_by_label} at {draw.drawn_at.isoformat()} seed={draw.seed} "
               f"period={draw.period_from.isoformat()}..{draw.period_to.isoformat()}")
    for code, ids in sorted(draw.population.items()):
        picks = draw.picks.get(code, [])
        click.echo(f"  {code}: rate {draw.rates.get(code)}%, {len(ids)} cases, picked {picks}")
    if not draw.population:
        click.echo("  no completed commitment-based cases in the period")


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group."""

    @group.group("sampling")
    def sampling_group() -> None:
        """Post-hoc checking (事后核查) of commitment-based cases."""

    @sampling_group.command("draw")
    @click.option("--from", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="First completion day (local date, YYYY-MM-DD).")
    @click.option("--to", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="Last completion day (local date, YYYY-MM-DD).")
    @click.option("--seed", default=None, help="Seed to draw with (default: a fresh random one, recorded).")
    @with_appcontext
    def draw(first: datetime, last: datetime, seed: str | None) -> None:
        """Draw the cases to check among the period's completed commitment-based cases, at each item's rate."""
        from . import operations  # imported when the command runs: `portal --help` stays quick

        label = f"cli:{getpass.getuser()}"
        actor = Actor("system", label, "cli")
        try:
            row = operations.draw_sample(operations.DrawInput(first.date(), last.date(), seed), by=None,
                                         by_label=label, actor=actor)
        except DomainError as error:
            raise click.UsageError(error.message) from error
        db.session.commit()
        _print(row)

    @sampling_group.command("show")
    @click.argument("draw_id", type=int)
    @with_appcontext
    def show(draw_id: int) -> None:
        """Print a recorded draw: who, when, seed, rates, population and picks."""
        from .models import SamplingDraw

        row = db.session.get(SamplingDraw, draw_id)
        if row is None or row.region != current_app.config["PORTAL_REGION"]:
            raise click.UsageError(f"no draw {draw_id} in this region")
        _print(row)
