"""benefit: the source case of a recognition, a graded benefit's level, and the 长期护理 kind

Revision ID: e1b5c7a9d2f4
Revises: 752f0f556b7e
Create Date: 2026-12-06 20:40:00

Completing a recognition (门诊慢特病, 特药, 生育待遇核准, 长期护理 assessment) now writes a ``benefit`` row that
names its case (``application_id``; NULL for rows brought over) and, where graded, its level. The downgrade
refuses while a 长期护理 record exists: the old schema's kinds cannot hold it.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1b5c7a9d2f4"
down_revision = "752f0f556b7e"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('remote_care_filing', 'chronic_disease', 'special_drug', 'maternity', 'other')"
NEW_KINDS = "kind IN ('remote_care_filing', 'chronic_disease', 'special_drug', 'maternity', 'long_term_care', 'other')"


def upgrade() -> None:
    with op.batch_alter_table("benefit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("level", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_benefit_application_id_application"), "application",
                                    ["application_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_benefit_application_id"), ["application_id"], unique=False)
        batch_op.drop_constraint(batch_op.f("ck_benefit_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_benefit_kind"), NEW_KINDS)


def downgrade() -> None:
    bind = op.get_bind()
    count = bind.execute(sa.text("SELECT count(*) FROM benefit WHERE kind = 'long_term_care'")).scalar_one()
    if count:
        raise RuntimeError(f"refusing to downgrade: {count} 长期护理 benefit record(s) cannot be held by the old "
                           "schema; export and remove them first.")
    with op.batch_alter_table("benefit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_benefit_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_benefit_kind"), OLD_KINDS)
        batch_op.drop_index(batch_op.f("ix_benefit_application_id"))
        batch_op.drop_constraint(batch_op.f("fk_benefit_application_id_application"), type_="foreignkey")
        batch_op.drop_column("level")
        batch_op.drop_column("application_id")
