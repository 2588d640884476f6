"""audit and uploads: the audit trail is append-only in the SQLite database too.

PostgreSQL has refused UPDATE and DELETE on audit_events since the foundation migration (trigger
audit_events_append_only); SQLite only had the ORM guard, so a raw statement could rewrite history.
These are the stock ledger's SQLite triggers, for audit_events. A later batch rebuild of audit_events
on SQLite drops them and must create them again.

Revision ID: 032cb397a8e1
Revises: 5442bcb5b4ac
Create Date: 2026-11-30 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '032cb397a8e1'
down_revision = '5442bcb5b4ac'
branch_labels = None
depends_on = None

EVENTS = ("UPDATE", "DELETE")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for event in EVENTS:
        op.execute(f"""
            CREATE TRIGGER audit_events_no_{event.lower()}
            BEFORE {event} ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
        """)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{event.lower()}")
