"""The pages bench/load.py drives, found in the seeded database, and their SQL statements per request."""

from dataclasses import dataclass

from sqlalchemy import event, select

from app import create_app
from app.accounts.models import User
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.extensions import db
from app.prescribing.models import Prescription
from app.review.models import PrescriptionReview
from app.review.states import ReviewStatus


@dataclass(frozen=True)
class Page:
    role: str
    label: str
    path: str
    method: str = "GET"
    body: str = ""  # a form body for POST; {csrf} is replaced by the session's token


def _app(url: str):
    return create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                                      "WTF_CSRF_ENABLED": False})


def discover(url: str, accounts: dict[str, str]) -> tuple[list[Page], dict]:
    """The pages each role opens most, with ids of objects that role may see."""
    app = _app(url)
    with app.app_context():
        users = {role: db.session.scalar(select(User).where(User.email == email))
                 for role, email in accounts.items()}
        missing = [accounts[role] for role, user in users.items() if user is None]
        if missing:
            raise SystemExit(f"No such accounts (seed with `flask bench seed` first): {', '.join(missing)}")
        patient, doctor, pharmacist = users["patient"], users["doctor"], users["pharmacist"]
        open_visit = db.session.scalar(
            select(Consultation.id).where(Consultation.patient_id == patient.id,
                                          Consultation.status == ConsultationStatus.IN_PROGRESS)
            .order_by(Consultation.id.desc()).limit(1))
        doctors_visit = db.session.scalar(
            select(Consultation.id).where(Consultation.doctor_id == doctor.id,
                                          Consultation.status == ConsultationStatus.IN_PROGRESS)
            .order_by(Consultation.id.desc()).limit(1))
        prescription = db.session.scalar(
            select(Prescription.id).where(Prescription.patient_id == patient.id,
                                          Prescription.signed_at.is_not(None))
            .order_by(Prescription.id.desc()).limit(1))
        queued = db.session.scalar(
            select(PrescriptionReview.prescription_id).where(PrescriptionReview.status == ReviewStatus.OPEN)
            .order_by(PrescriptionReview.queued_at, PrescriptionReview.id).limit(1))
        store = pharmacist.pharmacist_profile.home_store_id
    ids = dict(open_visit=open_visit, doctors_visit=doctors_visit, prescription=prescription, queued=queued,
               store=store)
    pages = [
        Page("patient", "patient: home", "/"),
        Page("patient", "patient: consultations", "/consultations/"),
        Page("patient", "patient: prescriptions", "/prescriptions/"),
        Page("patient", "patient: prescription", f"/prescriptions/{prescription}"),
        Page("patient", "patient: consultation", f"/consultations/{open_visit}"),
        Page("patient", "patient: chat poll",
             f"/consultations/{open_visit}/messages?after=2147483647&state=x"),
        Page("patient", "patient: send a message", f"/consultations/{open_visit}/messages", "POST",
             "csrf_token={csrf}&body=Still+taking+it+twice+a+day."),
        Page("doctor", "doctor: queue", "/consultations/queue"),
        Page("doctor", "doctor: consultation + record", f"/consultations/{doctors_visit}"),
        Page("doctor", "doctor: queue poll", "/queues/counts"),
        Page("pharmacist", "pharmacist: review queue", "/reviews/"),
        Page("pharmacist", "pharmacist: review page", f"/reviews/{queued}"),
        Page("pharmacist", "pharmacist: store stock", f"/stock/stores/{store}"),
        Page("admin", "admin: users", "/admin/users"),
        Page("admin", "admin: audit", "/audit/"),
        Page("admin", "admin: near expiry", "/stock/near-expiry"),
        Page("courier", "courier: home", "/"),
    ]
    return [page for page in pages if "None" not in page.path], ids


def count_statements(url: str, pages: list[Page], accounts: dict[str, str], password: str) -> dict[str, int]:
    """SQL statements of one request of each page, counted in-process against the same database
    (a POST is counted once too, so the action writes one row here)."""
    app = _app(url)
    counts = {}
    with app.app_context():
        engine = db.engine
    # Requests run outside that context: inside it the test client would share one session (and its
    # identity map) across requests, and count fewer statements than a real request issues.
    for role in {page.role for page in pages}:
        client = app.test_client()
        answer = client.post("/accounts/login", data={"identifier": accounts[role], "password": password})
        if answer.status_code != 302:
            raise SystemExit(f"{accounts[role]} could not sign in in-process")
        for page in (p for p in pages if p.role == role):
            seen = []

            def count(*_args, seen=seen):
                seen.append(1)

            event.listen(engine, "before_cursor_execute", count)
            try:
                if page.method == "POST":
                    answer = client.post(page.path, data={"body": "Still taking it twice a day."})
                else:
                    answer = client.get(page.path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            if answer.status_code >= 400:
                raise SystemExit(f"{page.label}: HTTP {answer.status_code} in-process")
            counts[page.label] = len(seen)
    return counts
