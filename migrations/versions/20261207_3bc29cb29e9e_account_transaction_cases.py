"""account_transaction_cases: the case that moved money on a personal account

Revision ID: 3bc29cb29e9e
Revises: 8af973a543b2
Create Date: 2026-12-07 12:13:50

A 一次性支取 now debits the account when its payment starts, before the money leaves, instead of at completion after
the bank has paid; ``account_transaction.application_id`` names the case of the movement, so completion knows whether
its debit was made. Withdrawals recorded before (their note is "一次性支取 <case number>") are linked to their cases.
Downgrading drops the link only.
"""

import sqlalchemy as sa
from alembic import op

revision = "3bc29cb29e9e"
down_revision = "8af973a543b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_transaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_account_transaction_application_id"), ["application_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_account_transaction_application_id_application"), "application",
                                    ["application_id"], ["id"], ondelete="SET NULL")
    op.execute(
        "UPDATE account_transaction SET application_id = (SELECT application.id FROM application "
        "WHERE application.number IS NOT NULL AND account_transaction.note = '一次性支取 ' || application.number) "
        "WHERE kind = 'lump_sum_withdrawal'"
    )


def downgrade() -> None:
    with op.batch_alter_table("account_transaction", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_account_transaction_application_id_application"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_account_transaction_application_id"))
        batch_op.drop_column("application_id")
