"""The near-expiry report's indexes hold live lots only: expired and empty lots are not stepped over.

Revision ID: a9b0c1d2e3f4
Revises: f8a9b0c1d2e3
Create Date: 2026-12-01 11:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9b0c1d2e3f4'
down_revision = 'f8a9b0c1d2e3'
branch_labels = None
depends_on = None

# As app.inventory.models.LIVE_LOT_SQL (a migration keeps its own copy: the model may change later).
LIVE = "quantity_on_hand > 0 AND status IN ('available', 'quarantined')"


def upgrade():
    op.create_index('ix_stock_lots_live_expiry', 'stock_lots', ['expiry_date', 'store_id', 'id'],
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    op.create_index('ix_stock_lots_store_live_expiry', 'stock_lots', ['store_id', 'expiry_date', 'id'],
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    op.drop_index('ix_stock_lots_expiry_store', table_name='stock_lots')
    op.drop_index('ix_stock_lots_store_expiry', table_name='stock_lots')


def downgrade():
    op.create_index('ix_stock_lots_store_expiry', 'stock_lots', ['store_id', 'expiry_date', 'id'])
    op.create_index('ix_stock_lots_expiry_store', 'stock_lots', ['expiry_date', 'store_id', 'id'])
    op.drop_index('ix_stock_lots_store_live_expiry', table_name='stock_lots')
    op.drop_index('ix_stock_lots_live_expiry', table_name='stock_lots')
