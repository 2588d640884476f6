"""Deliveries: the parcel of a dispensed order, its packing record, courier and cold chain, and what
the courier recorded on the way.

Revision ID: c5d6e7f8a9b0
Revises: b4c5d6e7f8a9
Create Date: 2026-12-01 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5d6e7f8a9b0'
down_revision = 'b4c5d6e7f8a9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('courier_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('assigned', 'picked_up', 'in_transit', 'failed_attempt', 'delivered', 'returned', name='delivery_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('carrier', sa.String(length=60), nullable=False),
    sa.Column('tracking_number', sa.String(length=60), nullable=False),
    sa.Column('is_cold_chain', sa.Boolean(), nullable=False),
    sa.Column('cold_box', sa.Boolean(), nullable=False),
    sa.Column('ice_packs', sa.Integer(), nullable=False),
    sa.Column('packing_temperature_c', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('packed_by_id', sa.Integer(), nullable=False),
    sa.Column('packed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('picked_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipient_name', sa.String(length=120), nullable=False),
    sa.Column('recipient_relationship', sa.String(length=60), nullable=False),
    sa.Column('excursion_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('excursion_resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('ice_packs >= 0', name=op.f('ck_deliveries_ice_packs_counted')),
    sa.ForeignKeyConstraint(['courier_id'], ['users.id'], name=op.f('fk_deliveries_courier_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_deliveries_order_id_orders')),
    sa.ForeignKeyConstraint(['packed_by_id'], ['users.id'], name=op.f('fk_deliveries_packed_by_id_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_deliveries_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('order_id', name=op.f('uq_deliveries_order_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_courier_status', ['courier_id', 'status'], unique=False)

    op.create_table('delivery_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('assigned', 'picked_up', 'in_transit', 'failed_attempt', 'delivered', 'returned', name='delivery_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('temperature_c', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_events_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_delivery_events_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_events'))
    )
    with op.batch_alter_table('delivery_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_events_delivery_id'), ['delivery_id'], unique=False)



def downgrade():
    with op.batch_alter_table('delivery_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_events_delivery_id'))

    op.drop_table('delivery_events')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_courier_status')

    op.drop_table('deliveries')
