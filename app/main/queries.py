"""What each home page shows: a patient's next steps and medicines, staff members' queues with counts."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Role, User
from app.consultations.models import Consultation
from app.consultations.states import OPEN_STATUSES, ConsultationStatus
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import LotStatus, StockLot
from app.main.queues import counts_for, returned_prescriptions
from app.patients.models import Condition, ConditionStatus
from app.patients.queries import can_review_conditions
from app.prescribing.models import Prescription, PrescriptionItem, SupplyCategory
from app.prescribing.services import local_date
from app.prescribing.states import PrescriptionStatus
from app.review.models import PrescriptionReview

C = ConsultationStatus
P = PrescriptionStatus

# A supply this short (or less) is time to book the follow-up that renews it.
REFILL_DAYS = 7
# A completed consultation is offered for rating this long after it ended.
RATE_WITHIN = timedelta(days=30)
# Medicines that ran out longer ago than this are no longer "current".
RAN_OUT_SHOWN_DAYS = 30
# Approvals older than the longest supply (12 weeks) plus that grace cannot be current any more.
APPROVALS_SINCE = timedelta(days=84 + RAN_OUT_SHOWN_DAYS)
STOCK_ALERT_DAYS = 30
# The home lists at most this many consultations and prescriptions with a next step, newest first: a
# patient has a handful; the cap keeps the page flat whatever the data holds (the full lists are on
# the consultations and prescriptions pages).
HOME_SHOWN = 20


@dataclass
class Medicine:
    """One drug from the latest approved prescription containing it; `days_left` is an estimate."""

    item: PrescriptionItem
    prescription: Prescription
    approved_on: date
    days_left: int

    @property
    def needs_refill(self) -> bool:
        return self.days_left <= REFILL_DAYS


@dataclass
class PatientHome:
    phone_verified: bool
    has_phone: bool
    conditions: list[Condition]
    consultations: list[Consultation]
    prescriptions: list[Prescription]
    medicines: list[Medicine] = field(default_factory=list)
    today: date | None = None  # in the prescribing zone, where a prescription's last valid day is judged

    @property
    def pending_conditions(self) -> list[Condition]:
        return [c for c in self.conditions if c.status == ConditionStatus.PENDING]

    @property
    def verified_conditions(self) -> list[Condition]:
        return [c for c in self.conditions if c.status == ConditionStatus.VERIFIED]

    @property
    def refills(self) -> list[Medicine]:
        return [m for m in self.medicines if m.needs_refill]


def _zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def current_medicines(prescriptions: list[Prescription], zone: ZoneInfo, now: datetime) -> list[Medicine]:
    """Per drug, the latest approval wins: its days of supply minus the days since it was approved."""
    today = _local_date(now, zone)
    latest: dict[int, Medicine] = {}
    approved = [p for p in prescriptions if p.status == P.APPROVED and p.review and p.review.decided_at]
    for prescription in sorted(approved, key=lambda p: (p.review.decided_at, p.id)):
        approved_on = _local_date(prescription.review.decided_at, zone)
        for item in prescription.items:
            latest[item.drug_id] = Medicine(item, prescription, approved_on,
                                            item.days_supply - (today - approved_on).days)
    shown = [m for m in latest.values() if m.days_left > -RAN_OUT_SHOWN_DAYS]
    return sorted(shown, key=lambda m: (m.days_left, m.item.drug_id))


def patient_home(patient, now: datetime | None = None) -> PatientHome:
    """Four queries: conditions, consultations with a next step, recent prescriptions, their lines
    (with the conditions, doctors, reviews and drug names joined in)."""
    now = now or utcnow()
    conditions = list(db.session.scalars(
        select(Condition).where(Condition.patient_id == patient.id)
        .order_by(Condition.created_at, Condition.id)))
    consultations = list(db.session.scalars(
        select(Consultation).where(
            Consultation.patient_id == patient.id,
            or_(Consultation.status.in_(OPEN_STATUSES),
                (Consultation.status == C.COMPLETED) & Consultation.rated_at.is_(None)
                & (Consultation.ended_at >= now - RATE_WITHIN)))
        .options(joinedload(Consultation.condition, innerjoin=True),
                 joinedload(Consultation.doctor, innerjoin=True).load_only(User.display_name))
        .order_by(Consultation.created_at.desc(), Consultation.id.desc()).limit(HOME_SHOWN)))
    prescriptions = list(db.session.scalars(
        select(Prescription)
        .outerjoin(PrescriptionReview, PrescriptionReview.prescription_id == Prescription.id)
        .where(Prescription.patient_id == patient.id, or_(
            Prescription.status.in_((P.SIGNED, P.AWAITING_REVIEW, P.RETURNED)),
            (Prescription.status == P.APPROVED) & (PrescriptionReview.decided_at >= now - APPROVALS_SINCE),
            (Prescription.status == P.DRAFT) & (Prescription.supply_category == SupplyCategory.LONG)
            & Prescription.patient_confirmed_long_at.is_(None)))
        .options(selectinload(Prescription.items).joinedload(PrescriptionItem.drug, innerjoin=True)
                 .load_only(Drug.generic_name_en, Drug.generic_name_zh),
                 joinedload(Prescription.review), joinedload(Prescription.condition, innerjoin=True))
        .order_by(Prescription.created_at.desc(), Prescription.id.desc()).limit(HOME_SHOWN)))
    return PatientHome(
        phone_verified=patient.phone_verified_at is not None, has_phone=bool(patient.phone),
        conditions=conditions, consultations=consultations, prescriptions=prescriptions,
        medicines=current_medicines(prescriptions, _zone(patient), now), today=local_date(now))


def _stock_alerts(store_id: int | None, today: date) -> dict[str, int]:
    """Lots needing a pharmacist in one store: quarantined ones with stock, and ones expiring soon."""
    if store_id is None:
        return {}
    soon = (StockLot.status == LotStatus.AVAILABLE) & (
        StockLot.expiry_date <= today + timedelta(days=STOCK_ALERT_DAYS))
    quarantined, expiring = db.session.execute(
        select(func.coalesce(func.sum(case((StockLot.status == LotStatus.QUARANTINED, 1), else_=0)), 0),
               func.coalesce(func.sum(case((soon, 1), else_=0)), 0))
        .where(StockLot.store_id == store_id, StockLot.quantity_on_hand > 0)).one()
    return {"quarantined": int(quarantined), "expiring": int(expiring)}


def _pending_conditions() -> int:
    return db.session.scalar(select(func.count()).where(Condition.status == ConditionStatus.PENDING))


def staff_home(user) -> dict:
    """Counts (and for a doctor, the returned prescriptions themselves) for a staff member's home."""
    counts = dict(counts_for(user))
    home: dict = {"counts": counts}
    if user.role == Role.DOCTOR:
        counts["in_progress"] = db.session.scalar(select(func.count()).where(
            Consultation.doctor_id == user.id, Consultation.status == C.IN_PROGRESS))
        home["returned"] = returned_prescriptions(user) if counts.get("returned") else []
    if user.role in (Role.DOCTOR, Role.ADMIN) and can_review_conditions(user):
        counts["conditions"] = _pending_conditions()
    if user.role == Role.PHARMACIST:
        profile = user.pharmacist_profile
        store = profile.home_store if profile is not None else None
        home["store"] = store
        counts.update(_stock_alerts(store.id if store else None, store.today() if store else utcnow().date()))
    return home
