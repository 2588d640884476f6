"""Prescription reviews get a status (open, approved, returned, withdrawn) for their state machine.

Revision ID: 76c6daf4b1cf
Revises: 2268b9d96a67
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '76c6daf4b1cf'
down_revision = '2268b9d96a67'
branch_labels = None
depends_on = None


REVIEW_STATUS = sa.Enum('open', 'approved', 'returned', 'withdrawn', name='review_status', native_enum=False,
                        create_constraint=True, length=20)


def upgrade():
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', REVIEW_STATUS, nullable=False, server_default='open'))
    # A decided review's status is its decision; an undecided one whose prescription a newer version
    # replaced was withdrawn.
    op.execute("UPDATE prescription_reviews SET status = decision WHERE decision IS NOT NULL")
    op.execute("UPDATE prescription_reviews SET status = 'withdrawn' WHERE decision IS NULL AND prescription_id IN "
               "(SELECT id FROM prescriptions WHERE status = 'superseded')")
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.create_check_constraint(
            'status_matches_decision',
            "(decision IS NULL AND status IN ('open', 'withdrawn')) OR status = decision")
        batch_op.drop_index('ix_prescription_reviews_open')
        batch_op.create_index('ix_prescription_reviews_open', ['status', 'queued_at'], unique=False)


def downgrade():
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_prescription_reviews_open')
        batch_op.create_index('ix_prescription_reviews_open', ['decision', 'queued_at'], unique=False)
        batch_op.drop_constraint('status_matches_decision', type_='check')
        batch_op.drop_constraint('review_status', type_='check')
        batch_op.drop_column('status')
