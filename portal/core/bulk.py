"""Writing many rows at once, for generated data (``portal demo``) and benchmarks: ``COPY`` on PostgreSQL (psycopg),
multi-row ``INSERT`` statements elsewhere; ids handed out before the rows are written, so children can refer to
them without reading anything back.

Values go through each column's own bind processing (the same as a normal insert: ``Encrypted`` seals, enums
become their text, timestamps UTC) and Python-side column defaults are filled in; ORM events do not run (a caller
sets what a listener would, e.g. an application's queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from .db import begin_for_raw_writes, db

BATCH = 5_000  # rows per INSERT statement where COPY is not available


def allocate_ids(table: Table, count: int) -> list[int]:
    """``count`` new primary keys of ``table``: from its sequence on PostgreSQL; on SQLite (one writer at a time)
    the ones after the largest id in the table."""
    if count <= 0:
        return []
    session = db.session
    if db.is_postgres:
        return list(session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count}).scalars())
    last = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


def _defaults(table: Table, present: Iterable[str]) -> dict[str, Any]:
    """Python-side defaults of the columns a row leaves out (scalars as they are, callables called once per
    row, so a timestamp default is the time of the write)."""
    missing = {}
    for column in table.columns:
        if column.name in present or column.default is None or column.default.is_sequence:
            continue
        default = column.default
        missing[column.name] = default
    return missing


def insert_rows(table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Write ``rows`` (dicts with the same keys) into ``table`` in the session's transaction; returns the count.
    Flushes nothing and commits nothing."""
    if not rows:
        return 0
    names = list(rows[0])
    defaults = _defaults(table, names)
    session = db.session
    if not db.is_postgres:
        statement = insert(table)
        for start in range(0, len(rows), BATCH):
            session.execute(statement, [row | {n: _value(d) for n, d in defaults.items()}
                                        for row in rows[start:start + BATCH]])
        return len(rows)
    columns = names + list(defaults)
    dialect = session.get_bind().dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    raw = session.connection().connection.driver_connection  # psycopg, inside the session's transaction
    begin_for_raw_writes(raw)  # reads before it may have gone without one (core/db.py): COPY runs inside it
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names] + [_value(d) for d in defaults.values()]
            copy.write_row([p(v) if p is not None and v is not None else v for p, v in zip(processors, values,
                                                                                         strict=True)])
    return len(rows)


def _value(default: Any) -> Any:
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a zero-argument callable to take the (unused) context
    return default.arg


def refresh_statistics(tables: Iterable[Table]) -> None:
    """``ANALYZE`` the tables just filled in bulk, in the session's transaction: the query planner's row counts
    and value distributions come from these statistics, and until they exist (autovacuum may be off, or not have
    come round yet) it plans for empty tables — e.g. a sequential scan of every enrolment event for one person's
    history instead of two index lookups, a cost that grows with the data."""
    session = db.session
    preparer = session.get_bind().dialect.identifier_preparer
    for table in tables:
        session.execute(text(f"ANALYZE {preparer.quote(table.name)}"))
