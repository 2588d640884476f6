"""List indexes: every paginated list's sort (newest first, a cursor after the last row) and filters.

Patients' prescriptions and consultations by (patient, created_at, id); the audit trail by
(occurred_at, id) and its object-type filter; users by (role, id); drugs by English name (a store's
stock page walks the drugs in name order); transfers and recalls by their time and id.

Revision ID: a7b8c9d0e1f2
Revises: f6a1b2c3d4e5
Create Date: 2026-11-30 18:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7b8c9d0e1f2'
down_revision = 'f6a1b2c3d4e5'
branch_labels = None
depends_on = None

INDEXES = (
    ('prescriptions', 'ix_prescriptions_patient_created', ['patient_id', 'created_at', 'id']),
    ('consultations', 'ix_consultations_patient_created', ['patient_id', 'created_at', 'id']),
    ('audit_events', 'ix_audit_events_time_id', ['occurred_at', 'id']),
    ('audit_events', 'ix_audit_events_object_time', ['object_type', 'occurred_at']),
    ('users', 'ix_users_role_id', ['role', 'id']),
    ('drugs', 'ix_drugs_generic_name_en', ['generic_name_en']),
    ('stock_transfers', 'ix_stock_transfers_requested', ['requested_at', 'id']),
    ('lot_recalls', 'ix_lot_recalls_recalled', ['recalled_at', 'id']),
)


def upgrade():
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
