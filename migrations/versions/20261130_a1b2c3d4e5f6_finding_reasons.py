"""finding reasons: the prescriber's reason for signing despite a major or contraindicated finding.

Revision ID: a1b2c3d4e5f6
Revises: 032cb397a8e1
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = '032cb397a8e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('check_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prescriber_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('check_findings', schema=None) as batch_op:
        batch_op.drop_column('prescriber_reason')
