"""audit: rows appended without a lock, sealed in chained batches (audit_seal)

Revision ID: d3a9e6f1c2b8
Revises: c4d8f2a6e1b3
Create Date: 2026-12-06 17:10:00

The rows already written keep their old chain's ``prev_hash`` (it is part of their content and of their hash);
``portal audit seal`` seals them like any new row. The downgrade chains the rows written since, one after the
other from the last old row, as the old code expects: nothing is lost.
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = "d3a9e6f1c2b8"
down_revision = "c4d8f2a6e1b3"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sealed_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rows_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_seal_hash")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seal_id", sa.Integer(), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.drop_constraint(batch_op.f("uq_audit_event_hash"), type_="unique")
        batch_op.create_foreign_key(batch_op.f("fk_audit_event_seal_id_audit_seal"), "audit_seal", ["seal_id"], ["id"])
        batch_op.create_index("ix_audit_event_seal", ["seal_id", "id"], unique=False)


def _canonical(row, prev_hash: str) -> str:
    return json.dumps([row.at.isoformat(), row.actor_kind, row.actor_id, row.role, row.action, row.object_type,
                       row.object_id, row.result, row.ip, row.request_id, row.detail, prev_hash],
                      ensure_ascii=False, separators=(",", ":"))


def _chain_unchained_rows() -> None:
    """Give every row written under the batch scheme its old-style link, in id order."""
    bind = op.get_bind()
    event = sa.table("audit_event", sa.column("id", sa.BigInteger()), sa.column("at", portal.core.db.UTCDateTime()),
                     *(sa.column(name, sa.Text()) for name in (
                         "actor_kind", "actor_id", "role", "action", "object_type", "object_id", "result", "ip",
                         "request_id", "detail", "prev_hash", "hash")))
    previous = bind.execute(sa.select(event.c.hash).where(event.c.prev_hash.is_not(None))
                            .order_by(event.c.id.desc()).limit(1)).scalar() or GENESIS
    last_id = 0
    while True:
        rows = bind.execute(sa.select(event).where(event.c.prev_hash.is_(None), event.c.id > last_id)
                            .order_by(event.c.id).limit(2000)).all()
        if not rows:
            return
        for row in rows:
            digest = hashlib.sha256(_canonical(row, previous).encode()).hexdigest()
            bind.execute(sa.update(event).where(event.c.id == row.id).values(prev_hash=previous, hash=digest))
            previous, last_id = digest, row.id


def downgrade() -> None:
    _chain_unchained_rows()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_seal")
        batch_op.drop_constraint(batch_op.f("fk_audit_event_seal_id_audit_seal"), type_="foreignkey")
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_hash"), ["hash"])
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("seal_id")
    op.drop_table("audit_seal")
