"""A pharmacist approves version 1 while the doctor signs version 2, on PostgreSQL with two connections:
whichever goes first wins, the other is refused, and there is never more than one live version."""

import threading

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.errors import DomainError
from app.extensions import db
from app.prescribing import services as rx
from app.prescribing.models import Prescription
from app.prescribing.states import PrescriptionStatus
from app.review import services as review
from app.review.states import ReviewStatus
from tests import factories
from tests.prescribing.conftest import sign_and_submit
from tests.review.test_concurrent_claims import signed_prescription

pytestmark = pytest.mark.postgres_only

S = PrescriptionStatus


def prepare(application) -> tuple[int, int, int, int]:
    """v1 signed and claimed by a pharmacist; v2 a draft revised from it, ready to sign."""
    with application.app_context():
        v1_id = signed_prescription()
        v1 = db.session.get(Prescription, v1_id)
        pharmacist = factories.make_user(Role.PHARMACIST)
        review.claim(v1, pharmacist)
        v2 = rx.revise(v1, v1.doctor)
        db.session.commit()
        found = v1_id, v2.id, pharmacist.id, v1.doctor_id
        db.session.remove()
    return found


def run_holding_locks(application, name: str, act, locked: threading.Event, go_on: threading.Event,
                      outcome: dict) -> None:
    """Do `act` on a connection of its own, say when its locks are held, commit when told to."""
    with application.app_context():
        try:
            act()
            locked.set()
            go_on.wait(timeout=30)
            db.session.commit()
            outcome[name] = "done"
        except DomainError as error:
            db.session.rollback()
            outcome[name] = str(error)
        finally:
            locked.set()
            db.session.remove()


def approve_v1(v1_id, pharmacist_id):
    v1 = db.session.get(Prescription, v1_id)
    v1.review  # loaded before the race, as the page had it  # noqa: B018
    review.decide(v1, db.session.get(User, pharmacist_id), "approved")


def sign_v2(v2_id, doctor_id):
    v2 = db.session.get(Prescription, v2_id)
    v2.previous_version  # loaded before the race  # noqa: B018
    sign_and_submit(v2, db.session.get(User, doctor_id), factories.PASSWORD)


def waiting_on_a_lock_or_done(application, thread: threading.Thread) -> None:
    """Until the second action is blocked by the first one's row locks (or, without locks, has finished)."""
    engine = sa.create_engine(application.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            for _ in range(3000):
                thread.join(timeout=0.01)
                if not thread.is_alive():
                    return
                waiting = connection.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar()
                if waiting:
                    return
            raise AssertionError("the second action neither waited nor finished")
    finally:
        engine.dispose()


@pytest.mark.parametrize("first", ["approve", "sign"])
def test_approving_v1_and_signing_v2_at_once_leave_exactly_one_live_version(committed_postgres_app, first):
    application = committed_postgres_app
    v1_id, v2_id, pharmacist_id, doctor_id = prepare(application)
    outcome: dict[str, str] = {}
    events = {name: (threading.Event(), threading.Event()) for name in ("approve", "sign")}
    actions = {"approve": lambda: approve_v1(v1_id, pharmacist_id), "sign": lambda: sign_v2(v2_id, doctor_id)}
    threads = {name: threading.Thread(target=run_holding_locks,
                                      args=(application, name, action, *events[name], outcome))
               for name, action in actions.items()}
    second = "sign" if first == "approve" else "approve"

    threads[first].start()
    assert events[first][0].wait(timeout=30)  # the first holds its locks, not yet committed
    threads[second].start()
    events[second][1].set()  # the second commits as soon as it gets through
    waiting_on_a_lock_or_done(application, threads[second])
    events[first][1].set()
    for thread in threads.values():
        thread.join(timeout=30)

    assert outcome[first] == "done"
    assert outcome[second] != "done", "both succeeded: the approval and the new version both stand"
    with application.app_context():
        v1, v2 = db.session.get(Prescription, v1_id), db.session.get(Prescription, v2_id)
        if first == "approve":
            assert (v1.status, v1.review.status) == (S.APPROVED, ReviewStatus.APPROVED)
            assert v2.status == S.DRAFT and v2.signed_at is None
            assert "cannot replace it" in outcome["sign"]
        else:
            assert (v1.status, v1.review.status) == (S.SUPERSEDED, ReviewStatus.WITHDRAWN)
            assert v1.review.decision is None and v1.review.claimed_by_id is None
            assert (v2.status, v2.review.status) == (S.AWAITING_REVIEW, ReviewStatus.OPEN)
            assert outcome["approve"] == "This prescription is no longer waiting for review."
