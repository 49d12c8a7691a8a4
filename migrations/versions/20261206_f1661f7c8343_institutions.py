"""institutions: 定点医药机构 as the third kind of organisation (issue 23)

Revision ID: f1661f7c8343
Revises: b7d3e5f1a9c2
Create Date: 2026-12-06 23:20:03

The institution register (``institution``) and its history (``institution_event``); an agent account, a first-agent
registration, a login code and a case may name an institution instead of a unit. Downgrading drops both tables and
the columns (institution agents' accounts and cases go with them: delete them first).
"""

import sqlalchemy as sa
from alembic import op

import portal.core.crypto
import portal.core.db

revision = "f1661f7c8343"
down_revision = "b7d3e5f1a9c2"
branch_labels = None
depends_on = None



OLD_KINDS = "org_kind IN ('unit')"
NEW_KINDS = "org_kind IN ('unit', 'institution')"
OLD_AUDIENCE = "audience IN ('individual', 'unit')"
NEW_AUDIENCE = "audience IN ('individual', 'unit', 'institution')"
INSTITUTION_FIELDS = "org_kind = 'institution' OR (institution_id IS NULL AND institution_kind IS NULL)"


def upgrade() -> None:
    op.create_table('institution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('region', sa.String(length=16), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('legal_rep_name', sa.String(length=64), nullable=True),
    sa.Column('legal_rep_id_number', portal.core.crypto.Encrypted("institution.legal_rep_id_number"), nullable=True),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('agreement_status', sa.String(length=16), nullable=False),
    sa.Column('agreement_start', sa.Date(), nullable=True),
    sa.Column('agreement_end', sa.Date(), nullable=True),
    sa.Column('suspended_on', sa.Date(), nullable=True),
    sa.Column('terminated_on', sa.Date(), nullable=True),
    sa.Column('remote_settlement', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("agreement_status <> 'suspended' OR suspended_on IS NOT NULL", name=op.f('ck_institution_suspension_dated')),
    sa.CheckConstraint("agreement_status <> 'terminated' OR terminated_on IS NOT NULL", name=op.f('ck_institution_termination_dated')),
    sa.CheckConstraint("agreement_status IN ('none', 'applying', 'in_force', 'suspended', 'terminated')", name=op.f('ck_institution_agreement_status')),
    sa.CheckConstraint("kind IN ('medical', 'pharmacy')", name=op.f('ck_institution_kind')),
    sa.CheckConstraint("level IS NULL OR level IN ('level_1', 'level_2', 'level_3', 'unrated')", name=op.f('ck_institution_level')),
    sa.CheckConstraint('agreement_end IS NULL OR agreement_start IS NULL OR agreement_end >= agreement_start', name=op.f('ck_institution_agreement_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution')),
    sa.UniqueConstraint('code', name=op.f('uq_institution_code')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_institution_credit_code'))
    )
    op.create_index(op.f('ix_institution_agreement_status'), 'institution', ['agreement_status'], unique=False)
    op.create_index(op.f('ix_institution_region'), 'institution', ['region'], unique=False)
    op.create_table('institution_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('changes_json', sa.Text(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_institution_event_application_id_application')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_institution_event_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_event'))
    )
    op.create_index(op.f('ix_institution_event_application_id'), 'institution_event', ['application_id'], unique=False)
    op.create_index(op.f('ix_institution_event_institution_id'), 'institution_event', ['institution_id'], unique=False)
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_account_institution_id"), ["institution_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_account_institution_id_institution"), "institution",
                                    ["institution_id"], ["id"])
        batch_op.create_check_constraint(batch_op.f("ck_account_institution_only_for_agents"),
                                         "kind = 'agent' OR institution_id IS NULL")
        batch_op.create_check_constraint(batch_op.f("ck_account_one_organisation"),
                                         "unit_id IS NULL OR institution_id IS NULL")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_application_institution_id"), ["institution_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_application_institution_id_institution"), "institution",
                                    ["institution_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_application_audience"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_application_audience"), NEW_AUDIENCE)
    with op.batch_alter_table("org_registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_code", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("institution_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_org_registration_institution_id_institution"), "institution",
                                    ["institution_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_org_registration_org_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_org_registration_org_kind"), NEW_KINDS)
        batch_op.create_check_constraint(batch_op.f("ck_org_registration_institution_fields"), INSTITUTION_FIELDS)
    with op.batch_alter_table("agent_mandate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_agent_mandate_org_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_agent_mandate_org_kind"), NEW_KINDS)
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_otp_challenge_institution_id_institution"), "institution",
                                    ["institution_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_otp_challenge_institution_id_institution"), type_="foreignkey")
        batch_op.drop_column("institution_id")
    with op.batch_alter_table("agent_mandate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_agent_mandate_org_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_agent_mandate_org_kind"), OLD_KINDS)
    with op.batch_alter_table("org_registration", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_org_registration_institution_fields"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_org_registration_org_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_org_registration_org_kind"), OLD_KINDS)
        batch_op.drop_constraint(batch_op.f("fk_org_registration_institution_id_institution"), type_="foreignkey")
        batch_op.drop_column("institution_id")
        batch_op.drop_column("institution_kind")
        batch_op.drop_column("institution_code")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_application_audience"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_application_audience"), OLD_AUDIENCE)
        batch_op.drop_constraint(batch_op.f("fk_application_institution_id_institution"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_application_institution_id"))
        batch_op.drop_column("institution_id")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_account_one_organisation"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_account_institution_only_for_agents"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_account_institution_id_institution"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_account_institution_id"))
        batch_op.drop_column("institution_id")
    op.drop_index(op.f("ix_institution_event_institution_id"), table_name="institution_event")
    op.drop_index(op.f("ix_institution_event_application_id"), table_name="institution_event")
    op.drop_table("institution_event")
    op.drop_index(op.f("ix_institution_region"), table_name="institution")
    op.drop_index(op.f("ix_institution_agreement_status"), table_name="institution")
    op.drop_table("institution")
