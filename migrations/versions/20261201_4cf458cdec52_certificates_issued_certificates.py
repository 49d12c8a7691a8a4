"""certificates: issued certificates

Revision ID: 4cf458cdec52
Revises: 66605a6e1216
Create Date: 2026-12-01 12:40:05.245260
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_to_drop_tables


revision = '4cf458cdec52'
down_revision = '66605a6e1216'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('number', sa.String(length=80), nullable=False),
    sa.Column('pool_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('code_index', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('region', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('facts_json', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('person_voucher', 'person_proof', 'unit_proof')", name=op.f('ck_certificate_kind')),
    sa.CheckConstraint("status <> 'revoked' OR revoked_at IS NOT NULL", name=op.f('ck_certificate_revoked_has_time')),
    sa.CheckConstraint("status <> 'superseded' OR superseded_by_id IS NOT NULL", name=op.f('ck_certificate_superseded_has_successor')),
    sa.CheckConstraint("status IN ('valid', 'superseded', 'revoked')", name=op.f('ck_certificate_status')),
    sa.CheckConstraint('(person_id IS NULL) <> (unit_id IS NULL)', name=op.f('ck_certificate_one_holder')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_certificate_application_id_application')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_certificate_person_id_person')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificate.id'], name=op.f('fk_certificate_superseded_by_id_certificate')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_certificate_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('application_id', name=op.f('uq_certificate_application_id')),
    sa.UniqueConstraint('code_index', name=op.f('uq_certificate_code_index')),
    sa.UniqueConstraint('number', name=op.f('uq_certificate_number')),
    sa.UniqueConstraint('pool_code', 'year', 'serial', name=op.f('uq_certificate_pool_code_year_serial'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    refuse_to_drop_tables('certificate')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_unit_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_person_id'))

    op.drop_table('certificate')
