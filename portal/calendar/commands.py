"""Commands of this feature: ``portal calendar check`` and ``portal calendar add``."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import with_appcontext

from ..core import clock
from ..core.audit import Actor
from ..core.db import db
from . import engine


def _describe(cov: engine.Coverage) -> str:
    if cov.source is engine.Source.LIBRARY:
        return f"{cov.year}: covered by chinesecalendar ({cov.override_count} overrides)"
    if cov.source is engine.Source.OVERRIDE:
        return f"{cov.year}: covered by overrides ({cov.override_count} days entered)"
    return (f"{cov.year}: NOT covered - working days are estimated as Monday to Friday; enter the holidays and "
            f"调休 days with `portal calendar add` or upgrade chinesecalendar")


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group."""

    @group.group("calendar")
    def calendar_group() -> None:
        """Working-day calendar: coverage and holiday overrides."""

    @calendar_group.command("check")
    @click.option("--year", type=int, help="First year to check (default: this year); the next one is checked too.")
    @with_appcontext
    def check(year: int | None) -> None:
        """Print where working days come from for a year and the next; exit 1 when a year that deadlines can
        already reach (next year from 1 December) is not covered."""
        today = clock.today()
        first = year or today.year
        missing = []
        for each in (first, first + 1):
            cov = engine.coverage(each)
            click.echo(_describe(cov))
            if not cov.is_covered and engine.must_be_covered(each, today):
                missing.append(each)
        if missing:
            click.echo(f"error: holidays of {', '.join(map(str, missing))} are needed from now on and are not known",
                       err=True)
            sys.exit(1)

    @calendar_group.command("add")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--workday/--holiday", "is_workday", default=None, help="Working day (调休) or holiday.")
    @click.option("--name", required=True, help="e.g. 春节, 国庆节调休.")
    @click.option("--note", default=None, help="Where it comes from, e.g. the State Council notice.")
    @with_appcontext
    def add(day: datetime, is_workday: bool | None, name: str, note: str | None) -> None:
        """Enter the official status of DAY (YYYY-MM-DD); it wins over chinesecalendar."""
        if is_workday is None:
            raise click.UsageError("say whether the day is a working day: --workday or --holiday")
        if not name.strip() or len(name.strip()) > 64:  # checked here too: the operation's message is for pages
            raise click.UsageError("--name must have 1 to 64 characters, e.g. 春节 or 国庆节调休")
        row = engine.set_override(day.date(), is_workday=is_workday, name=name, note=note, actor=Actor.system())
        db.session.commit()
        kind = "working day" if row.is_workday else "holiday"
        click.echo(f"{row.day.isoformat()} is now a {kind} ({row.name})")
