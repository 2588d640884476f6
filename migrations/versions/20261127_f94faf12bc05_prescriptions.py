"""Prescriptions: signed, versioned prescriptions and their structured items.

Revision ID: f94faf12bc05
Revises: 0b717a62af7d
Create Date: 2026-11-27 18:59:54.796863

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f94faf12bc05'
down_revision = '0b717a62af7d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('prescriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('condition_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'signed', 'awaiting_review', 'superseded', name='prescription_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('supply_category', sa.Enum('normal', 'chronic', 'long', name='supply_category', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('chronic_reason', sa.Text(), nullable=True),
    sa.Column('long_assessment', sa.Text(), nullable=True),
    sa.Column('patient_confirmed_long_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('previous_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.CheckConstraint("status = 'draft' OR signed_at IS NOT NULL", name=op.f('ck_prescriptions_signed_unless_draft')),
    sa.CheckConstraint('(signed_at IS NULL) = (signed_by_id IS NULL) AND (signed_at IS NULL) = (content_sha256 IS NULL) AND (signed_at IS NULL) = (valid_until IS NULL)', name=op.f('ck_prescriptions_signature_complete')),
    sa.CheckConstraint('(version = 1) = (previous_version_id IS NULL)', name=op.f('ck_prescriptions_version_chain')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_prescriptions_version_positive')),
    sa.ForeignKeyConstraint(['condition_id'], ['conditions.id'], name=op.f('fk_prescriptions_condition_id_conditions')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_prescriptions_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_prescriptions_doctor_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_prescriptions_patient_id_users')),
    sa.ForeignKeyConstraint(['previous_version_id'], ['prescriptions.id'], name=op.f('fk_prescriptions_previous_version_id_prescriptions')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_prescriptions_signed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescriptions')),
    sa.UniqueConstraint('previous_version_id', name=op.f('uq_prescriptions_previous_version_id'))
    )
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescriptions_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescriptions_doctor_id'), ['doctor_id'], unique=False)
        batch_op.create_index('ix_prescriptions_patient_status', ['patient_id', 'status'], unique=False)

    op.create_table('prescription_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('drug_id', sa.Integer(), nullable=False),
    sa.Column('dose', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('dose_unit', sa.Enum('mg', 'µg', 'g', 'IU', 'mL', 'tablet', 'capsule', 'dose', 'patch', name='prescribed_unit', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('route', sa.Enum('oral', 'sublingual', 'subcutaneous', 'intramuscular', 'intravenous', 'inhalation', 'transdermal', 'topical', name='route', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('frequency', sa.Enum('QD', 'BID', 'TID', 'QID', 'Q8H', 'Q12H', 'QN', 'QW', 'BIW', 'PRN', name='frequency', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('max_doses_per_day', sa.Integer(), nullable=True),
    sa.Column('times_of_day', sa.String(length=60), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=False),
    sa.Column('instructions', sa.String(length=255), nullable=False),
    sa.Column('quantity_packs', sa.Integer(), nullable=False),
    sa.Column('days_supply', sa.Integer(), nullable=False),
    sa.CheckConstraint("(frequency = 'PRN') = (max_doses_per_day IS NOT NULL)", name=op.f('ck_prescription_items_prn_has_maximum')),
    sa.CheckConstraint('days_supply >= 0', name=op.f('ck_prescription_items_days_supply_non_negative')),
    sa.CheckConstraint('dose > 0', name=op.f('ck_prescription_items_dose_positive')),
    sa.CheckConstraint('duration_days >= 1 AND duration_days <= 84', name=op.f('ck_prescription_items_duration_range')),
    sa.CheckConstraint('max_doses_per_day IS NULL OR max_doses_per_day BETWEEN 1 AND 24', name=op.f('ck_prescription_items_max_doses_range')),
    sa.CheckConstraint('quantity_packs >= 1', name=op.f('ck_prescription_items_quantity_positive')),
    sa.ForeignKeyConstraint(['drug_id'], ['drugs.id'], name=op.f('fk_prescription_items_drug_id_drugs')),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescriptions.id'], name=op.f('fk_prescription_items_prescription_id_prescriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescription_items')),
    sa.UniqueConstraint('prescription_id', 'position', name=op.f('uq_prescription_items_prescription_id'))
    )
    with op.batch_alter_table('prescription_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescription_items_drug_id'), ['drug_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_items_prescription_id'), ['prescription_id'], unique=False)



def downgrade():
    with op.batch_alter_table('prescription_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescription_items_prescription_id'))
        batch_op.drop_index(batch_op.f('ix_prescription_items_drug_id'))

    op.drop_table('prescription_items')
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_prescriptions_patient_status')
        batch_op.drop_index(batch_op.f('ix_prescriptions_doctor_id'))
        batch_op.drop_index(batch_op.f('ix_prescriptions_consultation_id'))

    op.drop_table('prescriptions')
