"""The review queue's index holds open reviews only, oldest first, and (on PostgreSQL) their claims.

The queue and the pharmacists' badge read open reviews alone. On (status, queued_at) the index grew
with every decided review and the badge's summary visited the table for each open one's claim; a
partial index on (queued_at, id) stays the size of the open work, gives the queue's order with its
tie-break, and carries claimed_by_id and claimed_at so PostgreSQL answers the badge from the index.

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-01 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade():
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_prescription_reviews_open')
        batch_op.create_index('ix_prescription_reviews_open', ['queued_at', 'id'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN,
                              postgresql_include=['claimed_by_id', 'claimed_at'])


def downgrade():
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_prescription_reviews_open')
        batch_op.create_index('ix_prescription_reviews_open', ['status', 'queued_at'], unique=False)
