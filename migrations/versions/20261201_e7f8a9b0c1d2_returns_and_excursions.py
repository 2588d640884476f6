"""Packs that come back to the store, and cold-chain excursions recorded against their lots.

Revision ID: e7f8a9b0c1d2
Revises: d6e7f8a9b0c1
Create Date: 2026-12-01 06:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'd6e7f8a9b0c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cold_chain_excursions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('packs', sa.Integer(), nullable=False),
    sa.Column('temperature_c', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('packs > 0', name=op.f('ck_cold_chain_excursions_excursion_packs_positive')),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_cold_chain_excursions_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_cold_chain_excursions_lot_id_stock_lots')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_cold_chain_excursions_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_cold_chain_excursions_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cold_chain_excursions'))
    )
    op.create_index('ix_cold_chain_excursions_delivery_id', 'cold_chain_excursions', ['delivery_id'])
    op.create_index('ix_cold_chain_excursions_lot_id', 'cold_chain_excursions', ['lot_id'])
    # Plain ALTER TABLE, not a batch rebuild: nothing points at dispensed_packs, but keep it cheap.
    op.add_column('dispensed_packs', sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('dispensed_packs', sa.Column('returned_to', sa.String(length=20), nullable=False,
                                               server_default=''))


def downgrade():
    op.execute('ALTER TABLE dispensed_packs DROP COLUMN returned_to')  # SQLite 3.35+ and PostgreSQL
    op.execute('ALTER TABLE dispensed_packs DROP COLUMN returned_at')
    op.drop_index('ix_cold_chain_excursions_lot_id', table_name='cold_chain_excursions')
    op.drop_index('ix_cold_chain_excursions_delivery_id', table_name='cold_chain_excursions')
    op.drop_table('cold_chain_excursions')
