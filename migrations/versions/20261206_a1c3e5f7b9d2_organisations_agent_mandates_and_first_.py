"""organisations: agent mandates and first-agent registrations

Revision ID: a1c3e5f7b9d2
Revises: a8e3c5d1f7b2
Create Date: 2026-12-06 20:08:34.095290
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_data_loss, refuse_to_drop_tables

revision = 'a1c3e5f7b9d2'
down_revision = 'a8e3c5d1f7b2'
branch_labels = None
depends_on = None

OLD_UNIT_STATUSES = "status IN ('active', 'suspended', 'cancelled')"
NEW_UNIT_STATUSES = "status IN ('active', 'suspended', 'cancelled', 'pending')"


def upgrade() -> None:
    op.create_table('agent_mandate',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('org_kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scope_json', sa.Text(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('id_index', sa.String(length=64), nullable=True),
    sa.Column('proof', sa.String(length=20), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("org_kind IN ('unit')", name=op.f('ck_agent_mandate_org_kind')),
    sa.CheckConstraint("proof IN ('business_license', 'letter', 'window', 'administrator', 'demo')", name=op.f('ck_agent_mandate_proof')),
    sa.CheckConstraint("status IN ('active', 'suspended', 'removed')", name=op.f('ck_agent_mandate_status')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_agent_mandate_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['account.id'], name=op.f('fk_agent_mandate_granted_by_id_account')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_agent_mandate'))
    )
    with op.batch_alter_table('agent_mandate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_mandate_id_index'), ['id_index'], unique=False)

    op.create_table('org_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_kind', sa.String(length=16), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('org_name', sa.String(length=200), nullable=False),
    sa.Column('legal_rep_name', sa.Text(), nullable=False),
    sa.Column('agent_name', sa.Text(), nullable=False),
    sa.Column('agent_id_number', sa.Text(), nullable=False),
    sa.Column('agent_id_index', sa.String(length=64), nullable=False),
    sa.Column('agent_phone', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('license_ticket', sa.String(length=128), nullable=True),
    sa.Column('letter_file_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('business_license', 'letter', 'window', 'administrator', 'demo')", name=op.f('ck_org_registration_method')),
    sa.CheckConstraint("org_kind IN ('unit')", name=op.f('ck_org_registration_org_kind')),
    sa.CheckConstraint("status <> 'approved' OR account_id IS NOT NULL", name=op.f('ck_org_registration_approved_has_agent')),
    sa.CheckConstraint("status <> 'refused' OR decision_reason IS NOT NULL", name=op.f('ck_org_registration_refusal_has_reason')),
    sa.CheckConstraint("status IN ('awaiting_license', 'awaiting_review', 'approved', 'refused')", name=op.f('ck_org_registration_status')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_org_registration_account_id_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'], name=op.f('fk_org_registration_decided_by_id_account')),
    sa.ForeignKeyConstraint(['letter_file_id'], ['material_file.id'], name=op.f('fk_org_registration_letter_file_id_material_file')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_org_registration_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_registration')),
    sa.UniqueConstraint('license_ticket', name=op.f('uq_org_registration_license_ticket'))
    )
    with op.batch_alter_table('org_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_registration_agent_id_index'), ['agent_id_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_registration_credit_code'), ['credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_registration_status'), ['status'], unique=False)

    # a unit that registered its first agent online and has not completed its 单位参保登记 yet
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_unit_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_unit_status'), NEW_UNIT_STATUSES)


def downgrade() -> None:
    """Refuses while it would lose something: agents' mandates (their items, last days, suspensions), the
    registrations of first agents, units that are registering (the old schema has no such status)."""
    refuse_to_drop_tables('agent_mandate', 'org_registration')
    refuse_data_loss("units awaiting their enrolment registration (unit.status 'pending')",
                     "SELECT count(*) FROM unit WHERE status = 'pending'")
    op.execute("UPDATE unit SET status = 'cancelled' WHERE status = 'pending'")  # only with --discard-data
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_unit_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_unit_status'), OLD_UNIT_STATUSES)
    with op.batch_alter_table('org_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_registration_status'))
        batch_op.drop_index(batch_op.f('ix_org_registration_credit_code'))
        batch_op.drop_index(batch_op.f('ix_org_registration_agent_id_index'))

    op.drop_table('org_registration')
    with op.batch_alter_table('agent_mandate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_mandate_id_index'))

    op.drop_table('agent_mandate')
