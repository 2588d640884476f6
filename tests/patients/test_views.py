"""The patient's own record as they use it: profile and ID masking, addresses, consents, allergies."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.patients.models import Address, Allergy, Consent, PatientProfile
from tests.patients.conftest import VALID_ID, make_profile

MASKED_ID = "110***********002X"


def text(response) -> str:
    return response.get_data(as_text=True)


def profile_form(**fields) -> dict:
    data = dict(legal_name="Wang Fang", sex="female", date_of_birth="1970-03-14",
                id_document_number=VALID_ID, time_zone="Asia/Shanghai")
    data.update(fields)
    return data


def address_form(**fields) -> dict:
    data = dict(recipient="Wang Fang", phone="138 0013 8000", province="Shanghai", city="Shanghai",
                district="Xuhui", street="88 Tianyaoqiao Road, Room 1201", postal_code="200030")
    data.update(fields)
    return data


def audit(db, action: str, patient) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.patient_id == patient.id)).all()


def fresh(db, model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def test_patient_saves_the_profile_sees_the_id_masked_and_an_admin_sees_it_in_full(db, person):
    web, patient = person("patient")
    response = web.post("/patients/profile", profile_form(time_zone="Europe/Berlin"), follow=True)
    page = text(response)
    assert "Your profile has been saved." in page
    assert MASKED_ID in page and VALID_ID not in page  # not even in the input's value
    profile = fresh(db, PatientProfile, patient.id)
    assert (profile.legal_name, profile.id_document_number) == ("Wang Fang", VALID_ID)
    assert fresh(db, User, patient.id).time_zone == "Europe/Berlin"
    [saved] = audit(db, "patient.profile.updated", patient)
    assert saved.detail == "created,time_zone" and VALID_ID not in saved.detail
    assert audit(db, "patient.profile.viewed", patient)

    admin_web, _admin = person("admin")
    admin_page = admin_web.page(f"/admin/users/{patient.id}")
    assert VALID_ID in admin_page and "Wang Fang" in admin_page


def test_the_profile_page_shows_the_account_details_read_only(person):
    web, _patient = person("patient", email="fang@example.test", phone="+8613900001111")
    page = web.page("/patients/profile")
    assert "fang@example.test" in page and "+86139****1111" in page
    assert "Verified" in page and "Asia/Shanghai" in page and "English" in page


def test_an_empty_id_field_keeps_the_number_on_file(db, person):
    web, patient = person("patient")
    make_profile(patient)
    db.session.commit()
    page = web.page("/patients/profile")
    assert f"On file: {MASKED_ID}. Leave empty to keep it." in page and VALID_ID not in page
    web.post("/patients/profile", profile_form(legal_name="Wang Fang-Li", id_document_number=""))
    profile = fresh(db, PatientProfile, patient.id)
    assert (profile.legal_name, profile.id_document_number) == ("Wang Fang-Li", VALID_ID)


@pytest.mark.parametrize(("fields", "chinese"), [
    ({"date_of_birth": "2999-01-01"}, "出生日期不能晚于今天。"),
    ({"id_document_number": "110105194912310021"}, "该居民身份证号码无效，请核对。"),
    ({"time_zone": "Mars/Olympus_Mons"}, "请从列表中选择时区。"),
    ({"date_of_birth": "14/03/1970"}, "请输入日期，例如 2024-05-31。"),
    ({"legal_name": ""}, "此项为必填项。"),
])
def test_a_bad_profile_is_refused_in_chinese_and_nothing_is_saved(db, person, fields, chinese):
    web, patient = person("patient", language="zh-CN,zh;q=0.9", locale="zh")
    response = web.post("/patients/profile", profile_form(**fields))
    assert response.status_code == 200
    assert chinese in text(response)
    assert fresh(db, PatientProfile, patient.id) is None
    assert fresh(db, User, patient.id).time_zone == "Asia/Shanghai"
    assert audit(db, "patient.profile.updated", patient) == []


def addresses(db, patient) -> list[Address]:
    db.session.expire_all()
    return db.session.scalars(select(Address).where(Address.patient_id == patient.id)
                              .order_by(Address.id)).all()


def test_addresses_are_added_made_default_and_removed_softly(db, person):
    web, patient = person("patient")
    assert web.post("/patients/addresses", address_form()).status_code == 302
    web.post("/patients/addresses", address_form(street="1 Century Avenue", phone="+86 139 0000 2222"))
    home, office = addresses(db, patient)
    assert home.is_default and not office.is_default  # the first address is the default
    assert office.phone == "+8613900002222"

    page = text(web.post(f"/patients/addresses/{office.id}/default", follow=True))
    assert "This is now your default delivery address." in page
    home, office = addresses(db, patient)
    assert office.is_default and not home.is_default

    page = text(web.post(f"/patients/addresses/{office.id}/remove", follow=True))
    assert "The address has been removed." in page and "1 Century Avenue" not in page
    home, office = addresses(db, patient)
    assert (office.is_active, office.is_default) == (False, False)  # kept for past deliveries
    assert home.is_default  # the remaining address takes over
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == patient.id, AuditEvent.action.like("address.%"))
        .order_by(AuditEvent.id))] == ["address.added", "address.added", "address.default_set",
                                       "address.removed"]


def test_a_bad_address_shows_its_reasons_and_saves_nothing(db, person):
    web, patient = person("patient")
    response = web.post("/patients/addresses", address_form(phone="12345", postal_code="2000"))
    page = text(response)
    assert response.status_code == 200
    assert "Enter a valid mobile number, e.g. 138 0013 8000." in page
    assert "Enter a 6-digit postal code." in page
    assert addresses(db, patient) == []


def test_another_patient_cannot_touch_my_address(db, person):
    web, patient = person("patient")
    web.post("/patients/addresses", address_form())
    [address] = addresses(db, patient)
    other, _ = person("patient")
    assert other.post(f"/patients/addresses/{address.id}/remove").status_code == 404
    assert other.post(f"/patients/addresses/{address.id}/default").status_code == 404
    assert "88 Tianyaoqiao Road" not in other.page("/patients/profile")
    assert addresses(db, patient)[0].is_active


def consents(db, patient) -> list[Consent]:
    db.session.expire_all()
    return db.session.scalars(select(Consent).where(Consent.patient_id == patient.id)
                              .order_by(Consent.id)).all()


def test_consent_is_given_withdrawn_and_given_again_with_version_and_history(db, person):
    web, patient = person("patient")
    page = web.page("/patients/profile")
    assert page.count("Not given") == 3  # data sharing, SMS reminders, linking with hospital records

    page = text(web.post("/patients/consents/grant", {"kind": "sms_reminders"}, follow=True))
    assert "Thank you. Your consent has been recorded." in page
    [first] = consents(db, patient)
    assert (first.kind, first.version, first.revoked_at) == ("sms_reminders", "2026-11", None)
    assert page.count("Not given") == 2

    page = text(web.post("/patients/consents/grant", {"kind": "sms_reminders"}, follow=True))
    assert "You have already given this consent." in page
    assert len(consents(db, patient)) == 1

    page = text(web.post("/patients/consents/revoke", {"kind": "sms_reminders"}, follow=True))
    assert "Your consent has been withdrawn." in page
    [first] = consents(db, patient)
    assert first.revoked_at is not None

    web.post("/patients/consents/grant", {"kind": "sms_reminders"})
    first, second = consents(db, patient)
    assert first.revoked_at is not None and second.revoked_at is None
    assert second.granted_at >= first.revoked_at
    page = web.page("/patients/profile")
    assert "Consent history" in page and page.count("2026-11") >= 3  # two history rows and the texts
    assert web.post("/patients/consents/grant", {"kind": "marketing"}).status_code == 400


def test_consents_page_in_chinese(person):
    web, _patient = person("patient", language="zh-CN", locale="zh")
    web.post("/patients/consents/grant", {"kind": "data_sharing"})
    page = web.page("/patients/profile")
    assert "知情同意" in page and "与数据平台共享" in page and "已同意" in page
    assert "回复TD退订" in page


def test_consent_buttons_are_protected_against_cross_site_requests(app, db, person):
    web, patient = person("patient")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = web.post("/patients/consents/grant", {"kind": "data_sharing"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 303
    assert consents(db, patient) == []


def allergies(db, patient) -> list[Allergy]:
    db.session.expire_all()
    return db.session.scalars(select(Allergy).where(Allergy.patient_id == patient.id)
                              .order_by(Allergy.id)).all()


def test_patient_adds_a_class_and_a_drug_allergy_and_withdraws_one(db, person):
    web, patient = person("patient")
    page = text(web.post("/patients/allergies", {"kind": "class", "allergy_class": "penicillins",
                                                  "reaction": "Hives", "severity": "severe"}, follow=True))
    assert "The allergy has been added." in page and "Penicillins" in page and "Hives" in page
    web.post("/patients/allergies", {"kind": "drug", "substance": "Carbamazepine", "severity": "anaphylaxis"})
    penicillins, carbamazepine = allergies(db, patient)
    assert (penicillins.kind, penicillins.substance, penicillins.recorded_by_id) == ("class", "penicillins",
                                                                                     patient.id)
    assert (carbamazepine.substance, carbamazepine.severity) == ("Carbamazepine", "anaphylaxis")

    page = text(web.post(f"/patients/allergies/{carbamazepine.id}/withdraw", follow=True))
    assert "The allergy has been withdrawn." in page and "Carbamazepine" not in page
    _, carbamazepine = allergies(db, patient)
    assert carbamazepine.is_active is False  # withdrawn, never deleted
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == patient.id, AuditEvent.action.like("allergy.%")).order_by(AuditEvent.id))
        if e.action != "allergy.listed"] == ["allergy.added", "allergy.added", "allergy.withdrawn"]


def test_allergy_mistakes_are_explained_in_chinese(db, person):
    web, patient = person("patient", language="zh-CN", locale="zh")
    web.post("/patients/allergies", {"kind": "class", "allergy_class": "nsaids", "severity": "mild"})
    assert "非甾体抗炎药" in web.page("/patients/allergies")
    page = text(web.post("/patients/allergies", {"kind": "class", "allergy_class": "", "severity": "mild"}))
    assert "请从列表中选择药物类别。" in page
    page = text(web.post("/patients/allergies", {"kind": "drug", "substance": " ", "severity": "mild"}))
    assert "请填写药品或成分名称。" in page
    page = text(web.post("/patients/allergies", {"kind": "class", "allergy_class": "nsaids",
                                                 "severity": "mild"}))
    assert "该过敏史已记录。" in page
    assert len(allergies(db, patient)) == 1


def test_another_patient_cannot_see_or_withdraw_my_allergy(db, person):
    web, patient = person("patient")
    web.post("/patients/allergies", {"kind": "drug", "substance": "Warfarin", "severity": "moderate"})
    [allergy] = allergies(db, patient)
    other, _ = person("patient")
    assert "Warfarin" not in other.page("/patients/allergies")
    assert other.post(f"/patients/allergies/{allergy.id}/withdraw").status_code == 404
    assert allergies(db, patient)[0].is_active


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_refused_button_press_says_why_changes_nothing_and_leaves_an_audit_row(db, person, language):
    web, patient = person("patient", language=language, locale=language)
    web.post("/patients/addresses", address_form())
    [address] = db.session.scalars(select(Address).where(Address.patient_id == patient.id)).all()
    web.post(f"/patients/addresses/{address.id}/remove")

    page = text(web.post(f"/patients/addresses/{address.id}/remove", follow=True))
    assert ("该地址已删除。" if language == "zh" else "This address has been removed.") in page
    assert len(audit(db, "address.removed", patient)) == 1
    [refused] = audit(db, "address.remove_refused", patient)
    assert refused.object_id == str(address.id)
    assert fresh(db, Address, address.id).is_active is False
