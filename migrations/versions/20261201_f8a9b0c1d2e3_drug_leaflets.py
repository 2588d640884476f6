"""The patient leaflet's catalogue text: each drug's key warnings and storage, in English and Chinese.

Revision ID: f8a9b0c1d2e3
Revises: e7f8a9b0c1d2
Create Date: 2026-12-01 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f8a9b0c1d2e3'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None

COLUMNS = (('warnings_en', 600), ('warnings_zh', 600), ('storage_en', 300), ('storage_zh', 300))


def upgrade():
    # Plain ALTER TABLE, never a batch rebuild: stock lots, order lines and dispensed packs point at drugs.
    # The server default fills the existing rows (blank: no warnings yet, storage from the cold-chain flag).
    for name, length in COLUMNS:
        op.add_column('drugs', sa.Column(name, sa.String(length=length), nullable=False, server_default=''))


def downgrade():
    for name, _length in reversed(COLUMNS):
        op.execute(f'ALTER TABLE drugs DROP COLUMN {name}')  # SQLite 3.35+ and PostgreSQL
