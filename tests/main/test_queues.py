"""The queue counts behind the navigation badges, the endpoint live.js polls, and returned prescriptions
flagged on the doctor's queue and home."""

import pytest
from sqlalchemy import event, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.consultations import services as consultations
from app.extensions import db as _db
from app.main.queues import counts_and_version, counts_for
from app.review import services as review
from tests import factories
from tests.main.conftest import decide, revise_and_sign, sign


class StatementCounter:
    """Counts the statements that read or write rows (not the test's savepoints)."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.count += 1


def test_doctor_counts_paid_consultations_waiting_for_them_only(flow):
    doctor = flow.doctor()
    assert counts_for(doctor) == {"consultations": 0, "returned": 0}
    unpaid = flow.book(doctor=doctor)  # not in the queue until paid
    assert counts_for(doctor)["consultations"] == 0
    first = flow.paid(doctor=doctor)
    assert counts_for(doctor)["consultations"] == 1
    flow.paid()  # another doctor's patient
    flow.paid(doctor=doctor)
    assert counts_for(doctor)["consultations"] == 2
    consultations.accept(first, doctor)
    _db.session.commit()
    assert counts_for(doctor)["consultations"] == 1
    assert unpaid.status == "awaiting_payment"


def test_doctor_counts_their_returned_prescriptions_until_revised(visit, pharmacist):
    doctor = visit.doctor
    prescription = sign(visit)
    assert counts_for(doctor)["returned"] == 0
    decide(prescription, pharmacist, "returned", reason_codes=["dose"])
    assert counts_for(doctor)["returned"] == 1
    assert counts_for(factories.make_user(Role.DOCTOR))["returned"] == 0
    revise_and_sign(prescription, doctor)
    assert counts_for(doctor)["returned"] == 0


def test_pharmacist_counts_prescriptions_waiting_for_review(visit, pharmacist):
    assert counts_for(pharmacist) == {"review": 0}
    first = sign(visit)
    assert counts_for(pharmacist) == {"review": 1}
    sign(visit)
    assert counts_for(pharmacist) == {"review": 2}
    decide(first, pharmacist, "approved")
    assert counts_for(pharmacist) == {"review": 1}


@pytest.mark.parametrize("role", [Role.PATIENT, Role.COURIER, Role.ADMIN])
def test_roles_without_a_queue_get_no_counts(db, role):
    assert counts_for(factories.make_user(role)) == {}
    assert counts_and_version(factories.make_user(role)) == ({}, "")


def test_the_version_changes_with_what_the_queue_page_shows(visit, pharmacist):
    empty = counts_and_version(pharmacist)[1]
    prescription = sign(visit)
    added = counts_and_version(pharmacist)[1]
    assert added != empty
    assert counts_and_version(pharmacist)[1] == added  # nothing changed: same version
    review.claim(prescription, pharmacist)  # "being reviewed by" appears: same count, new version
    _db.session.commit()
    claimed = counts_and_version(pharmacist)
    assert claimed[0] == {"review": 1} and claimed[1] != added


def test_counts_are_a_fixed_handful_of_aggregate_queries(visit, pharmacist):
    for _ in range(3):
        sign(visit)
    _loaded = pharmacist.role, visit.doctor.role  # read before counting: only the counts are measured
    with StatementCounter(_db.engine) as pharmacist_sql:
        counts_and_version(pharmacist)
    with StatementCounter(_db.engine) as doctor_sql:
        counts_and_version(visit.doctor)
    assert pharmacist_sql.count == 1
    assert doctor_sql.count == 2  # the queue and the other consultations share one statement


# ---- the endpoint ---------------------------------------------------------------------------------

def test_anonymous_polling_is_refused(client):
    response = client.get("/queues/counts", headers={"Accept": "application/json"})
    assert response.status_code == 401
    page = client.get("/queues/counts", headers={"Accept": "text/html"})
    assert page.status_code == 302 and "/accounts/login" in page.headers["Location"]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.COURIER, Role.ADMIN])
def test_roles_without_a_queue_poll_an_empty_answer(client, login_as, role):
    login_as(role)
    response = client.get("/queues/counts")
    assert response.status_code == 200
    assert response.get_json() == {"counts": {}, "version": ""}


def test_a_pharmacist_polls_the_review_count_and_writes_no_audit_row(visit, pharmacist, as_user):
    browser = as_user(pharmacist)
    by_pharmacist = select(_db.func.count(AuditEvent.id)).where(AuditEvent.actor_id == pharmacist.id)
    before = _db.session.scalar(by_pharmacist)
    first = browser.get("/queues/counts").get_json()
    assert first["counts"] == {"review": 0}
    sign(visit)
    second = browser.get("/queues/counts")
    assert second.get_json()["counts"] == {"review": 1}
    assert second.get_json()["version"] != first["version"]
    assert second.headers["Cache-Control"] == "no-store"
    assert _db.session.scalar(by_pharmacist) == before  # polling reads no patient data
    assert str(visit.patient.display_name) not in second.get_data(as_text=True)


def test_a_doctor_polls_their_queue_and_returned_counts(flow, as_user):
    doctor = flow.doctor()
    browser = as_user(doctor)
    assert browser.get("/queues/counts").get_json()["counts"] == {"consultations": 0, "returned": 0}
    flow.paid(doctor=doctor)
    assert browser.get("/queues/counts").get_json()["counts"] == {"consultations": 1, "returned": 0}


# ---- the pages ------------------------------------------------------------------------------------

def test_queue_pages_are_live_regions_that_load_the_polling_script(visit, pharmacist, as_user):
    for user, path, region in ((pharmacist, "/reviews/", "review-queue"),
                               (visit.doctor, "/consultations/queue", "consultation-queue")):
        page = as_user(user).get(path).get_data(as_text=True)
        assert f'data-live-region="{region}"' in page
        assert 'src="/static/js/live.js"' in page
        assert 'data-live-version="' in page and 'data-live-version=""' not in page
        assert "<script>" not in page  # the policy allows no inline script


def test_a_returned_prescription_is_flagged_on_the_doctors_queue_and_home(visit, pharmacist, as_user):
    prescription = sign(visit)
    doctor = as_user(visit.doctor)
    assert "Returned by the pharmacist" not in doctor.get("/consultations/queue").get_data(as_text=True)
    decide(prescription, pharmacist, "returned", reason_codes=["dose"])

    queue = doctor.get("/consultations/queue").get_data(as_text=True)
    assert "Returned by the pharmacist" in queue
    assert "Dose or frequency inappropriate" in queue
    assert f'href="/prescriptions/{prescription.id}"' in queue

    home = doctor.get("/").get_data(as_text=True)
    assert "Returned by the pharmacist" in home
    assert visit.patient.display_name in home  # the home audits the patients it names
    assert f'data-returned-prescription="{prescription.id}"' in home
    assert _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "prescription.returned_listed",
                                                       AuditEvent.patient_id == visit.patient.id)) is not None

    revise_and_sign(prescription, visit.doctor)
    assert "Returned by the pharmacist" not in doctor.get("/consultations/queue").get_data(as_text=True)
    assert "Returned by the pharmacist" not in doctor.get("/").get_data(as_text=True)


def test_the_returned_flag_reads_in_chinese(visit, pharmacist, as_user):
    prescription = sign(visit)
    decide(prescription, pharmacist, "returned", reason_codes=["dose"])
    visit.doctor.locale = "zh"
    page = as_user(visit.doctor).get("/consultations/queue").get_data(as_text=True)
    assert "药师退回" in page
    assert "Returned by the pharmacist" not in page


def test_the_doctors_version_follows_every_list_of_the_queue_page(flow):
    """Accepting, declining and completing each change the version; the summary covers the open work
    only, so the consultations a doctor ended long ago cost nothing."""
    doctor = flow.doctor()
    waiting, declined = flow.paid(doctor=doctor), flow.paid(doctor=doctor)
    versions = [counts_and_version(doctor)[1]]
    consultations.accept(waiting, doctor)  # waiting -> in progress
    _db.session.commit()
    versions.append(counts_and_version(doctor)[1])
    consultations.decline(declined, doctor, "Needs an in-person visit first.")  # waiting -> ended
    _db.session.commit()
    versions.append(counts_and_version(doctor)[1])
    consultations.save_note(waiting, doctor, complaint="Dizzy mornings", findings="BP 150/95",
                            assessment="Hypertension, not at goal", plan="Raise the dose")
    consultations.complete(waiting, doctor)  # in progress -> ended
    _db.session.commit()
    versions.append(counts_and_version(doctor)[1])
    assert len(set(versions)) == len(versions), versions
    assert counts_and_version(doctor)[1] == versions[-1]  # nothing changed since: the same version
