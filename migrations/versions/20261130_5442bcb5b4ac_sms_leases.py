"""SMS leases: a `sending` status, who holds a claimed message and until when, when a body was blanked.

Revision ID: 5442bcb5b4ac
Revises: 75d5c2b30f51
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5442bcb5b4ac'
down_revision = '75d5c2b30f51'
branch_labels = None
depends_on = None


STATUSES_BEFORE = ('queued', 'sent', 'failed')
STATUSES_AFTER = ('queued', 'sent', 'failed', 'sending')


def _statuses(batch_op, values):
    """The status enum is VARCHAR + CHECK on both databases: rewrite the CHECK."""
    listed = ", ".join(f"'{value}'" for value in values)
    batch_op.drop_constraint(op.f('ck_outbound_sms_sms_status'), type_='check')
    batch_op.create_check_constraint(op.f('ck_outbound_sms_sms_status'), f"status IN ({listed})")


def upgrade():
    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        _statuses(batch_op, STATUSES_AFTER)
    # Bodies blanked after sending before this column existed.
    op.execute("UPDATE outbound_sms SET redacted_at = sent_at "
               "WHERE is_sensitive AND status = 'sent' AND body = '[redacted after sending]'")


def downgrade():
    # A message caught mid-send goes back to the queue; the old worker sends it again.
    op.execute("UPDATE outbound_sms SET status = 'queued' WHERE status = 'sending'")
    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        _statuses(batch_op, STATUSES_BEFORE)
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('redacted_at')
