"""SMS through Twilio: message kinds, scheduling, carrier statuses and error codes; opt-outs; reminder plans.

Revision ID: 041a57aaa7d6
Revises: a9b0c1d2e3f4
Create Date: 2026-12-01 13:47:49.288690

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '041a57aaa7d6'
down_revision = 'a9b0c1d2e3f4'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ('queued', 'sent', 'failed', 'sending')
STATUSES_AFTER = STATUSES_BEFORE + ('delivered', 'undelivered', 'cancelled')


def _statuses(batch_op, values):
    """The status enum is VARCHAR + CHECK on both databases: rewrite the CHECK."""
    listed = ", ".join(f"'{value}'" for value in values)
    batch_op.drop_constraint(op.f('ck_outbound_sms_sms_status'), type_='check')
    batch_op.create_check_constraint(op.f('ck_outbound_sms_sms_status'), f"status IN ({listed})")


def upgrade():
    # First, while nothing references outbound_sms (SQLite rebuilds the table for the CHECK).
    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('code', 'notice', 'dose', 'refill', 'safety', name='sms_kind', native_enum=False, create_constraint=True, length=20), server_default='notice', nullable=False))
        batch_op.add_column(sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_reported_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbound_sms_provider_message_id', ['provider_message_id'], unique=False)
        batch_op.create_index('ix_outbound_sms_user_kind_status', ['user_id', 'kind', 'status'], unique=False)
        _statuses(batch_op, STATUSES_AFTER)
    # The one-time codes sent so far (every other message was an order notice).
    op.execute("UPDATE outbound_sms SET kind = 'code' WHERE is_sensitive")
    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('keyword', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_outs'))
    )
    op.create_table('reminder_preferences',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('dose_times', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_reminder_preferences_patient_id_users')),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_reminder_preferences'))
    )
    op.create_table('reminder_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('drug_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('doses_per_day', sa.Integer(), nullable=False),
    sa.Column('days_supply', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('days_supply >= 0', name=op.f('ck_reminder_lines_days_supply_non_negative')),
    sa.ForeignKeyConstraint(['drug_id'], ['drugs.id'], name=op.f('fk_reminder_lines_drug_id_drugs')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_reminder_lines_order_line_id_order_lines')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_reminder_lines_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_lines')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_reminder_lines_order_line_id'))
    )
    with op.batch_alter_table('reminder_lines', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_lines_patient', ['patient_id', 'starts_at'], unique=False)

    op.create_table('dose_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbound_sms_id', sa.Integer(), nullable=False),
    sa.Column('reminder_line_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Enum('taken', 'skipped', name='dose_answer', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['outbound_sms_id'], ['outbound_sms.id'], name=op.f('fk_dose_reminders_outbound_sms_id_outbound_sms')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_dose_reminders_patient_id_users')),
    sa.ForeignKeyConstraint(['reminder_line_id'], ['reminder_lines.id'], name=op.f('fk_dose_reminders_reminder_line_id_reminder_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dose_reminders')),
    sa.UniqueConstraint('outbound_sms_id', 'reminder_line_id', name=op.f('uq_dose_reminders_outbound_sms_id'))
    )
    with op.batch_alter_table('dose_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_dose_reminders_line', ['reminder_line_id', 'due_at'], unique=False)
        batch_op.create_index('ix_dose_reminders_patient_due', ['patient_id', 'due_at'], unique=False)


def downgrade():
    op.drop_table('dose_reminders')
    op.drop_table('reminder_lines')
    op.drop_table('reminder_preferences')
    op.drop_table('sms_opt_outs')
    # The old statuses have no carrier report and no withdrawal: delivered and undelivered were sent,
    # a withdrawn message is closed as failed.
    op.execute("UPDATE outbound_sms SET status = 'sent' WHERE status IN ('delivered', 'undelivered')")
    op.execute("UPDATE outbound_sms SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        _statuses(batch_op, STATUSES_BEFORE)
        batch_op.drop_index('ix_outbound_sms_user_kind_status')
        batch_op.drop_index('ix_outbound_sms_provider_message_id')
        batch_op.drop_column('status_reported_at')
        batch_op.drop_column('error_code')
        batch_op.drop_column('scheduled_for')
        batch_op.drop_constraint(op.f('ck_outbound_sms_sms_kind'), type_='check')
        batch_op.drop_column('kind')
