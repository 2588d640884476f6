"""Patient record (profile, addresses, allergies, conditions, consents, uploads), consultations, payments.

Revision ID: e68431ea418d
Revises: c49aed0710c2
Create Date: 2026-11-27 17:48:02.930503

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e68431ea418d'
down_revision = 'c49aed0710c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('province', sa.String(length=60), nullable=False),
    sa.Column('city', sa.String(length=60), nullable=False),
    sa.Column('district', sa.String(length=60), nullable=False),
    sa.Column('street', sa.String(length=255), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_addresses_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresses_patient_id'), ['patient_id'], unique=False)

    op.create_table('allergies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('drug', 'ingredient', 'class', name='allergy_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('substance', sa.String(length=120), nullable=False),
    sa.Column('reaction', sa.String(length=255), nullable=False),
    sa.Column('severity', sa.Enum('mild', 'moderate', 'severe', 'anaphylaxis', name='severity', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_allergies_patient_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_allergies_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allergies'))
    )
    with op.batch_alter_table('allergies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allergies_patient_id'), ['patient_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('data_sharing', 'sms_reminders', name='consent_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_consents_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_patient_kind', ['patient_id', 'kind'], unique=False)

    op.create_table('patient_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=120), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'other', name='sex', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('id_document_number', sa.String(length=40), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patient_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_patient_profiles'))
    )
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payable_type', sa.String(length=30), nullable=False),
    sa.Column('payable_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method_type', sa.String(length=20), nullable=False),
    sa.Column('capture_method', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'authorized', 'captured', 'failed', 'canceled', 'refunded', name='payment_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('stripe_payment_intent_id', sa.String(length=64), nullable=True),
    sa.Column('amount_refunded_fen', sa.Integer(), nullable=False),
    sa.Column('failure_message', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('authorized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('amount_refunded_fen >= 0 AND amount_refunded_fen <= amount_fen', name=op.f('ck_payments_refund_within_amount')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_payments_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_payments_stripe_payment_intent_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_payments_payable', ['payable_type', 'payable_id'], unique=False)

    op.create_table('uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('condition_proof', 'consultation', 'message', name='upload_purpose', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_uploads_size_positive')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_uploads_patient_id_users')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_uploads_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_uploads_storage_key'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_patient_id'), ['patient_id'], unique=False)

    op.create_table('conditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('icd10_code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('hospital', sa.String(length=255), nullable=False),
    sa.Column('diagnosed_on', sa.Date(), nullable=False),
    sa.Column('proof_upload_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', name='condition_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_conditions_patient_id_users')),
    sa.ForeignKeyConstraint(['proof_upload_id'], ['uploads.id'], name=op.f('fk_conditions_proof_upload_id_uploads')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_conditions_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conditions'))
    )
    with op.batch_alter_table('conditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conditions_patient_id'), ['patient_id'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=64), nullable=True),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_refunds_stripe_refund_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_payment_id'), ['payment_id'], unique=False)

    op.create_table('stripe_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_stripe_events_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_stripe_events_event_id'))
    )
    op.create_table('consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('condition_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('awaiting_payment', 'waiting', 'in_progress', 'completed', 'cancelled', 'declined', 'expired', 'referred', name='consultation_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('fee_fen', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('complaint', sa.Text(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('assessment', sa.Text(), nullable=True),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.String(length=500), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('fee_fen > 0', name=op.f('ck_consultations_fee_positive')),
    sa.CheckConstraint('rating IS NULL OR (rating >= 1 AND rating <= 5)', name=op.f('ck_consultations_rating_range')),
    sa.ForeignKeyConstraint(['condition_id'], ['conditions.id'], name=op.f('fk_consultations_condition_id_conditions')),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_consultations_doctor_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_consultations_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_doctor_status', ['doctor_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultations_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_consultations_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('consultation_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_attachments_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_consultation_attachments_upload_id_uploads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_attachments'))
    )
    with op.batch_alter_table('consultation_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_attachments_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('consultation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_messages_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_consultation_messages_sender_id_users')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_consultation_messages_upload_id_uploads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_messages'))
    )
    with op.batch_alter_table('consultation_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_messages_consultation_id'), ['consultation_id'], unique=False)

    with op.batch_alter_table('doctor_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consultation_fee_fen', sa.Integer(), server_default='3000', nullable=False))



def downgrade():
    with op.batch_alter_table('doctor_profiles', schema=None) as batch_op:
        batch_op.drop_column('consultation_fee_fen')

    with op.batch_alter_table('consultation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_messages_consultation_id'))

    op.drop_table('consultation_messages')
    with op.batch_alter_table('consultation_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_attachments_consultation_id'))

    op.drop_table('consultation_attachments')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_status_expires')
        batch_op.drop_index(batch_op.f('ix_consultations_patient_id'))
        batch_op.drop_index('ix_consultations_doctor_status')

    op.drop_table('consultations')
    op.drop_table('stripe_events')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_payment_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('conditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conditions_patient_id'))

    op.drop_table('conditions')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_patient_id'))

    op.drop_table('uploads')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_payable')
        batch_op.drop_index(batch_op.f('ix_payments_patient_id'))

    op.drop_table('payments')
    op.drop_table('patient_profiles')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_patient_kind')

    op.drop_table('consents')
    with op.batch_alter_table('allergies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allergies_patient_id'))

    op.drop_table('allergies')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addresses_patient_id'))

    op.drop_table('addresses')
