"""calendar: imported yearly schedules

A year's official holiday schedule (the State Council's notice, or a plain list of dates) imported by an
administrator, with its text, who applied it and when; the days it sets are calendar_override rows that point
at it. Downgrading refuses while a schedule is stored (its days would lose where they came from).

Revision ID: 3c0a1e5d2027
Revises: e5fc2b95736b
Create Date: 2026-12-06 14:30:00
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = '3c0a1e5d2027'
down_revision = 'e5fc2b95736b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_schedule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('holiday_count', sa.Integer(), nullable=False),
        sa.Column('workday_count', sa.Integer(), nullable=False),
        sa.Column('applied_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('applied_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_schedule')),
        sa.UniqueConstraint('year', name=op.f('uq_calendar_schedule_year')),
    )
    with op.batch_alter_table('calendar_override', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_calendar_override_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_calendar_override_schedule_id_calendar_schedule'),
                                    'calendar_schedule', ['schedule_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    stored = op.get_bind().execute(sa.text("SELECT count(*) FROM calendar_schedule")).scalar()
    if stored:
        raise RuntimeError(f"{stored} imported holiday schedule(s) are stored; delete them with "
                           "`portal calendar delete YEAR` before downgrading (their days would lose their source)")
    with op.batch_alter_table('calendar_override', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_calendar_override_schedule_id_calendar_schedule'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_calendar_override_schedule_id'))
        batch_op.drop_column('schedule_id')
    op.drop_table('calendar_schedule')
