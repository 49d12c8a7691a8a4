"""The doctor's checks that belong to no feature: schema at head, keys match, audit chain, calendar coverage."""

from __future__ import annotations

from datetime import date

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from . import clock, keycheck
from .db import db
from .doctor import Outcome, check


@check("schema", "the database schema is at the newest migration (head)")
def schema_at_head() -> Outcome:
    from .migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    if current == heads:
        return Outcome(f"at head {', '.join(sorted(heads))}")
    shown = ", ".join(sorted(current)) or "no revision (never migrated)"
    return Outcome(f"at {shown}", (f"schema is at {shown}, not at head {', '.join(sorted(heads))}: "
                                   "run `portal db upgrade`",))


@check("keys", "every loaded key is the key that wrote the data (check values per key id)")
def keys_match() -> Outcome:
    if not keycheck.table_exists():
        return Outcome("not checked", ("the database has no key_check table: run `portal db upgrade`",))
    result = keycheck.report(current_app.config["PORTAL_KEYS"])
    unrecorded = result.ids(keycheck.KeyState.UNRECORDED)
    note = f"; not recorded yet: {', '.join(unrecorded)}" if unrecorded else ""
    return Outcome(f"{len(result.ids(keycheck.KeyState.OK))} keys match{note}", tuple(result.problems()))


@check("audit", "the audit log's hash chain holds")
def audit_chain() -> Outcome:
    from .audit import verify_chain

    report = verify_chain()
    if report.ok:
        return Outcome(f"{report.checked} sealed rows intact in {report.seals} seals; {report.pending} rows not sealed "
                       "yet")
    return Outcome(f"broken after {report.checked} rows", (f"audit row {report.broken_at}: {report.reason}",))


def calendar_gaps(today: date) -> list[int]:
    """The years whose holiday schedule deadlines can already reach but that are not known: this year always,
    next year from 1 December. The one place the doctor calls the calendar (its public ``coverage``)."""
    from ..calendar import coverage

    needed = [today.year] + ([today.year + 1] if today.month == 12 else [])
    return [year for year in needed if not coverage(year).is_covered]


@check("calendar", "the holiday schedule is known for this year (and next year from December)")
def calendar_covered() -> Outcome:
    today = clock.today()
    gaps = calendar_gaps(today)
    if not gaps:
        return Outcome(f"covered through {today.year + 1 if today.month == 12 else today.year}")
    return Outcome("not covered", tuple(f"holidays of {year} are not known: upgrade chinesecalendar or enter them "
                                        "with `portal calendar add` (see `portal calendar check`)" for year in gaps))
