"""care_assessment: the 长期护理 ADL assessment of a case (scores, total, 失能等级)

Revision ID: c2f7b9d4e6a1
Revises: fa471b4b4422
Create Date: 2026-12-06 20:40:00

Staff enter the scores of the 《长期护理保险日常生活活动能力评定量表》 on the case; the total and its band are kept with
them. Downgrading drops the table (the level stays in the person's benefit record).
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = "c2f7b9d4e6a1"
down_revision = "fa471b4b4422"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("scores_json", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total >= 0 AND total <= 100", name=op.f("ck_care_assessment_total_range")),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"],
                                name=op.f("fk_care_assessment_application_id_application"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entered_by_id"], ["account.id"],
                                name=op.f("fk_care_assessment_entered_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_assessment")),
        sa.UniqueConstraint("application_id", name=op.f("uq_care_assessment_application_id")),
    )


def downgrade() -> None:
    op.drop_table("care_assessment")
