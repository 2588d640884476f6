"""Query budgets: the patient's adherence page, the doctor's consultation page with its adherence panel,
and the admin dashboard with the chain's distribution run as many statements with 2 handovers as with 8."""

import pytest

from app.accounts.models import Role
from app.notifications.models import SmsStatus
from app.reminders.models import DoseAnswer
from tests import factories
from tests.adherence.conftest import AMLODIPINE, METFORMIN_BID, add_doses
from tests.query_budget import count_statements

SMALL, LARGE = 2, 8


def _statements(db, browser, url: str, shown: list[str]):
    db.session.expire_all()
    with count_statements(db) as seen:
        response = browser.get(url)
    assert response.status_code == 200, url
    page = response.get_data(as_text=True)
    assert all(text in page for text in shown), url
    return seen


@pytest.fixture
def growing(visit, received_on):
    """Grow the patient's history to `size` handovers of both drugs, every 20 days back from today, each
    with two dose reminders of each sent and answered; the pages must show both drugs."""
    made = []

    def grow(size: int) -> list[str]:
        while len(made) < size:
            made.append(received_on(20 * len(made) + 1, AMLODIPINE, METFORMIN_BID))
            for code, _sig in (AMLODIPINE, METFORMIN_BID):
                add_doses(visit.patient, code, [(len(made), SmsStatus.SENT, DoseAnswer.TAKEN),
                                                (len(made) + 1, SmsStatus.DELIVERED, DoseAnswer.SKIPPED)])
        return ['data-adherence-drug="C08CA01"', 'data-adherence-drug="A10BA02"', 'id="adherence-chart"']

    return grow


def _flat(sizes: dict, budget: int) -> None:
    small, large = sizes[SMALL], sizes[LARGE]
    print(f"statements: {small.count} with {SMALL} handovers, {large.count} with {LARGE}")
    assert small.count == large.count, f"{small.count} → {large.count} statements:\n{large}"
    assert large.count <= budget, str(large)


def test_the_patients_adherence_page_is_flat(db, as_user, visit, growing):
    browser = as_user(visit.patient)
    sizes = {size: _statements(db, browser, "/adherence/", growing(size)) for size in (SMALL, LARGE)}
    # A savepoint and its release (the test's commit), the user, the fills with the dose answers, the
    # audit row.
    _flat(sizes, budget=5)
    assert sizes[LARGE].inserts == 1


def test_the_doctors_consultation_page_with_adherence_is_flat(db, as_user, visit, growing):
    browser = as_user(visit.doctor)
    url = f"/consultations/{visit.consultation.id}"
    sizes = {size: _statements(db, browser, url, growing(size)) for size in (SMALL, LARGE)}
    # tests/test_query_budgets.py's 19 (the panel one of them), and the savepoint the test session opens.
    _flat(sizes, budget=20)


def test_the_admin_dashboard_is_flat(db, as_user, visit, growing):
    browser = as_user(factories.make_user(Role.ADMIN))
    sizes = {}
    for size in (SMALL, LARGE):
        growing(size)
        sizes[size] = _statements(db, browser, "/admin/", ['data-atc-class="C08"', 'data-atc-class="A10"'])
    # The test session's savepoint, the user, the dashboard's four counts (users, SMS, stores, platform
    # events), then the patients' zones and the distribution.
    _flat(sizes, budget=8)
