"""Medication orders and their lines; a transfer can ask for lots lasting a patient's supply.

An order fills one approved prescription version at one store, picked up or delivered; at most one
order that is not cancelled or refunded holds a version (a partial unique index). A transfer asked for
by an order carries the days' supply as min_shelf_days, so its pick sends lots that last it.

Revision ID: a3b4c5d6e7f8
Revises: f2a3b4c5d6e7
Create Date: 2026-12-01 03:22:41

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a3b4c5d6e7f8'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('fulfilment', sa.Enum('pickup', 'delivery', name='order_fulfilment', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('delivery_address', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('awaiting_payment', 'paid', 'dispensing', 'ready_for_pickup', 'out_for_delivery', 'completed', 'cancelled', 'refunded', name='order_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('goods_fen', sa.Integer(), nullable=False),
    sa.Column('delivery_fee_fen', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('ready_after', sa.Date(), nullable=True),
    sa.Column('handover_code', sa.String(length=6), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispensed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('close_reason', sa.String(length=40), nullable=False),
    sa.CheckConstraint("(fulfilment = 'delivery') = (address_id IS NOT NULL)", name=op.f('ck_orders_address_iff_delivery')),
    sa.CheckConstraint("fulfilment = 'delivery' OR delivery_fee_fen = 0", name=op.f('ck_orders_pickup_has_no_fee')),
    sa.CheckConstraint('code_attempts >= 0', name=op.f('ck_orders_code_attempts_counted')),
    sa.CheckConstraint('goods_fen > 0 AND delivery_fee_fen >= 0 AND total_fen = goods_fen + delivery_fee_fen', name=op.f('ck_orders_amounts_add_up')),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_orders_address_id_addresses')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_orders_closed_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_orders_patient_id_users')),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescriptions.id'], name=op.f('fk_orders_prescription_id_prescriptions')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_orders_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_patient_placed', ['patient_id', 'placed_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_store_status', ['store_id', 'status', 'placed_at'], unique=False)
        batch_op.create_index('uq_orders_prescription_holding', ['prescription_id'], unique=True, sqlite_where=sa.text("status IN ('awaiting_payment', 'completed', 'dispensing', 'out_for_delivery', 'paid', 'ready_for_pickup')"), postgresql_where=sa.text("status IN ('awaiting_payment', 'completed', 'dispensing', 'out_for_delivery', 'paid', 'ready_for_pickup')"))

    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('prescription_item_id', sa.Integer(), nullable=False),
    sa.Column('drug_id', sa.Integer(), nullable=False),
    sa.Column('packs', sa.Integer(), nullable=False),
    sa.Column('days_supply', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.Integer(), nullable=False),
    sa.CheckConstraint('packs > 0 AND unit_price_fen > 0', name=op.f('ck_order_lines_line_positive')),
    sa.ForeignKeyConstraint(['drug_id'], ['drugs.id'], name=op.f('fk_order_lines_drug_id_drugs')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.ForeignKeyConstraint(['prescription_item_id'], ['prescription_items.id'], name=op.f('fk_order_lines_prescription_item_id_prescription_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'position', name='uq_order_lines_position')
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('stock_transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_shelf_days', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('stock_transfers', schema=None) as batch_op:
        batch_op.drop_column('min_shelf_days')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('uq_orders_prescription_holding', sqlite_where=sa.text("status IN ('awaiting_payment', 'completed', 'dispensing', 'out_for_delivery', 'paid', 'ready_for_pickup')"), postgresql_where=sa.text("status IN ('awaiting_payment', 'completed', 'dispensing', 'out_for_delivery', 'paid', 'ready_for_pickup')"))
        batch_op.drop_index('ix_orders_store_status')
        batch_op.drop_index('ix_orders_patient_placed')

    op.drop_table('orders')
