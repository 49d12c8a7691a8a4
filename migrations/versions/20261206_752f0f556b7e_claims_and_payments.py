"""claims: claims, their invoices, payments and payment batches

Revision ID: 752f0f556b7e
Revises: d5e9a3c7b1f4
Create Date: 2026-12-06 17:00:36.106375
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_to_drop_tables

revision = '752f0f556b7e'
down_revision = 'd5e9a3c7b1f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('returned_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_payment_batch_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_batch')),
    sa.UniqueConstraint('number', name=op.f('uq_payment_batch_number'))
    )
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('benefit_year', sa.Integer(), nullable=True),
    sa.Column('scheme', sa.String(length=24), nullable=True),
    sa.Column('computed_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('working_json', sa.Text(), nullable=False),
    sa.Column('policy_ref', sa.String(length=40), nullable=True),
    sa.Column('computed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('adjust_reason', sa.Text(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('computed_amount IS NULL OR computed_amount >= 0', name=op.f('ck_claim_computed_not_negative')),
    sa.CheckConstraint('decided_amount IS NULL OR computed_amount IS NULL OR decided_amount = computed_amount OR adjust_reason IS NOT NULL', name=op.f('ck_claim_adjustment_has_reason')),
    sa.CheckConstraint('decided_amount IS NULL OR decided_amount > 0', name=op.f('ck_claim_decided_positive')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_claim_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'], name=op.f('fk_claim_decided_by_id_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_claim_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('application_id', name=op.f('uq_claim_application_id'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_person_id'), ['person_id'], unique=False)

    op.create_table('claim_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_invoice_claim_id_claim'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_invoice'))
    )
    with op.batch_alter_table('claim_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_invoice_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_invoice_number'), ['number'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('payee_name', sa.Text(), nullable=False),
    sa.Column('payee_bank', sa.Text(), nullable=False),
    sa.Column('payee_account', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('bank_reference', sa.String(length=64), nullable=True),
    sa.CheckConstraint("state != 'failed' OR failure_reason IS NOT NULL", name=op.f('ck_payment_failure_has_reason')),
    sa.CheckConstraint("state IN ('pending', 'exported', 'paid', 'failed', 'cancelled')", name=op.f('ck_payment_state')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_amount_positive')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_payment_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batch.id'], name=op.f('fk_payment_batch_id_payment_batch')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_payment_claim_id_claim'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_payment_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_state'), ['state'], unique=False)



def downgrade() -> None:
    refuse_to_drop_tables('payment', 'claim_invoice', 'claim', 'payment_batch')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_state'))
        batch_op.drop_index(batch_op.f('ix_payment_claim_id'))
        batch_op.drop_index(batch_op.f('ix_payment_batch_id'))
        batch_op.drop_index(batch_op.f('ix_payment_application_id'))

    op.drop_table('payment')
    with op.batch_alter_table('claim_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_invoice_number'))
        batch_op.drop_index(batch_op.f('ix_claim_invoice_claim_id'))

    op.drop_table('claim_invoice')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_person_id'))

    op.drop_table('claim')
    op.drop_table('payment_batch')
