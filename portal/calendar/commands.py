"""Commands of this feature: ``portal calendar check | import | list | delete | add``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..core import clock
from ..core.audit import Actor
from ..core.db import db
from ..core.errors import NotFound, ValidationFailed
from . import engine, schedules


def _describe(cov: engine.Coverage) -> str:
    if cov.source is engine.Source.IMPORT:
        row = schedules.existing(cov.year)
        when = clock.to_local(row.applied_at).strftime("%Y-%m-%d %H:%M") if row else "?"
        return (f"{cov.year}: covered by the imported schedule ({row.source if row else '?'}, applied {when} "
                f"by {row.applied_by if row else '?'})")
    if cov.source is engine.Source.LIBRARY:
        return f"{cov.year}: covered by chinesecalendar ({cov.override_count} days entered by hand)"
    entered = f" ({cov.override_count} single days entered by hand do not cover a year)" if cov.override_count else ""
    return (f"{cov.year}: NOT covered - working days are estimated as Monday to Friday{entered}; import the State "
            f"Council's notice with `portal calendar import --year {cov.year} FILE`")


def _fail(exc: ValidationFailed | NotFound) -> None:
    messages = [m for _f, m in getattr(exc, "reasons", [])] or [str(exc)]
    for message in messages:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _print_preview(preview: schedules.Preview) -> None:
    s = preview.schedule
    click.echo(f"{len(s.holidays)} holidays, {len(s.workdays)} adjusted working days (调休):")
    for day, (work, name) in sorted(s.days.items()):
        click.echo(f"  {day.isoformat()} {'上班' if work else '放假'} {name}")
    click.echo(f"{len(preview.changed)} days change status against the calendar in use now")


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group."""

    @group.group("calendar")
    def calendar_group() -> None:
        """Working-day calendar: coverage, the yearly holiday schedule, single-day overrides."""

    @calendar_group.command("check")
    @click.option("--year", type=int, help="First year to check (default: this year); the next one is checked too.")
    @with_appcontext
    def check(year: int | None) -> None:
        """Print where working days come from for a year and the next, and where an imported schedule and
        chinesecalendar differ; exit 1 when a year that deadlines can already reach (next year from
        1 December) is not covered."""
        today = clock.today()
        first = year or today.year
        missing = []
        for each in (first, first + 1):
            cov = engine.coverage(each)
            click.echo(_describe(cov))
            for day, imported, library in engine.library_disagreements(each):
                click.echo(f"  {day.isoformat()}: imported schedule says {'working day' if imported else 'holiday'}, "
                           f"chinesecalendar says {'working day' if library else 'holiday'} - the imported schedule "
                           "wins (the agency applied it)")
            if not cov.is_covered and engine.must_be_covered(each, today):
                missing.append(each)
            elif not cov.is_covered and engine.must_be_shown(each, today):
                click.echo(f"warning: the holidays of {each} are not known yet; deadlines reaching them are estimates")
        if missing:
            click.echo(f"error: holidays of {', '.join(map(str, missing))} are needed from now on and are not known",
                       err=True)
            sys.exit(1)

    @calendar_group.command("import")
    @click.option("--year", type=int, required=True, help="The year the schedule is for, e.g. 2027.")
    @click.option("--dry-run", is_flag=True, help="Only show what would be set and changed.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @with_appcontext
    def import_(year: int, dry_run: bool, file: Path) -> None:
        """Import FILE as the holiday schedule of YEAR: the State Council's notice as text (paste a later
        notice that changes it after it), or a CSV (date,kind,name) or YAML list of dates. Stored deadlines of
        open cases are recounted; importing the same schedule again changes nothing."""
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            _fail(ValidationFailed([("file", "the file must be UTF-8 text")]))
        try:
            preview = schedules.preview_schedule(year, text)
            _print_preview(preview)
            if dry_run:
                return
            applied = schedules.apply_schedule(year, text, source=file.name, actor=Actor.system())
        except ValidationFailed as exc:
            _fail(exc)
        db.session.commit()
        if applied.unchanged:
            click.echo(f"{year}: the same schedule is already imported; nothing changed")
            return
        moved = ", ".join(f"{k}: {v}" for k, v in applied.moved.items()) or "none"
        click.echo(f"{year}: schedule imported; {len(applied.changed)} days changed status; recounted: {moved}")

    @calendar_group.command("list")
    @click.option("--year", type=int, help="List the days of this year.")
    @with_appcontext
    def list_(year: int | None) -> None:
        """List imported schedules, or with --year every day set for that year."""
        if year is None:
            for row in schedules.list_schedules():
                when = clock.to_local(row.applied_at).strftime("%Y-%m-%d %H:%M")
                click.echo(f"{row.year}  {row.kind}  {row.holiday_count} holidays, {row.workday_count} working days  "
                           f"{row.source}  applied {when} by {row.applied_by}")
            return
        for row in schedules.entries(year):
            origin = "imported" if row.schedule_id else "entered by hand"
            click.echo(f"{row.day.isoformat()}  {'上班' if row.is_workday else '放假'}  {row.name}  ({origin})")

    @calendar_group.command("delete")
    @click.argument("year", type=int, required=False)
    @click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), help="Delete one day entered by hand.")
    @with_appcontext
    def delete(year: int | None, day: datetime | None) -> None:
        """Delete the imported schedule of YEAR (or, with --day, one day entered by hand); deadlines are recounted."""
        if (year is None) == (day is None):
            raise click.UsageError("give either YEAR or --day YYYY-MM-DD")
        try:
            if day is not None:
                schedules.delete_override(day.date(), actor=Actor.system())
            else:
                schedules.delete_schedule(year, actor=Actor.system())
        except (ValidationFailed, NotFound) as exc:
            _fail(exc)
        db.session.commit()
        click.echo("deleted")

    @calendar_group.command("add")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--workday/--holiday", "is_workday", default=None, help="Working day (调休) or holiday.")
    @click.option("--name", required=True, help="e.g. 春节, 国庆节调休.")
    @click.option("--note", default=None, help="Where it comes from, e.g. the State Council notice.")
    @with_appcontext
    def add(day: datetime, is_workday: bool | None, name: str, note: str | None) -> None:
        """Enter the official status of one DAY (YYYY-MM-DD); it wins over chinesecalendar. A single day never
        makes a year covered: import the whole schedule for that."""
        if is_workday is None:
            raise click.UsageError("say whether the day is a working day: --workday or --holiday")
        if not name.strip() or len(name.strip()) > 64:  # checked here too: the operation's message is for pages
            raise click.UsageError("--name must have 1 to 64 characters, e.g. 春节 or 国庆节调休")
        row = schedules.set_day(day.date(), is_workday=is_workday, name=name, note=note, actor=Actor.system())
        db.session.commit()
        kind = "working day" if row.is_workday else "holiday"
        click.echo(f"{row.day.isoformat()} is now a {kind} ({row.name})")
