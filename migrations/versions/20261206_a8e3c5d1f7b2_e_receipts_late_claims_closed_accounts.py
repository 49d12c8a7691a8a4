"""claims: OFD e-receipts among material files, late claims accepted for force majeure, closed personal accounts

Revision ID: a8e3c5d1f7b2
Revises: a8e3f5c1d7b2
Create Date: 2026-12-06 20:40:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = 'a8e3c5d1f7b2'
down_revision = 'a8e3f5c1d7b2'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('pdf', 'jpeg', 'png')"
NEW_KINDS = "kind IN ('pdf', 'jpeg', 'png', 'ofd')"
LATE = "late_accepted_at IS NULL OR (late_accepted_reason IS NOT NULL AND late_deadline IS NOT NULL)"
CLOSED = "status = 'open' OR (closed_on IS NOT NULL AND closed_reason IS NOT NULL AND balance = 0)"


def upgrade() -> None:
    with op.batch_alter_table('material_file', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_material_file_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_material_file_kind'), NEW_KINDS)

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('late_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('late_accepted_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('late_accepted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('late_accepted_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_claim_late_accepted_by_id_account'), 'account',
                                    ['late_accepted_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_claim_late_acceptance_has_reason'), LATE)

    with op.batch_alter_table('personal_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=8), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_personal_account_status'), "status IN ('open', 'closed')")
        batch_op.create_check_constraint(batch_op.f('ck_personal_account_closed_is_empty_and_dated'), CLOSED)


def downgrade() -> None:
    with op.batch_alter_table('personal_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_personal_account_closed_is_empty_and_dated'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_personal_account_status'), type_='check')
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('closed_on')
        batch_op.drop_column('status')

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_claim_late_acceptance_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_claim_late_accepted_by_id_account'), type_='foreignkey')
        batch_op.drop_column('late_accepted_at')
        batch_op.drop_column('late_accepted_by_id')
        batch_op.drop_column('late_accepted_reason')
        batch_op.drop_column('late_reason')
        batch_op.drop_column('late_deadline')

    # OFD files are not known before this revision: their rows go (their bodies are swept as orphans)
    op.execute("DELETE FROM material_file WHERE kind = 'ofd'")
    with op.batch_alter_table('material_file', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_material_file_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_material_file_kind'), OLD_KINDS)
