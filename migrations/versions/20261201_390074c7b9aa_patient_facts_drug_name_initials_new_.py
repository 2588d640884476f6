"""Patient facts the checks use (weight, height, renal and hepatic function, pregnancy, breastfeeding),
pinyin initials on drugs for search, and the finding kinds of the patient-aware checks.

Revision ID: 390074c7b9aa
Revises: 1f21dca02465
Create Date: 2026-12-01 20:30:01.741027

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '390074c7b9aa'
down_revision = '1f21dca02465'
branch_labels = None
depends_on = None

KINDS_BEFORE = ('not_online', 'inactive', 'weekly_only', 'allergy', 'cross_reactivity', 'interaction',
                'duplicate', 'max_dose', 'long_excluded', 'supply_limit')
KINDS_AFTER = KINDS_BEFORE + ('dose_form', 'renal', 'hepatic', 'pregnancy', 'older_adult', 'paediatric',
                              'drug_disease', 'indication', 'not_deliverable')


def _kinds(values):
    """Enums are VARCHAR + CHECK on both databases: rewrite the CHECK."""
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table('check_findings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_check_findings_finding_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_check_findings_finding_kind'), f"kind IN ({listed})")


def _fill_initials():
    # Imported here: only this step needs pypinyin, and later catalogue imports keep the column current.
    from app.drugs.initials import name_initials

    connection = op.get_bind()
    drugs = sa.table('drugs', sa.column('id', sa.Integer), sa.column('generic_name_zh', sa.String),
                     sa.column('name_initials', sa.String))
    rows = connection.execute(sa.select(drugs.c.id, drugs.c.generic_name_zh)).all()
    for drug_id, name_zh in rows:
        connection.execute(sa.update(drugs).where(drugs.c.id == drug_id)
                           .values(name_initials=name_initials(name_zh)))


def upgrade():
    op.create_table('patient_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('weight', 'height', 'egfr', 'crcl', 'child_pugh', 'pregnancy', 'breastfeeding', name='fact_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('value', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('value_text', sa.String(length=1), nullable=True),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('source', sa.Enum('patient', 'doctor', name='fact_source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'child_pugh') = (value_text IS NOT NULL) AND (kind = 'child_pugh') = (value IS NULL)", name=op.f('ck_patient_facts_one_value')),
    sa.CheckConstraint("(source = 'doctor') = (consultation_id IS NOT NULL)", name=op.f('ck_patient_facts_doctor_in_consultation')),
    sa.CheckConstraint("value_text IS NULL OR value_text IN ('A', 'B', 'C')", name=op.f('ck_patient_facts_child_pugh_class')),
    sa.CheckConstraint('value IS NULL OR value >= 0', name=op.f('ck_patient_facts_value_not_negative')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_patient_facts_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_patient_facts_patient_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_patient_facts_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_facts'))
    )
    with op.batch_alter_table('patient_facts', schema=None) as batch_op:
        batch_op.create_index('ix_patient_facts_patient_kind', ['patient_id', 'kind', 'measured_on', 'id'], unique=False)

    # A plain ADD COLUMN (no batch rebuild of a table others point at), as the leaflet columns were added.
    op.add_column('drugs', sa.Column('name_initials', sa.String(length=60), server_default='', nullable=False))
    _fill_initials()
    _kinds(KINDS_AFTER)


def downgrade():
    new_kinds = ", ".join(f"'{kind}'" for kind in KINDS_AFTER if kind not in KINDS_BEFORE)
    op.execute(f"DELETE FROM check_findings WHERE kind IN ({new_kinds})")
    _kinds(KINDS_BEFORE)
    # Not a batch rebuild: on SQLite that drops and re-creates drugs, which stock and orders point at.
    op.execute('ALTER TABLE drugs DROP COLUMN name_initials')  # SQLite 3.35+ and PostgreSQL

    with op.batch_alter_table('patient_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_facts_patient_kind')

    op.drop_table('patient_facts')
