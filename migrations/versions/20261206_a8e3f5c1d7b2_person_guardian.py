"""person.guardian_id: the parent who enrolled a newborn (新生儿参保登记)

Revision ID: a8e3f5c1d7b2
Revises: e8a1c4f2b6d0
Create Date: 2026-12-06 20:10:00

Completing 新生儿参保登记 enrols the newborn and links them to the parent who filed. The link is a nullable
self-reference (SET NULL when the parent's row goes); downgrading drops it (the enrolment itself stays).
"""

import sqlalchemy as sa
from alembic import op

revision = "a8e3f5c1d7b2"
down_revision = "e8a1c4f2b6d0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guardian_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_person_guardian_id_person"), "person", ["guardian_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_person_guardian_id"), ["guardian_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_guardian_id"))
        batch_op.drop_constraint(batch_op.f("fk_person_guardian_id_person"), type_="foreignkey")
        batch_op.drop_column("guardian_id")
