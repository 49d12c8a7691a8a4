"""Commands of this feature (``portal demo``)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete

from ..core.bulk import refresh_statistics
from ..core.db import Base, db

INSURANCE_TABLES = ("unit", "person", "enrolment", "enrolment_event", "contribution", "personal_account",
                    "account_transaction", "benefit")


def _tables_to_clear() -> list:
    """The insurance tables and every table that refers to them (directly or not), children first."""
    from ..core.models_registry import import_all_models

    import_all_models()
    names = set(INSURANCE_TABLES)
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.tables.values():
            if table.name not in names and any(fk.column.table.name in names for fk in table.foreign_keys):
                names.add(table.name)
                changed = True
    return [t for t in reversed(Base.metadata.sorted_tables) if t.name in names]


def clear_demo_tables() -> list[str]:
    """Delete every row of the system of record and of the tables that refer to it. Flushes, does not commit."""
    tables = _tables_to_clear()
    for table in tables:
        db.session.execute(delete(table))
    db.session.flush()
    return [t.name for t in tables]


# What else ``portal demo`` loads, registered by the features above this one (the demo institutions of
# ``organisations``): functions of the region returning a summary line, or None.
DEMO_EXTRAS: list = []


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group."""

    @group.command("demo")
    @click.option("--seed", default=20261122, show_default=True, type=int, help="Random seed; same seed, same data.")
    @click.option("--persons", default=2000, show_default=True, type=click.IntRange(min=20))
    @click.option("--units", default=100, show_default=True, type=click.IntRange(min=2))
    @click.option("--cases", default=0, show_default=True, type=click.IntRange(min=0),
                  help="Applications in every state, filed by citizen accounts bound to generated persons.")
    @click.option("--reset", is_flag=True, help="Delete the existing records first.")
    @with_appcontext
    def demo(seed: int, persons: int, units: int, cases: int, reset: bool) -> None:
        """Load deterministic demo persons, units, contributions and accounts (and, with --cases, applications)
        for the configured region, in bulk: 200,000 persons and 100,000 cases take minutes."""
        from .demo import generate_demo_data, has_persons

        if current_app.config["PORTAL_ENV"] == "production":
            click.echo("error: demo data (fictitious persons, units and logins with published passwords) is refused "
                       "in production", err=True)
            sys.exit(2)
        if reset:
            cleared = clear_demo_tables()
            click.echo(f"cleared: {', '.join(cleared)}")
        elif has_persons():
            click.echo("error: the database already holds persons; use --reset to replace them", err=True)
            sys.exit(1)
        also = None
        if cases:
            from ..applications.demo import CaseMaker
            from .demo import all_demo_citizens

            also = CaseMaker(seed, current_app.config["PORTAL_REGION"], cases, persons,
                             {c.id_number for c in all_demo_citizens()})
        summary = generate_demo_data(seed=seed, persons=persons, units=units, also=also)
        extras = [line for extra in DEMO_EXTRAS if (line := extra(current_app.config["PORTAL_REGION"]))]
        db.session.commit()
        refresh_statistics(_tables_to_clear())  # the planner's view of the new rows (autovacuum may be off)
        db.session.commit()
        click.echo(summary.line())
        for line in extras:
            click.echo(line)
