"""Patient-record rules as the services enforce them: masking, consents, allergies, conditions, access."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.errors import DomainError, InvalidTransition
from app.patients import catalog, identity, queries, services
from app.patients.models import Condition, ConditionStatus, Consent, ConsentKind, Upload
from app.policy import patient_access_rules
from tests import factories
from tests.patients.conftest import PDF, PNG, VALID_ID, file_storage, make_condition, make_profile

ICD10_CODE = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(db, patient) -> list[str]:
    return db.session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)
                              .order_by(AuditEvent.id)).all()


@pytest.mark.parametrize(("number", "shown"), [
    ("11010519491231002X", "110***********002X"),
    ("E12345678", "*******78"),
    ("", ""),
    (None, ""),
])
def test_id_numbers_are_masked_to_the_first_three_and_last_four(number, shown):
    assert identity.mask_id_number(number) == shown


def test_id_numbers_are_normalised_and_a_wrong_check_digit_is_refused(app):
    with app.test_request_context():
        assert identity.normalise_id_number(" 1101 0519 4912 31002x ") == VALID_ID
        assert identity.normalise_id_number("E12345678") == "E12345678"  # a passport
        assert identity.normalise_id_number("") is None
        with pytest.raises(DomainError) as wrong_digit:
            identity.normalise_id_number("110105194912310021")
        assert "not valid" in str(wrong_digit.value.reasons["id_document_number"])
        with pytest.raises(DomainError):
            identity.normalise_id_number("AB-<script>")


def test_the_shipped_icd10_list_has_real_chronic_and_oncology_codes_in_both_languages():
    entries = catalog.icd10()
    assert len(entries) >= 80
    for code, entry in entries.items():
        assert ICD10_CODE.match(code), code
        assert entry.name_en and entry.name_zh, code
    assert entries["I10"].name_en == "Essential (primary) hypertension"
    assert entries["E11.9"].name_en == "Type 2 diabetes mellitus without complications"
    assert entries["C22.0"].name_en == "Liver cell carcinoma"
    assert entries["B18.1"].name_zh == "慢性乙型病毒性肝炎"
    assert entries["C92.1"].name("zh").startswith("慢性髓系白血病")
    assert sum(code.startswith("C") for code in entries) >= 25  # the DTP pharmacies are oncology-heavy


def test_the_shipped_allergy_classes_have_english_and_chinese_names():
    classes = catalog.allergy_classes()
    assert set(classes) == {"penicillins", "cephalosporins", "carbapenems", "sulfonamides", "nsaids",
                            "macrolides", "fluoroquinolones", "tetracyclines", "aminoglycosides",
                            "opioids", "iodinated_contrast", "statins", "ace_inhibitors"}
    assert catalog.allergy_class_name("penicillins", "zh") == "青霉素类"
    assert catalog.allergy_class_name("statins", "en") == "Statins"


def test_consent_is_granted_with_the_current_version_revoked_with_a_stamp_and_granted_again_as_a_new_row(db):
    patient = factories.make_patient()
    first = services.grant_consent(patient, ConsentKind.SMS_REMINDERS, ip="203.0.113.9")
    assert (first.version, first.revoked_at, first.ip) == ("2026-11", None, "203.0.113.9")
    assert first.granted_at is not None
    assert queries.active_consent(patient, "sms_reminders") == first
    with pytest.raises(DomainError):
        services.grant_consent(patient, ConsentKind.SMS_REMINDERS)

    services.revoke_consent(patient, "sms_reminders")
    assert first.revoked_at is not None and first.revoked_at >= first.granted_at
    assert queries.active_consent(patient, "sms_reminders") is None
    with pytest.raises(DomainError):
        services.revoke_consent(patient, "sms_reminders")

    second = services.grant_consent(patient, "sms_reminders")
    assert second.id != first.id and second.revoked_at is None
    assert queries.active_consent(patient, ConsentKind.DATA_SHARING) is None  # kinds are separate
    assert [c.id for c in queries.consent_history(patient)] == [second.id, first.id]
    assert audit_actions(db, patient) == ["consent.granted", "consent.revoked", "consent.granted"]


def test_accepting_a_new_consent_text_ends_the_grant_of_the_old_one(db, monkeypatch):
    patient = factories.make_patient()
    old = services.grant_consent(patient, "data_sharing")
    monkeypatch.setitem(services.CONSENT_VERSIONS, "data_sharing", "2027-03")
    new = services.grant_consent(patient, "data_sharing")
    assert old.revoked_at is not None and new.version == "2027-03" and new.revoked_at is None
    assert db.session.scalar(select(func.count()).select_from(Consent)
                             .where(Consent.patient_id == patient.id, Consent.revoked_at.is_(None))) == 1


def test_a_class_allergy_must_name_a_shipped_class_and_duplicates_are_refused(db):
    patient = factories.make_patient()
    allergy = services.add_allergy(patient, kind="class", substance="ignored", allergy_class="penicillins",
                                   reaction="Hives", severity="severe", recorded_by=patient)
    assert allergy.substance == "penicillins"
    with pytest.raises(DomainError) as unknown:
        services.add_allergy(patient, kind="class", substance="", allergy_class="antibiotics",
                             reaction="", severity="mild", recorded_by=patient)
    assert "allergy_class" in unknown.value.reasons
    with pytest.raises(DomainError) as duplicate:
        services.add_allergy(patient, kind="class", substance="", allergy_class="penicillins",
                             reaction="", severity="mild", recorded_by=patient)
    assert "already recorded" in str(duplicate.value.reasons["allergy_class"])
    services.withdraw_allergy(patient, allergy)
    assert queries.active_allergies(patient) == []
    # Once withdrawn it may be recorded again; the old row stays for the history.
    services.add_allergy(patient, kind="class", substance="", allergy_class="penicillins",
                         reaction="", severity="mild", recorded_by=patient)
    assert len(queries.active_allergies(patient)) == 1


def test_a_condition_failing_after_its_file_was_written_leaves_no_file(app, db, monkeypatch, upload_files):
    patient = factories.make_patient()
    make_profile(patient)
    before = upload_files()

    def broken_audit(*_args, **_kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(services, "record", broken_audit)
    with app.test_request_context(), pytest.raises(RuntimeError):
        services.add_condition(patient, icd10_code="I10", hospital="Ruijin", diagnosed_on=date(2020, 1, 1),
                               proof_file=file_storage(PDF, "record.pdf"), uploaded_by=patient)
    db.session.rollback()
    assert upload_files() == before
    assert count(db, Condition) == count(db, Upload) == 0


def test_condition_dates_cannot_be_in_the_future_or_before_birth_and_nothing_is_stored(app, db, upload_files):
    patient = factories.make_patient()
    make_profile(patient, date_of_birth=date(1980, 1, 1))
    before = upload_files()
    for when, message in ((date.today() + timedelta(days=2), "cannot be in the future"),
                          (date(1979, 12, 31), "before your date of birth")):
        with app.test_request_context(), pytest.raises(DomainError) as refused:
            services.add_condition(patient, icd10_code="E11.9", hospital="Ruijin", diagnosed_on=when,
                                   proof_file=file_storage(PDF, "r.pdf"), uploaded_by=patient)
        assert message in str(refused.value.reasons["diagnosed_on"])
    assert upload_files() == before
    assert count(db, Upload) == 0


def test_only_one_reviewer_decides_a_condition(db):
    patient = factories.make_patient()
    condition = make_condition(patient)
    first, second = factories.make_user(Role.DOCTOR), factories.make_user(Role.ADMIN)
    services.review_condition(condition, first, verify=True, note="")
    assert (condition.status, condition.reviewed_by_id) == (ConditionStatus.VERIFIED, first.id)
    assert condition.reviewed_at is not None
    with pytest.raises(InvalidTransition):
        services.review_condition(condition, second, verify=False, note="Blurred scan")
    db.session.expire_all()
    assert condition.status == ConditionStatus.VERIFIED and condition.review_note is None
    assert queries.verified_conditions(patient) == [condition]


def test_rejecting_needs_a_note(db):
    condition = make_condition(factories.make_patient())
    with pytest.raises(DomainError) as refused:
        services.review_condition(condition, factories.make_user(Role.ADMIN), verify=False, note="  ")
    assert "note" in refused.value.reasons
    assert condition.status == ConditionStatus.PENDING


def test_who_may_open_an_uploaded_proof(db, monkeypatch):
    owner, stranger = factories.make_patient(), factories.make_patient()
    condition = make_condition(owner, data=PNG, name="scan.png")
    upload = condition.proof
    doctor = factories.make_user(Role.DOCTOR)
    unverified = factories.make_user(Role.DOCTOR)
    unverified.doctor_profile.is_verified = False
    pharmacist, admin = factories.make_user(Role.PHARMACIST), factories.make_user(Role.ADMIN)

    assert queries.can_view_upload(owner, upload)
    assert queries.can_view_upload(admin, upload)
    assert queries.can_view_upload(doctor, upload)  # reviewing the pending proof
    assert not queries.can_view_upload(unverified, upload)
    assert not queries.can_view_upload(stranger, upload)
    assert not queries.can_view_upload(pharmacist, upload)

    services.review_condition(condition, doctor, verify=True, note="")
    assert not queries.can_view_upload(doctor, upload)  # decided: no longer the doctor's business
    assert queries.can_view_upload(admin, upload)

    # Another feature's access rule ("a doctor sees patients of their consultations") is honoured.
    monkeypatch.setattr("app.policy.patient_access_rules",
                        [*patient_access_rules, lambda user, pid: user.id == doctor.id and pid == owner.id])
    assert queries.can_view_upload(doctor, upload)
    assert not queries.can_view_upload(pharmacist, upload)

    owner.is_active = False
    assert not queries.can_view_upload(owner, upload)


def test_withdrawing_ends_every_grant_still_in_force(db):
    patient = factories.make_patient()
    # Two grants in force, as a double submit before the per-patient lock existed could leave.
    db.session.add_all([Consent(patient_id=patient.id, kind=ConsentKind.DATA_SHARING, version="2026-11")
                        for _ in range(2)])
    db.session.flush()
    services.revoke_consent(patient, "data_sharing")
    assert all(c.revoked_at is not None for c in queries.consent_history(patient))
    assert queries.active_consent(patient, "data_sharing") is None
