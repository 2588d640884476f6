"""finding reasons: placeholder owned by prescribing (H1); describe the change here.

Revision ID: a1b2c3d4e5f6
Revises: 032cb397a8e1
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = '032cb397a8e1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
