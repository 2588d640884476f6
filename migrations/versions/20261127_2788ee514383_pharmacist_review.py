"""Pharmacist review: check findings, the review queue with claims and decisions; new prescription statuses.

Revision ID: 2788ee514383
Revises: f94faf12bc05
Create Date: 2026-11-27 21:16:00.153314

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2788ee514383'
down_revision = 'f94faf12bc05'
branch_labels = None
depends_on = None


STATUSES_BEFORE = ('draft', 'signed', 'awaiting_review', 'superseded')
STATUSES_AFTER = ('draft', 'signed', 'awaiting_review', 'approved', 'returned', 'superseded', 'cancelled')


def _statuses(values, signed_unless):
    """Rewrite the two CHECKs on prescriptions.status (batch mode: SQLite rebuilds the table)."""
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_prescriptions_prescription_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_prescriptions_signed_unless_draft'), type_='check')
        batch_op.create_check_constraint(op.f('ck_prescriptions_prescription_status'), f"status IN ({listed})")
        batch_op.create_check_constraint(op.f('ck_prescriptions_signed_unless_draft'), signed_unless)


def upgrade():
    _statuses(STATUSES_AFTER, "status IN ('draft', 'cancelled') OR signed_at IS NOT NULL")
    op.create_table('check_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.Enum('contraindicated', 'major', 'moderate', 'minor', name='finding_severity', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('kind', sa.Enum('not_online', 'inactive', 'weekly_only', 'allergy', 'cross_reactivity', 'interaction', 'duplicate', 'max_dose', 'long_excluded', 'supply_limit', name='finding_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('drug_code', sa.String(length=60), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('other_code', sa.String(length=60), nullable=True),
    sa.Column('other_on', sa.String(length=20), nullable=True),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('message_zh', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('knowledge_base_version', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescriptions.id'], name=op.f('fk_check_findings_prescription_id_prescriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_findings'))
    )
    with op.batch_alter_table('check_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_findings_prescription_id'), ['prescription_id'], unique=False)

    op.create_table('prescription_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('findings_count', sa.Integer(), nullable=False),
    sa.Column('worst_severity', sa.Enum('contraindicated', 'major', 'moderate', 'minor', name='finding_severity', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('knowledge_base_version', sa.String(length=80), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.Enum('approved', 'returned', name='review_decision', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason_codes', sa.String(length=255), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('turnaround_seconds', sa.Integer(), nullable=True),
    sa.CheckConstraint("decision <> 'returned' OR reason_codes <> ''", name=op.f('ck_prescription_reviews_return_has_reason')),
    sa.CheckConstraint('(claimed_by_id IS NULL) = (claimed_at IS NULL)', name=op.f('ck_prescription_reviews_claim_complete')),
    sa.CheckConstraint('(decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = (decided_by_id IS NULL)', name=op.f('ck_prescription_reviews_decision_complete')),
    sa.CheckConstraint('decision IS NULL OR turnaround_seconds >= 0', name=op.f('ck_prescription_reviews_turnaround_known')),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_prescription_reviews_claimed_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_prescription_reviews_decided_by_id_users')),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescriptions.id'], name=op.f('fk_prescription_reviews_prescription_id_prescriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescription_reviews')),
    sa.UniqueConstraint('prescription_id', name=op.f('uq_prescription_reviews_prescription_id'))
    )
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescription_reviews_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index('ix_prescription_reviews_open', ['decision', 'queued_at'], unique=False)



def downgrade():
    with op.batch_alter_table('prescription_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_prescription_reviews_open')
        batch_op.drop_index(batch_op.f('ix_prescription_reviews_decided_by_id'))

    op.drop_table('prescription_reviews')
    with op.batch_alter_table('check_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_findings_prescription_id'))

    op.drop_table('check_findings')
    _statuses(STATUSES_BEFORE, "status = 'draft' OR signed_at IS NOT NULL")
