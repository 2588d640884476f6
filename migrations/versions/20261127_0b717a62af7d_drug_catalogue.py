"""Drug catalogue: drugs (with price, flags, maximum daily dose) and their active ingredients.

Revision ID: 0b717a62af7d
Revises: e68431ea418d
Create Date: 2026-11-27 18:16:30.441668

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0b717a62af7d'
down_revision = 'e68431ea418d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('drugs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('generic_name_en', sa.String(length=120), nullable=False),
    sa.Column('generic_name_zh', sa.String(length=60), nullable=False),
    sa.Column('brand_name', sa.String(length=120), nullable=False),
    sa.Column('atc_code', sa.String(length=7), nullable=True),
    sa.Column('strength', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('strength_unit', sa.Enum('mg', 'µg', 'g', 'IU', 'mg/mL', 'µg/h', name='strength_unit', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('dosage_form', sa.Enum('tablet', 'sustained_release_tablet', 'controlled_release_tablet', 'enteric_coated_tablet', 'sublingual_tablet', 'capsule', 'sustained_release_capsule', 'enteric_coated_capsule', 'oral_solution', 'injection', 'powder_for_injection', 'pen_injector', 'prefilled_syringe', 'implant', 'inhalation_powder', 'inhalation_aerosol', 'transdermal_patch', name='dosage_form', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('route', sa.Enum('oral', 'sublingual', 'subcutaneous', 'intramuscular', 'intravenous', 'inhalation', 'transdermal', 'topical', name='route', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('pack_size', sa.Integer(), nullable=False),
    sa.Column('pack_unit', sa.Enum('tablet', 'capsule', 'pen', 'cartridge', 'vial', 'syringe', 'implant', 'patch', 'dose', 'mL', name='pack_unit', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('is_cold_chain', sa.Boolean(), nullable=False),
    sa.Column('controlled_class', sa.Enum('none', 'narcotic', 'psychotropic_1', 'psychotropic_2', 'toxic', 'radioactive', 'precursor', name='controlled_class', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('is_online_prescribable', sa.Boolean(), nullable=False),
    sa.Column('is_deliverable', sa.Boolean(), nullable=False),
    sa.Column('is_antimicrobial', sa.Boolean(), nullable=False),
    sa.Column('max_daily_dose', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('max_daily_dose_unit', sa.Enum('mg', 'µg', 'g', 'IU', name='dose_unit', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('is_weekly_only', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("controlled_class = 'none' OR (NOT is_online_prescribable AND NOT is_deliverable)", name=op.f('ck_drugs_controlled_not_online')),
    sa.CheckConstraint("generic_name_en <> '' AND generic_name_zh <> ''", name=op.f('ck_drugs_names_present')),
    sa.CheckConstraint("route NOT IN ('intramuscular', 'intravenous', 'subcutaneous') OR NOT is_deliverable OR COALESCE(atc_code, '') LIKE 'A10%'", name=op.f('ck_drugs_injectables_not_delivered')),
    sa.CheckConstraint('(max_daily_dose IS NULL) = (max_daily_dose_unit IS NULL)', name=op.f('ck_drugs_max_dose_has_unit')),
    sa.CheckConstraint('atc_code IS NULL OR length(atc_code) = 7', name=op.f('ck_drugs_atc_code_length')),
    sa.CheckConstraint('max_daily_dose IS NULL OR max_daily_dose > 0', name=op.f('ck_drugs_max_dose_positive')),
    sa.CheckConstraint('pack_size > 0', name=op.f('ck_drugs_pack_size_positive')),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_drugs_price_positive')),
    sa.CheckConstraint('strength > 0', name=op.f('ck_drugs_strength_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drugs')),
    sa.UniqueConstraint('code', name=op.f('uq_drugs_code'))
    )
    with op.batch_alter_table('drugs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drugs_atc_code'), ['atc_code'], unique=False)

    op.create_table('drug_ingredients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drug_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['drug_id'], ['drugs.id'], name=op.f('fk_drug_ingredients_drug_id_drugs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drug_ingredients')),
    sa.UniqueConstraint('drug_id', 'position', name=op.f('uq_drug_ingredients_drug_id'))
    )
    with op.batch_alter_table('drug_ingredients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drug_ingredients_drug_id'), ['drug_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drug_ingredients_name'), ['name'], unique=False)


def downgrade():
    with op.batch_alter_table('drug_ingredients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drug_ingredients_name'))
        batch_op.drop_index(batch_op.f('ix_drug_ingredients_drug_id'))

    op.drop_table('drug_ingredients')
    with op.batch_alter_table('drugs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drugs_atc_code'))

    op.drop_table('drugs')
