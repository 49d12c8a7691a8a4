"""national: the outbox and inbox of the national platform

``national_outbox`` holds the messages this area sends to the national platform (filing reports, transfer
documents), written with the change they announce and delivered by ``portal national work``; ``national_inbox`` the
messages received, once each by message id. Bodies are sealed. A downgrade that would drop rows is refused.

Revision ID: 58fbcf08cd9f
Revises: f3c9d1e7a5b2
Create Date: 2026-12-06 20:04:54.526548
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_to_drop_tables

revision = '58fbcf08cd9f'
down_revision = 'f3c9d1e7a5b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('national_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=16), nullable=False),
    sa.Column('in_reply_to', sa.String(length=32), nullable=True),
    sa.Column('body_sealed', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.String(length=40), nullable=False),
    sa.Column('received_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('transfer_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_national_inbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_national_inbox_message_id'))
    )
    with op.batch_alter_table('national_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_national_inbox_transfer_id'), ['transfer_id'], unique=False)

    op.create_table('national_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=16), nullable=False),
    sa.Column('in_reply_to', sa.String(length=32), nullable=True),
    sa.Column('body_sealed', sa.Text(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('sent_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('filing_id', sa.Integer(), nullable=True),
    sa.Column('filing_event', sa.String(length=16), nullable=True),
    sa.Column('transfer_id', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name=op.f('ck_national_outbox_sent_has_time')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_national_outbox_status')),
    sa.ForeignKeyConstraint(['filing_id'], ['remote_care_filing.id'], name=op.f('fk_national_outbox_filing_id_remote_care_filing'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_national_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_national_outbox_message_id'))
    )
    with op.batch_alter_table('national_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_national_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_national_outbox_filing_id'), ['filing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_national_outbox_transfer_id'), ['transfer_id'], unique=False)



def downgrade() -> None:
    refuse_to_drop_tables('national_outbox', 'national_inbox')
    with op.batch_alter_table('national_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_outbox_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_national_outbox_filing_id'))
        batch_op.drop_index('ix_national_outbox_due')

    op.drop_table('national_outbox')
    with op.batch_alter_table('national_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_inbox_transfer_id'))

    op.drop_table('national_inbox')
