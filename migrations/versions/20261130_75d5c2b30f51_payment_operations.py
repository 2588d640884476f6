"""payment operations: calls to Stripe owed, performed after the commit; when reconcile last asked about a payment.

Revision ID: 75d5c2b30f51
Revises: 76c6daf4b1cf
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '75d5c2b30f51'
down_revision = '76c6daf4b1cf'
branch_labels = None
depends_on = None


ONE_CAPTURE_OR_CANCEL = "kind IN ('capture', 'cancel')"


def upgrade():
    op.create_table('payment_operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('capture', 'cancel', 'refund', name='payment_operation_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('pending', 'done', 'failed', name='payment_operation_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payment_operations_amount_positive')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_payment_operations_attempts_not_negative')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_operations_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_operations'))
    )
    with op.batch_alter_table('payment_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_operations_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index('ix_payment_operations_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('uq_payment_operations_one_capture_or_cancel', ['payment_id', 'kind'], unique=True,
                              sqlite_where=sa.text(ONE_CAPTURE_OR_CANCEL),
                              postgresql_where=sa.text(ONE_CAPTURE_OR_CANCEL))

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('reconciled_at')

    with op.batch_alter_table('payment_operations', schema=None) as batch_op:
        batch_op.drop_index('uq_payment_operations_one_capture_or_cancel')
        batch_op.drop_index('ix_payment_operations_due')
        batch_op.drop_index(batch_op.f('ix_payment_operations_payment_id'))

    op.drop_table('payment_operations')
