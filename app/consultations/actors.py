"""Who may act on a consultation: checked in the services themselves, not only by the views in front."""

from flask_babel import lazy_gettext as _l

from app.accounts.models import Role
from app.errors import DomainError


def require_patient(consultation, user) -> None:
    """The consultation's own patient (workers and other features call the services too)."""
    if user is None or user.role != Role.PATIENT or user.id != consultation.patient_id:
        raise DomainError(_l("Only the patient of this consultation can do this."))


def require_doctor(consultation, user) -> None:
    """The doctor the consultation is assigned to, with an active account."""
    if user is None or user.role != Role.DOCTOR or not user.is_active or user.id != consultation.doctor_id:
        raise DomainError(_l("Only the doctor of this consultation can do this."))


def require_participant(consultation, user) -> None:
    if user is not None and user.role == Role.PATIENT:
        require_patient(consultation, user)
    else:
        require_doctor(consultation, user)


def require_verified_phone(patient, refusal) -> None:
    """Booking and paying are for patients whose mobile number is verified: the doctor, the pharmacy
    and the courier reach them on it, and the SMS code is what ties the account to a person."""
    if patient is None or patient.phone_verified_at is None:
        raise DomainError(refusal)


PHONE_UNVERIFIED_BOOKING = _l("Verify your mobile number before booking a consultation.")
PHONE_UNVERIFIED_PAYMENT = _l("Verify your mobile number before paying.")
