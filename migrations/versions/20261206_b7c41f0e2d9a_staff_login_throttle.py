"""accounts: staff login throttle per (username, address), replacing the stranger-triggered account lock

Revision ID: b7c41f0e2d9a
Revises: b7d41e0c9a3f
Create Date: 2026-12-06 14:40:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = "b7c41f0e2d9a"
down_revision = "b7d41e0c9a3f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("wait_until", portal.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_login_throttle")),
    )
    with op.batch_alter_table("staff_login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_throttle_user_key"), ["user_key"], unique=False)


def downgrade() -> None:
    # The rows are short-lived waits (a day at most), not records: dropping them loses nothing to keep.
    with op.batch_alter_table("staff_login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_throttle_user_key"))
    op.drop_table("staff_login_throttle")
