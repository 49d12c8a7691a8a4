"""keys: a check value per key id (key_check), never the key

Revision ID: 3c1f6a9e2b7d
Revises: 3c0a1e5d2027
Create Date: 2026-12-06 14:30:00

The rows are written by the app at its first start after this migration (from the keys it loads). Downgrading
drops only these check values, which the next start after an upgrade records again from the keys file.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = "3c1f6a9e2b7d"
down_revision = "3c0a1e5d2027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_check",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("check_value", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_key_check")),
    )


def downgrade() -> None:
    op.drop_table("key_check")
