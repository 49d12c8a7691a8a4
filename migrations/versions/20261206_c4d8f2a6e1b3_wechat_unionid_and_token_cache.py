"""wechat: the unionid of each WeChat identity, and the shared access-token cache

``wechat_identity.unionid_index`` (blind index, unique) keeps the open-platform unionid that code2session returns,
so one person is one identity across the agency's mini-program and official account. ``integration_token`` holds
the access tokens of external systems (sealed) for every process of the deployment.

Revision ID: c4d8f2a6e1b3
Revises: b7c3e1a4d2f9
Create Date: 2026-12-06 14:40:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = 'c4d8f2a6e1b3'
down_revision = 'b7c3e1a4d2f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'integration_token',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('expires_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_integration_token')),
    )
    with op.batch_alter_table('wechat_identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unionid_index', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_wechat_identity_unionid_index'), ['unionid_index'])


def downgrade() -> None:
    bind = op.get_bind()
    kept = bind.execute(sa.text("SELECT COUNT(*) FROM wechat_identity WHERE unionid_index IS NOT NULL")).scalar()
    if kept:
        raise RuntimeError(f"{kept} WeChat identities carry a unionid that would be lost: export them first")
    with op.batch_alter_table('wechat_identity', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_wechat_identity_unionid_index'), type_='unique')
        batch_op.drop_column('unionid_index')
    op.drop_table('integration_token')  # tokens only: fetched again on the next call
