"""rosters: a spreadsheet (or JSON) roster of persons on a unit's case, its rows sealed and each row's check

Revision ID: e8a1c4f2b6d0
Revises: e1b5c7a9d2f4
Create Date: 2026-12-06 20:50:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.crypto
import portal.core.db
from portal.core.migrate import refuse_data_loss

revision = "e8a1c4f2b6d0"
down_revision = "e1b5c7a9d2f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("table_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("filename", portal.core.crypto.Encrypted("roster.filename"), nullable=True),
        sa.Column("uploaded_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("rows_json", portal.core.crypto.Encrypted("roster.rows"), nullable=False),
        sa.Column("checks_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"],
                                name=op.f("fk_roster_application_id_application"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_roster_unit_id_unit")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["account.id"], name=op.f("fk_roster_uploaded_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster")),
        sa.UniqueConstraint("application_id", name=op.f("uq_roster_application_id")),
        sa.UniqueConstraint("uploaded_by_id", "idempotency_key", name="roster_idempotency"),
    )
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_uploaded_by_id"), ["uploaded_by_id"], unique=False)


def downgrade() -> None:
    # A roster's rows exist nowhere else (the case's form does not hold them): refused unless --discard-data
    refuse_data_loss("uploaded rosters (table roster)", "SELECT count(*) FROM roster")
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_uploaded_by_id"))
        batch_op.drop_index(batch_op.f("ix_roster_unit_id"))
    op.drop_table("roster")
