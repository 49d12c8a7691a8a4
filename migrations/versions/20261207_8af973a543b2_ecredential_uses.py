"""ecredential_uses: the 医保电子凭证 codes that logged someone in during the last day

Revision ID: 8af973a543b2
Revises: f1661f7c8343
Create Date: 2026-12-07 09:10:28

A code logs in once. The guard was a counter in the rate-limit storage, so it was off wherever rate limiting is off
and per process with ``memory://``; it is now a row per code (its keyed hash, unique) in ``ecredential_use``, kept for
a day. Downgrading drops only that day's replay guard.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = "8af973a543b2"
down_revision = "f1661f7c8343"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ecredential_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_index", sa.String(length=64), nullable=False),
        sa.Column("used_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecredential_use")),
        sa.UniqueConstraint("code_index", name=op.f("uq_ecredential_use_code_index")),
    )
    with op.batch_alter_table("ecredential_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecredential_use_used_at"), ["used_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ecredential_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecredential_use_used_at"))
    op.drop_table("ecredential_use")
