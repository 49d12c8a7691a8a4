"""settlement_declarations: designated institutions' settlement declarations, and whose account a payment pays

Revision ID: b7d3e5f1a9c2
Revises: c2f7b9d4e6a1
Create Date: 2026-12-07 00:00:00

A ``settlement_declaration`` per settlement case (the period, 险种 and amounts an institution declares; the parts sum
to the total, nothing negative). ``payment.payee_kind`` says whether a payment goes to a person's account (every
existing payment: ``person``) or to an institution's settlement account. Downgrading refuses while declarations or
institution payments exist.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.db
from portal.core.migrate import refuse_data_loss, refuse_to_drop_tables

revision = "b7d3e5f1a9c2"
down_revision = "c2f7b9d4e6a1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settlement_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=40), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("total_cost", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("fund_paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("account_paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("self_paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("deducted", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("live_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_cost >= 0 AND fund_paid >= 0 AND account_paid >= 0 AND self_paid >= 0 "
                           "AND deducted >= 0 AND visits >= 0", name=op.f("ck_settlement_declaration_not_negative")),
        sa.CheckConstraint("total_cost = fund_paid + account_paid + self_paid",
                           name=op.f("ck_settlement_declaration_parts_sum_to_total")),
        sa.CheckConstraint("deducted < fund_paid + account_paid",
                           name=op.f("ck_settlement_declaration_something_to_pay")),
        sa.CheckConstraint("period_kind IN ('month', 'year')", name=op.f("ck_settlement_declaration_period_kind")),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"],
                                name=op.f("fk_settlement_declaration_application_id_application"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_declaration")),
        sa.UniqueConstraint("application_id", name=op.f("uq_settlement_declaration_application_id")),
        sa.UniqueConstraint("live_key", name=op.f("uq_settlement_declaration_live_key")),
    )
    with op.batch_alter_table("settlement_declaration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_declaration_organisation"), ["organisation"], unique=False)
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee_kind", sa.String(length=16), server_default="person", nullable=False))
        batch_op.create_check_constraint(batch_op.f("ck_payment_payee_kind"), "payee_kind IN ('person', 'institution')")


def downgrade() -> None:
    refuse_to_drop_tables("settlement_declaration")
    refuse_data_loss("payments to institutions' accounts", "SELECT count(*) FROM payment WHERE payee_kind <> 'person'")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_payee_kind"), type_="check")
        batch_op.drop_column("payee_kind")
    with op.batch_alter_table("settlement_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_declaration_organisation"))
    op.drop_table("settlement_declaration")
