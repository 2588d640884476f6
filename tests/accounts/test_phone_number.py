"""An account without a verified mobile number can add one and verify it, and so reach booking."""

from app.accounts.models import User
from tests.accounts.pages import ZH, audit_rows, run_worker, saved, signed_in, six_digits, text
from tests.factories import make_patient


def _fresh(db, user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_an_email_only_patient_adds_a_number_verifies_it_and_returns_to_the_step(app, db, web, sms_sent):
    patient = signed_in(web, make_patient(phone=None, phone_verified_at=None))
    asked = web.get("/accounts/verify-phone?next=/patients/conditions")
    assert asked.status_code == 302 and "/accounts/phone" in asked.location
    page = web.get(asked.location, follow=True)
    assert "Add your mobile number first" in text(page)

    sent = web.post(asked.location, {"phone": "138 0013 8000"})
    assert sent.status_code == 302 and "/accounts/verify-phone" in sent.location
    assert _fresh(db, patient).phone == "+8613800138000"
    assert _fresh(db, patient).phone_verified_at is None
    assert len(audit_rows(db, "phone.set")) == 1
    run_worker(app)
    assert sms_sent[-1][0] == "+8613800138000"

    verified = web.post(sent.location, {"code": six_digits(sms_sent[-1][1])})
    assert verified.status_code == 302 and verified.location.endswith("/patients/conditions")
    assert _fresh(db, patient).has_verified_phone


def test_a_bad_number_is_refused_on_the_field_and_nothing_is_kept(app, db, web, sms_sent):
    patient = signed_in(web, make_patient(phone=None, phone_verified_at=None))
    page = web.post("/accounts/phone", {"phone": "12"})
    assert page.status_code == 200
    assert "Enter a valid mobile number" in text(page)
    assert _fresh(db, patient).phone is None
    assert audit_rows(db, "phone.set") == []


def test_a_number_of_another_account_cannot_be_taken(app, db, web):
    other = make_patient(phone="+8613800138001")
    saved(other)
    patient = signed_in(web, make_patient(phone=None, phone_verified_at=None))
    page = web.post("/accounts/phone", {"phone": "138 0013 8001"})
    assert "This mobile number cannot be used for your account." in text(page)
    assert _fresh(db, patient).phone is None


def test_an_unverified_number_can_be_corrected(app, db, web):
    patient = signed_in(web, make_patient(phone="+8613800138002", phone_verified_at=None))
    assert "Correct the number" in text(web.get("/accounts/profile"))
    assert web.post("/accounts/phone", {"phone": "13800138003"}).status_code == 302
    assert _fresh(db, patient).phone == "+8613800138003"


def test_a_verified_number_is_not_replaced_here(app, db, web):
    patient = signed_in(web, make_patient())
    before = patient.phone
    answer = web.post("/accounts/phone", {"phone": "13800138004"})
    assert answer.status_code == 302 and answer.location.endswith("/accounts/profile")
    assert _fresh(db, patient).phone == before
    assert "Add a mobile number" not in text(web.get("/accounts/profile"))


def test_the_phone_page_speaks_chinese(app, db, web):
    signed_in(web, make_patient(phone=None, phone_verified_at=None, locale="zh"))
    profile = text(web.get("/accounts/profile", headers=ZH))
    assert "添加手机号码" in profile
    page = text(web.post("/accounts/phone", {"phone": "12"}, headers=ZH))
    assert "您的手机号码" in page and "Enter a valid mobile number" not in page
