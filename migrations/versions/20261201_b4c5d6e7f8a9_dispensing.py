"""Dispensing: the dispense record and each pack's traceability code, the data platform's outbox, and
each catalogue drug's product code that opens its packs' traceability codes.

A traceability code is live in one dispensed pack at a time (a partial unique index over the packs
whose code was not freed by a return through quarantine).

Revision ID: b4c5d6e7f8a9
Revises: a3b4c5d6e7f8
Create Date: 2026-12-01 03:46:05

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b4c5d6e7f8a9'
down_revision = 'a3b4c5d6e7f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('aggregate_type', sa.String(length=30), nullable=False),
    sa.Column('aggregate_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'dead', name='outbox_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_events_idempotency_key'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('dispenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('pharmacist_id', sa.Integer(), nullable=False),
    sa.Column('dispensed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checklist', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_dispenses_order_id_orders')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_dispenses_patient_id_users')),
    sa.ForeignKeyConstraint(['pharmacist_id'], ['users.id'], name=op.f('fk_dispenses_pharmacist_id_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_dispenses_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispenses')),
    sa.UniqueConstraint('order_id', name=op.f('uq_dispenses_order_id'))
    )
    with op.batch_alter_table('dispenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispenses_patient_id'), ['patient_id'], unique=False)

    op.create_table('dispensed_packs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispense_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('drug_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('traceability_code', sa.String(length=20), nullable=False),
    sa.Column('freed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dispense_id'], ['dispenses.id'], name=op.f('fk_dispensed_packs_dispense_id_dispenses')),
    sa.ForeignKeyConstraint(['drug_id'], ['drugs.id'], name=op.f('fk_dispensed_packs_drug_id_drugs')),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_dispensed_packs_lot_id_stock_lots')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_dispensed_packs_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispensed_packs'))
    )
    with op.batch_alter_table('dispensed_packs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispensed_packs_dispense_id'), ['dispense_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispensed_packs_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index('uq_dispensed_packs_code_live', ['traceability_code'], unique=True, sqlite_where=sa.text('freed_at IS NULL'), postgresql_where=sa.text('freed_at IS NULL'))

    # Plain ALTER TABLE and an index: a batch rebuild of drugs would drop the table every stock lot,
    # order line and dispensed pack points at, which SQLite refuses while those rows exist.
    op.add_column('drugs', sa.Column('traceability_prefix', sa.String(length=10), nullable=True))
    op.create_index('uq_drugs_traceability_prefix', 'drugs', ['traceability_prefix'], unique=True)



def downgrade():
    op.drop_index('uq_drugs_traceability_prefix', table_name='drugs')
    op.execute('ALTER TABLE drugs DROP COLUMN traceability_prefix')  # SQLite 3.35+ and PostgreSQL

    with op.batch_alter_table('dispensed_packs', schema=None) as batch_op:
        batch_op.drop_index('uq_dispensed_packs_code_live', sqlite_where=sa.text('freed_at IS NULL'), postgresql_where=sa.text('freed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_dispensed_packs_lot_id'))
        batch_op.drop_index(batch_op.f('ix_dispensed_packs_dispense_id'))

    op.drop_table('dispensed_packs')
    with op.batch_alter_table('dispenses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispenses_patient_id'))

    op.drop_table('dispenses')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_due')

    op.drop_table('outbox_events')
