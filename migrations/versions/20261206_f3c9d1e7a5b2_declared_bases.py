"""declared bases: each person's monthly contribution base for a year, as the unit declared it (缴费基数申报)

Revision ID: f3c9d1e7a5b2
Revises: a1c3e5f7b9d2
Create Date: 2026-12-06 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_data_loss

revision = "f3c9d1e7a5b2"
down_revision = "a1c3e5f7b9d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declared_base",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("base", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("declared_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("base > 0", name=op.f("ck_declared_base_base_positive")),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"],
                                name=op.f("fk_declared_base_application_id_application"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_declared_base_person_id_person"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_declared_base_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declared_base")),
        sa.UniqueConstraint("person_id", "year", name=op.f("uq_declared_base_person_id_year")),
    )
    with op.batch_alter_table("declared_base", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_declared_base_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_declared_base_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    # the declared bases exist nowhere else (the case's form holds the roster it came from, not the stored rows)
    refuse_data_loss("declared contribution bases (table declared_base)", "SELECT count(*) FROM declared_base")
    with op.batch_alter_table("declared_base", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declared_base_unit_id"))
        batch_op.drop_index(batch_op.f("ix_declared_base_person_id"))
    op.drop_table("declared_base")
