"""The reminders page runs as many statements for a patient with 2 medicines as with 6."""

from datetime import timedelta

from sqlalchemy import update

from app.database import utcnow
from app.extensions import db as _db
from app.reminders.models import ReminderLine
from tests.query_budget import count_statements
from tests.sms.conftest import AMLODIPINE, METFORMIN_BID


def test_the_reminders_page_is_flat(db, as_user, visit, receive):
    browser = as_user(visit.patient)
    seen = {}
    for orders in (1, 3):
        while len(seen) < orders:
            receive(AMLODIPINE, METFORMIN_BID)
            seen[len(seen) + 1] = None
        # Every medicine received is still being taken (supplies counted from an hour ago).
        _db.session.execute(update(ReminderLine).values(starts_at=utcnow() - timedelta(hours=1)))
        _db.session.commit()
        _db.session.expire_all()
        with count_statements(_db) as counted:
            page = browser.get("/reminders/")
        assert page.status_code == 200
        assert page.get_data(as_text=True).count('id="line-') == 2 * orders
        seen[orders] = counted
    small, large = seen[1], seen[3]
    assert small.count == large.count, f"{small.count} → {large.count}:\n{large}"
    # The user, the medicines with their drugs, the dose times, the next texts, the consent, the opt-out,
    # the audit row, and the test's savepoint and its release.
    assert large.count <= 9, str(large)
