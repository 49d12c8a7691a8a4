"""names sealed: person.name (with a blind index for exact search), account.display_name, unit.legal_rep_name

Personal names were plaintext while ID numbers and phones were sealed (issue 25, point 6). Upgrade turns the three
columns into sealed text (AES-256-GCM under the current field key, the column bound in as associated data, as
``portal.core.crypto.Encrypted`` writes them) and fills ``person.name_index`` (HMAC of the normalised name under
the blind-index key) for every existing row. Downgrade opens every value and writes the plaintext back; it refuses
(nothing changed) when a name would not fit the old 64-character columns.

Both need the field keys of the deployment: run them through ``portal db upgrade`` / ``portal db downgrade``, which
load the keys file first.

Revision ID: d5e9a3c7b1f4
Revises: d3a9e6f1c2b8
Create Date: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op

from portal.core.crypto import keyring

revision = 'd5e9a3c7b1f4'
down_revision = 'd3a9e6f1c2b8'
branch_labels = None
depends_on = None

# (table, column, context bound into the ciphertext, nullable)
COLUMNS = (
    ("person", "name", "person.name", False),
    ("account", "display_name", "account.display_name", False),
    ("unit", "legal_rep_name", "unit.legal_rep_name", True),
)
BATCH = 500


def _rewrite(table: str, column: str, change, *, extra=None) -> None:
    """Read (id, value) in id order, batch by batch, and write ``change(value)`` back (plus ``extra`` columns)."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"),
                            {"last": last}).all()
        if not rows:
            return
        for row_id, value in rows:
            values = {"id": row_id, "value": None if value is None else change(value)}
            sets = f"{column} = :value"
            if extra is not None and value is not None:
                for name, compute in extra.items():
                    values[name] = compute(value)
                    sets += f", {name} = :{name}"
            bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :id"), values)
        last = rows[-1][0]


def upgrade() -> None:
    ring = keyring()
    for table, column, _context, nullable in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=64), type_=sa.Text(),
                                  existing_nullable=nullable)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_index', sa.String(length=64), nullable=True))
    for table, column, context, _nullable in COLUMNS:
        extra = None
        if table == "person":
            extra = {"name_index": lambda v: ring.blind_index(" ".join(v.split()), "person_name")}
        _rewrite(table, column, lambda v, c=context: ring.seal(v, c), extra=extra)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.alter_column('name_index', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_person_name_index'), ['name_index'], unique=False)


def downgrade() -> None:
    ring = keyring()
    bind = op.get_bind()
    for table, column, context, _nullable in COLUMNS:
        too_long = 0
        for (value,) in bind.execute(sa.text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")):
            too_long += len(ring.open(value, context)) > 64
        if too_long:
            raise RuntimeError(f"{too_long} values of {table}.{column} are longer than the 64 characters of the "
                               "old column: they would be cut; nothing was changed")
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_name_index'))
        batch_op.drop_column('name_index')
    for table, column, context, nullable in COLUMNS:
        _rewrite(table, column, lambda v, c=context: ring.open(v, c))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=64),
                                  existing_nullable=nullable)
