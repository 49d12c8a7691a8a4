"""materials: stream header instead of plaintext sha256

The plaintext SHA-256 of each file is dropped (an unkeyed fingerprint of personal documents, and the
slowest part of storing and reading); the 12-byte STREAM header, random per file and authenticated by every
segment tag, is recorded instead so reading can check a body belongs to its row. Rows from before keep a NULL
header: their bodies are still refused by the tags if swapped, altered or cut.

Revision ID: 0c546781ca33
Revises: a26368906828
Create Date: 2026-12-01 12:36:21.798426
"""

import sqlalchemy as sa
from alembic import op

from portal.core.migrate import refuse_data_loss

revision = '0c546781ca33'
down_revision = 'a26368906828'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('material_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stream_header', sa.LargeBinary(), nullable=True))
        batch_op.drop_column('sha256_plain')


def downgrade() -> None:
    # the digests cannot be recomputed here (the bodies are encrypted elsewhere): the column comes back empty,
    # and the older code will refuse to read those files until they are re-hashed by hand
    refuse_data_loss('stream headers of stored files (material_file.stream_header: without them no file can be '
                     'decrypted)', 'SELECT count(*) FROM material_file WHERE stream_header IS NOT NULL')
    with op.batch_alter_table('material_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sha256_plain', sa.String(length=64), nullable=False, server_default=''))
        batch_op.drop_column('stream_header')
