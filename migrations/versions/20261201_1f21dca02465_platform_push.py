"""Data platform push: research tokens; outbox events with a source key, a random idempotency key, the
patient, a lease and a withdrawn status; the record-linkage consent.

Revision ID: 1f21dca02465
Revises: 041a57aaa7d6
Create Date: 2026-12-01 16:34:38.825131

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1f21dca02465'
down_revision = '041a57aaa7d6'
branch_labels = None
depends_on = None

OUTBOX_BEFORE = ('pending', 'delivered', 'dead')
OUTBOX_AFTER = OUTBOX_BEFORE + ('withdrawn',)
CONSENTS_BEFORE = ('data_sharing', 'sms_reminders')
CONSENTS_AFTER = CONSENTS_BEFORE + ('record_linkage',)
# Events written before payloads were FHIR resources cannot be sent as they are; a backfill writes
# them again from the dispenses (under new source keys, so nothing is written twice).
OLD_FORMAT = "written before payloads were FHIR resources; run flask platform backfill"


def _check(batch_op, name, column, values):
    """Enums are VARCHAR + CHECK on both databases: rewrite the CHECK."""
    listed = ", ".join(f"'{value}'" for value in values)
    batch_op.drop_constraint(op.f(name), type_='check')
    batch_op.create_check_constraint(op.f(name), f"{column} IN ({listed})")


def upgrade():
    op.create_table('research_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_tokens')),
    sa.UniqueConstraint('subject_type', 'subject_id', name=op.f('uq_research_tokens_subject_type')),
    sa.UniqueConstraint('token', name=op.f('uq_research_tokens_token'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resource_type', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        _check(batch_op, 'ck_outbox_events_outbox_status', 'status', OUTBOX_AFTER)
        batch_op.create_check_constraint(op.f('ck_outbox_events_attempts_non_negative'), 'attempts >= 0')
    outbox = sa.table('outbox_events', sa.column('id', sa.Integer), sa.column('idempotency_key', sa.String),
                      sa.column('source_key', sa.String), sa.column('status', sa.String),
                      sa.column('last_error', sa.String))
    connection = op.get_bind()
    connection.execute(outbox.update().values(source_key=outbox.c.idempotency_key))
    connection.execute(outbox.update().where(outbox.c.status == 'pending')
                       .values(status='dead', last_error=OLD_FORMAT))
    for (event_id,) in connection.execute(sa.select(outbox.c.id)).all():
        connection.execute(outbox.update().where(outbox.c.id == event_id)
                           .values(idempotency_key=str(uuid.uuid4())))
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.alter_column('source_key', existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column('idempotency_key',
               existing_type=sa.VARCHAR(length=80),
               type_=sa.String(length=36),
               existing_nullable=False)
        batch_op.create_index('ix_outbox_events_patient_status', ['patient_id', 'status'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_events_source_key'), ['source_key'])
        batch_op.create_foreign_key(batch_op.f('fk_outbox_events_patient_id_users'), 'users', ['patient_id'], ['id'])
    with op.batch_alter_table('consents', schema=None) as batch_op:
        _check(batch_op, 'ck_consents_consent_kind', 'kind', CONSENTS_AFTER)


def downgrade():
    op.execute("DELETE FROM consents WHERE kind = 'record_linkage'")
    with op.batch_alter_table('consents', schema=None) as batch_op:
        _check(batch_op, 'ck_consents_consent_kind', 'kind', CONSENTS_BEFORE)
    op.execute("UPDATE outbox_events SET status = 'dead' WHERE status = 'withdrawn'")
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_events_patient_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_outbox_events_source_key'), type_='unique')
        batch_op.drop_index('ix_outbox_events_patient_status')
        batch_op.drop_constraint(op.f('ck_outbox_events_attempts_non_negative'), type_='check')
        _check(batch_op, 'ck_outbox_events_outbox_status', 'status', OUTBOX_BEFORE)
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('resource_type')
        batch_op.drop_column('patient_id')
        batch_op.drop_column('idempotency_key')
        batch_op.alter_column('source_key', new_column_name='idempotency_key', type_=sa.String(length=80),
                              existing_type=sa.String(length=120), existing_nullable=False)
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_events_idempotency_key'), ['idempotency_key'])
    op.drop_table('research_tokens')
