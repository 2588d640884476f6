"""Review at its time limits: a pharmacist's claim holds the prescription for 15 minutes (to the second),
and a prescription can be approved up to the last second of its last valid day, not at midnight after."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from app.database import utcnow
from app.errors import DomainError
from app.extensions import db as _db
from app.prescribing import services as rx
from app.prescribing.states import PrescriptionStatus
from app.review import services as review
from tests.review.conftest import AMLODIPINE

SHANGHAI = ZoneInfo("Asia/Shanghai")
HELD = timedelta(minutes=15)
A_SECOND = timedelta(seconds=1)


@pytest.fixture
def claimed(db, sign, pharmacists):
    """A prescription Pharmacist Wang claimed at a whole second; valid for days around it, so only the
    claim's age decides."""
    wang, _ = pharmacists
    prescription = sign(AMLODIPINE)
    prescription.valid_until = rx.local_date(prescription.signed_at) + timedelta(days=2)
    claimed_at = utcnow().replace(microsecond=0)
    review.claim(prescription, wang, now=claimed_at)
    _db.session.commit()
    return prescription, claimed_at


# ---- the claim -----------------------------------------------------------------------------------

def test_a_second_before_15_minutes_the_claim_still_holds(claimed, pharmacists):
    (prescription, claimed_at), (wang, zhao) = claimed, pharmacists
    now = claimed_at + HELD - A_SECOND
    assert review.holder(prescription.review, now) == wang
    with pytest.raises(DomainError) as refused:
        review.claim(prescription, zhao, now=now)
    assert str(refused.value.reasons[""]) == "Another pharmacist is reviewing this prescription."
    _db.session.rollback()
    assert review.sweep_abandoned_claims(100, now=now) == 0
    _db.session.commit()
    assert prescription.review.claimed_by_id == wang.id


def test_at_15_minutes_the_claim_is_free_for_another_pharmacist(claimed, pharmacists):
    (prescription, claimed_at), (_, zhao) = claimed, pharmacists
    now = claimed_at + HELD
    assert review.holder(prescription.review, now) is None
    review.claim(prescription, zhao, now=now)
    _db.session.commit()
    assert review.holder(prescription.review, now) == zhao


def test_at_15_minutes_the_worker_frees_the_abandoned_claim(claimed):
    prescription, claimed_at = claimed
    assert review.sweep_abandoned_claims(100, now=claimed_at + HELD) == 1
    _db.session.commit()
    assert prescription.review.claimed_by_id is None


def test_the_holder_decides_a_second_before_15_minutes_but_not_at_15(claimed, pharmacists):
    (prescription, claimed_at), (wang, _) = claimed, pharmacists
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "approved", now=claimed_at + HELD)
    assert str(refused.value.reasons[""]) == (
        "Claim the prescription before deciding; another pharmacist may hold it.")
    _db.session.rollback()
    review.decide(prescription, wang, "approved", now=claimed_at + HELD - A_SECOND)
    _db.session.commit()
    assert prescription.status == PrescriptionStatus.APPROVED


@pytest.mark.parametrize(("locale", "message"), [
    ("en", "The prescription is yours to review for 15 minutes."),
    ("zh", "您已认领此处方，请在15分钟内完成审核。"),
], ids=["en", "zh"])
def test_the_page_tells_the_pharmacist_the_claim_lasts_15_minutes(db, sign, pharmacists, as_user, locale,
                                                                  message):
    prescription = sign(AMLODIPINE)
    pharmacists[0].locale = locale
    response = as_user(pharmacists[0]).post(f"/reviews/{prescription.id}/claim", follow_redirects=True)
    assert message in response.get_data(as_text=True)


# ---- the prescription's last valid day -----------------------------------------------------------

def _claimed_on(prescription, pharmacist, moment: datetime) -> None:
    review.claim(prescription, pharmacist, now=moment)
    _db.session.commit()


def test_approved_in_the_last_second_of_its_last_valid_day(sign, pharmacists):
    wang, _ = pharmacists
    prescription = sign(AMLODIPINE)
    last_second = datetime.combine(prescription.valid_until, time(23, 59, 59), tzinfo=SHANGHAI)
    _claimed_on(prescription, wang, last_second - timedelta(minutes=5))
    review.decide(prescription, wang, "approved", now=last_second)
    _db.session.commit()
    assert prescription.status == PrescriptionStatus.APPROVED


def test_refused_at_midnight_after_its_last_valid_day_in_the_pharmacists_language(sign, pharmacists):
    wang, _ = pharmacists
    prescription = sign(AMLODIPINE)
    midnight = datetime.combine(prescription.valid_until + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
    _claimed_on(prescription, wang, midnight - timedelta(minutes=5))
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "approved", now=midnight)
    reason = refused.value.reasons["decision"]
    with force_locale("en"):
        assert str(reason) == ("This prescription has expired and can no longer be approved; return it to "
                               "the doctor.")
    with force_locale("zh"):
        assert str(reason) == "此处方已过期，不能再审核通过，请退回医生。"
    _db.session.rollback()
    assert prescription.status == PrescriptionStatus.AWAITING_REVIEW
    # Returning it is still possible: the doctor can then write a new one.
    review.decide(prescription, wang, "returned", reason_codes=["other"], note="Expired before review.",
                  now=midnight)
    _db.session.commit()
    assert prescription.status == PrescriptionStatus.RETURNED
