"""A transfer asked for by an order names it, so cancelling the order cancels the transfer.

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-12-01 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch rebuild: SQLite refuses to drop a table its transfer lines point at.
def upgrade():
    op.add_column('stock_transfers', sa.Column('order_id', sa.Integer(), nullable=True))
    op.create_index('ix_stock_transfers_order_id', 'stock_transfers', ['order_id'], unique=False)


def downgrade():
    op.drop_index('ix_stock_transfers_order_id', table_name='stock_transfers')
    op.execute('ALTER TABLE stock_transfers DROP COLUMN order_id')  # SQLite 3.35+ and PostgreSQL

