"""closing_case_id: a personal account left open by a closing withdrawal credited after its payment started

Revision ID: c4a7e2d91f30
Revises: ee92bfff827a
Create Date: 2026-12-07 21:45:00

``personal_account.closing_case_id`` names the completed withdrawal for death or settling abroad (死亡, 出国定居)
that could not close the account, because money was credited to it after the payment started; finance lists these
accounts on the payments page, and the applicant is reminded that the money can be withdrawn too. It is cleared
when the account closes. An account left open before this revision gets it from the audit log: the newest
``account.close_deferred`` entry of its person's cases, where the account is still open. Downgrading drops the
column; the audit log still holds every deferral.
"""

import sqlalchemy as sa
from alembic import op

revision = "c4a7e2d91f30"
down_revision = "ee92bfff827a"
branch_labels = None
depends_on = None

# the person's newest deferred closing (compared as text: an audit row's object_id is a string of any object)
NEWEST_DEFERRAL = (
    "SELECT max(ap.id) FROM audit_event e JOIN application ap ON CAST(ap.id AS VARCHAR(64)) = e.object_id "
    "WHERE e.action = 'account.close_deferred' AND e.object_type = 'application' "
    "AND ap.person_id = personal_account.person_id"
)


def upgrade() -> None:
    with op.batch_alter_table("personal_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closing_case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_personal_account_closing_case_id_application"), "application",
                                    ["closing_case_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_personal_account_closing_case_id"), ["closing_case_id"], unique=False)
    op.execute(f"UPDATE personal_account SET closing_case_id = ({NEWEST_DEFERRAL}) WHERE status = 'open'")


def downgrade() -> None:
    with op.batch_alter_table("personal_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_account_closing_case_id"))
        batch_op.drop_constraint(batch_op.f("fk_personal_account_closing_case_id_application"), type_="foreignkey")
        batch_op.drop_column("closing_case_id")
