"""Two workers claiming SMS at the same moment on PostgreSQL, with two connections: each row goes
to one of them, and neither waits for the other."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.notifications import services as outbox
from app.notifications.models import OutboundSms, SmsStatus

pytestmark = pytest.mark.postgres_only


def test_two_claims_at_once_never_take_the_same_row(committed_postgres_app):
    application = committed_postgres_app
    with application.app_context():
        messages = [OutboundSms(to_phone="+8613900000051", purpose="test", body=f"m{n}") for n in range(6)]
        db.session.add_all(messages)
        db.session.commit()
        ids = sorted(message.id for message in messages)

        # The first worker is inside its claim transaction (rows locked, not yet committed)...
        first = [message.id for message in outbox.take_due(4, "worker-a")]
        with application.app_context():  # ...when a second worker, on its own connection, claims.
            # Waiting on the first worker's locks would be a failure: give up instead of hanging.
            db.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            second = [message.id for message in outbox.take_due(4, "worker-b")]
            db.session.commit()
        db.session.commit()

        assert first == ids[:4] and second == ids[4:]
        # Committed, the claims hold: nobody can take these rows until a lease lapses.
        assert outbox.take_due(4, "worker-c") == []
        db.session.commit()
        claimed = dict(db.session.execute(sa.select(OutboundSms.id, OutboundSms.claimed_by)).all())
        assert claimed == {**dict.fromkeys(ids[:4], "worker-a"), **dict.fromkeys(ids[4:], "worker-b")}
        assert set(db.session.scalars(sa.select(OutboundSms.status))) == {SmsStatus.SENDING}
