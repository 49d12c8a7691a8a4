"""transfer: cases and events of 转移接续

``transfer_case`` is one transfer as one side (转入地 or 转出地) sees it, with its dates, deadlines and what the
联系函, 信息表 and fund transfer carried (the person sealed); ``transfer_event`` its steps. A downgrade that would drop
rows is refused.

Revision ID: fa471b4b4422
Revises: 58fbcf08cd9f
Create Date: 2026-12-06 20:28:17.382666
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_to_drop_tables

revision = 'fa471b4b4422'
down_revision = '58fbcf08cd9f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transfer_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=False),
    sa.Column('other_area', sa.String(length=6), nullable=False),
    sa.Column('other_area_name', sa.String(length=100), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('person_name', sa.Text(), nullable=False),
    sa.Column('id_number', sa.Text(), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('insurance_type', sa.String(length=32), nullable=False),
    sa.Column('transfer_account', sa.Boolean(), nullable=False),
    sa.Column('certificate_code', sa.Text(), nullable=True),
    sa.Column('letter_number', sa.String(length=60), nullable=False),
    sa.Column('letter_message_id', sa.String(length=32), nullable=True),
    sa.Column('sheet_number', sa.String(length=60), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('letter_due', sa.Date(), nullable=True),
    sa.Column('letter_on', sa.Date(), nullable=True),
    sa.Column('sheet_due', sa.Date(), nullable=True),
    sa.Column('sheet_on', sa.Date(), nullable=True),
    sa.Column('funds_on', sa.Date(), nullable=True),
    sa.Column('complete_due', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('rejected_on', sa.Date(), nullable=True),
    sa.Column('reject_code', sa.String(length=24), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('periods_json', sa.Text(), nullable=False),
    sa.Column('contribution_months', sa.Integer(), nullable=True),
    sa.Column('account_balance', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('funds_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('funds_reference', sa.String(length=60), nullable=True),
    sa.Column('credited_months', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("side IN ('in', 'out')", name=op.f('ck_transfer_case_side')),
    sa.CheckConstraint("state <> 'rejected' OR (rejected_on IS NOT NULL AND reject_reason IS NOT NULL)", name=op.f('ck_transfer_case_rejected_says_why')),
    sa.CheckConstraint("state IN ('letter_sent', 'sheet_received', 'funds_received', 'ready', 'completed', 'letter_received', 'sheet_sent', 'closed', 'rejected')", name=op.f('ck_transfer_case_state')),
    sa.CheckConstraint("state NOT IN ('completed', 'closed') OR completed_on IS NOT NULL", name=op.f('ck_transfer_case_completed_has_date')),
    sa.CheckConstraint('account_balance IS NULL OR account_balance >= 0', name=op.f('ck_transfer_case_balance_not_negative')),
    sa.CheckConstraint('funds_amount IS NULL OR funds_amount >= 0', name=op.f('ck_transfer_case_funds_not_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_transfer_case_application_id_application'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_transfer_case_person_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_case')),
    sa.UniqueConstraint('transfer_id', 'side', name=op.f('uq_transfer_case_transfer_id_side'))
    )
    with op.batch_alter_table('transfer_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_case_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_case_id_number_index'), ['id_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_case_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_case_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_case_transfer_id'), ['transfer_id'], unique=False)

    op.create_table('transfer_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('what', sa.String(length=32), nullable=False),
    sa.Column('detail_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['transfer_case.id'], name=op.f('fk_transfer_event_case_id_transfer_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_event'))
    )
    with op.batch_alter_table('transfer_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_event_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    refuse_to_drop_tables('transfer_event', 'transfer_case')
    with op.batch_alter_table('transfer_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_event_case_id'))

    op.drop_table('transfer_event')
    with op.batch_alter_table('transfer_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_case_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_case_state'))
        batch_op.drop_index(batch_op.f('ix_transfer_case_person_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_case_id_number_index'))
        batch_op.drop_index(batch_op.f('ix_transfer_case_application_id'))

    op.drop_table('transfer_case')
