"""notifications: deliveries marked sending under a lease, and one row per attempt

Revision ID: b7d41e0c9a3f
Revises: 3c1f6a9e2b7d
Create Date: 2026-12-06 14:30:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = 'b7d41e0c9a3f'
down_revision = '3c1f6a9e2b7d'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sent', 'failed')"
NEW_STATUSES = "status IN ('pending', 'sending', 'sent', 'failed', 'unconfirmed')"
RESULTS = "result IN ('started', 'sent', 'failed', 'unknown', 'found', 'not_found', 'settled')"


def upgrade() -> None:
    op.create_table(
        'notification_delivery_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.Column('started_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('worker', sa.String(length=80), nullable=True),
        sa.Column('provider', sa.String(length=16), nullable=True),
        sa.Column('provider_id', sa.String(length=64), nullable=True),
        sa.Column('provider_code', sa.String(length=64), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.CheckConstraint(RESULTS, name=op.f('ck_notification_delivery_attempt_result')),
        sa.ForeignKeyConstraint(['delivery_id'], ['notification_delivery.id'], ondelete='CASCADE',
                                name=op.f('fk_notification_delivery_attempt_delivery_id_notification_delivery')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_delivery_attempt')),
    )
    with op.batch_alter_table('notification_delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_delivery_attempt_delivery_id'), ['delivery_id'],
                              unique=False)
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_notification_delivery_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_delivery_status'), NEW_STATUSES)


def downgrade() -> None:
    """Refuses while it would lose something: the attempt history, or deliveries whose state the old schema
    cannot hold (a send in flight, or one waiting for a person) — a pending one would be sent again."""
    bind = op.get_bind()
    attempts = bind.execute(sa.text("SELECT count(*) FROM notification_delivery_attempt")).scalar_one()
    open_sends = bind.execute(sa.text(
        "SELECT count(*) FROM notification_delivery WHERE status IN ('sending', 'unconfirmed')")).scalar_one()
    if attempts or open_sends:
        raise RuntimeError(
            f"refusing to downgrade: {attempts} delivery attempt row(s) would be lost and {open_sends} delivery(ies) "
            "are sending or unconfirmed. Settle those (portal notify unconfirmed / settle), export "
            "notification_delivery_attempt (e.g. pg_dump -t notification_delivery_attempt) and empty it first.")
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_delivery_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_delivery_status'), OLD_STATUSES)
        batch_op.drop_column('lease_until')
    with op.batch_alter_table('notification_delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_delivery_attempt_delivery_id'))
    op.drop_table('notification_delivery_attempt')
