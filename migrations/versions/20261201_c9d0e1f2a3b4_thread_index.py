"""Thread index: a consultation's messages by id, replacing the index on the consultation alone.

The consultation page shows a thread's latest 50 messages, its earlier pages walk back 50 at a time
and the poll asks for the ones after an id. With (consultation_id) alone PostgreSQL read and sorted a
whole thread (3,200 messages, 3.5 ms); with (consultation_id, id) it reads the index backward for 51.
The new index serves every query the old one did.

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-12-01 00:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consultation_messages', schema=None) as batch_op:
        batch_op.create_index('ix_consultation_messages_thread', ['consultation_id', 'id'], unique=False)
        batch_op.drop_index('ix_consultation_messages_consultation_id')


def downgrade():
    with op.batch_alter_table('consultation_messages', schema=None) as batch_op:
        batch_op.create_index('ix_consultation_messages_consultation_id', ['consultation_id'], unique=False)
        batch_op.drop_index('ix_consultation_messages_thread')
