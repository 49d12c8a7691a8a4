"""accounts: proven real-name bindings and the "不是我" lock

``person_binding`` records each request of an account to be bound to an insured person and how it was proven
(phone on record, face, 医保电子凭证, window); ``person_binding_lock`` marks persons whose owner disowned a binding.

Existing bindings were made with name + 身份证 only. Those whose account phone is the person's phone on record
(same blind index) become proven ``phone`` bindings; the others were never proven: they become *pending* and the
account no longer sees the person until it proves who it is (face, e-credential or window).

Downgrade drops both tables; it refuses while they hold anything the old schema cannot express (pending, ended or
non-phone bindings, locks), so nothing is lost silently.

Revision ID: b7c3e1a4d2f9
Revises: b7c41f0e2d9a
Create Date: 2026-12-06 14:30:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = 'b7c3e1a4d2f9'
down_revision = 'b7c41f0e2d9a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person_binding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=True),
        sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('proven_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('disown_nonce_hash', sa.String(length=64), nullable=True),
        sa.CheckConstraint("method IS NULL OR method IN ('phone', 'face', 'ecredential', 'window')",
                           name=op.f('ck_person_binding_method')),
        sa.CheckConstraint("status <> 'active' OR method IS NOT NULL",
                           name=op.f('ck_person_binding_active_has_method')),
        sa.CheckConstraint("status IN ('pending', 'active', 'ended', 'cancelled')",
                           name=op.f('ck_person_binding_status')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_person_binding_account_id_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'],
                                name=op.f('fk_person_binding_decided_by_id_account')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_binding_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_person_binding')),
    )
    with op.batch_alter_table('person_binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_binding_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_binding_person_id'), ['person_id'], unique=False)
    op.create_table(
        'person_binding_lock',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('locked_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('binding_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['binding_id'], ['person_binding.id'],
                                name=op.f('fk_person_binding_lock_binding_id_person_binding')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_binding_lock_person_id_person')),
        sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_binding_lock')),
    )
    # existing bindings: proven by the phone on record, or back to pending
    op.execute(sa.text("""
        INSERT INTO person_binding (account_id, person_id, status, method, created_at, proven_at)
        SELECT a.id, a.person_id,
               CASE WHEN p.phone_index IS NOT NULL AND p.phone_index = a.phone_index THEN 'active' ELSE 'pending' END,
               CASE WHEN p.phone_index IS NOT NULL AND p.phone_index = a.phone_index THEN 'phone' END,
               CURRENT_TIMESTAMP,
               CASE WHEN p.phone_index IS NOT NULL AND p.phone_index = a.phone_index THEN CURRENT_TIMESTAMP END
        FROM account a JOIN person p ON p.id = a.person_id
    """))
    op.execute(sa.text("""
        UPDATE account SET person_id = NULL
        WHERE id IN (SELECT account_id FROM person_binding WHERE status = 'pending')
    """))


def downgrade() -> None:
    bind = op.get_bind()
    unexpressible = bind.execute(sa.text(
        "SELECT (SELECT COUNT(*) FROM person_binding WHERE status <> 'active') "
        "+ (SELECT COUNT(*) FROM person_binding_lock)")).scalar()
    if unexpressible:
        raise RuntimeError(f"{unexpressible} binding requests or locks would be lost: export person_binding and "
                           "person_binding_lock before downgrading")
    with op.batch_alter_table('person_binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_binding_person_id'))
        batch_op.drop_index(batch_op.f('ix_person_binding_account_id'))
    op.drop_table('person_binding_lock')
    op.drop_table('person_binding')
