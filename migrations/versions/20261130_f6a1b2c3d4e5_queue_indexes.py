"""Queue indexes: prescriptions by status; a doctor's queue by status and payment time.

The pharmacists' queue and the navigation badges filter prescriptions on status alone (the
existing index leads with patient_id). The doctor's queue filters on doctor and status and sorts
by paid_at: the new three-column index replaces (doctor_id, status), which is its prefix.

Revision ID: f6a1b2c3d4e5
Revises: c3d4e5f6a1b2
Create Date: 2026-11-30 16:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f6a1b2c3d4e5'
down_revision = 'c3d4e5f6a1b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.create_index('ix_prescriptions_status', ['status'], unique=False)
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_doctor_queue', ['doctor_id', 'status', 'paid_at'],
                              unique=False)
        batch_op.drop_index('ix_consultations_doctor_status')


def downgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_doctor_status', ['doctor_id', 'status'], unique=False)
        batch_op.drop_index('ix_consultations_doctor_queue')
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_prescriptions_status')
