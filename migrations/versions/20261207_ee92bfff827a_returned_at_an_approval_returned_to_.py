"""returned_at: when an approval was returned to review before payment (退回重审)

Revision ID: ee92bfff827a
Revises: 3bc29cb29e9e
Create Date: 2026-12-07 18:09:50

``application.returned_at`` marks a case in review that finance (or a reviewer, or a chief) sent back from its
approval before the payment started; the review queue shows the mark, and the next decision clears it. A case
returned before this revision gets it from its timeline: it is still in review and its newest 退回重审 event is the
time. Downgrading drops the column; the timeline still holds every return.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = "ee92bfff827a"
down_revision = "3bc29cb29e9e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned_at", portal.core.db.UTCDateTime(timezone=True), nullable=True))
    # in review and returned at least once: no decision since (a decision moves the case out of review)
    op.execute(
        "UPDATE application SET returned_at = (SELECT max(e.at) FROM application_event e "
        "WHERE e.application_id = application.id AND e.action = 'return_to_review') "
        "WHERE state = 'under_review' AND EXISTS (SELECT 1 FROM application_event e "
        "WHERE e.application_id = application.id AND e.action = 'return_to_review')"
    )


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("returned_at")
