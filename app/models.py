"""Imports every model module so the metadata (and Alembic) sees every table."""

from app.accounts.models import (  # noqa: F401
    CourierProfile,
    DoctorProfile,
    PharmacistProfile,
    User,
    VerificationCode,
)
from app.audit.models import AuditEvent  # noqa: F401
from app.consultations.models import (  # noqa: F401
    Consultation,
    ConsultationAttachment,
    ConsultationMessage,
)
from app.delivery.models import Delivery, DeliveryEvent  # noqa: F401
from app.drugs.models import Drug, DrugIngredient  # noqa: F401
from app.inventory.models import (  # noqa: F401
    LotRecall,
    ReorderPoint,
    StockLot,
    StockMovement,
    StockTransfer,
    StockTransferLine,
    Store,
    StoreServiceCity,
)
from app.notifications.models import OutboundSms, SmsOptOut  # noqa: F401
from app.orders.models import Dispense, DispensedPack, Order, OrderLine  # noqa: F401
from app.outbox.models import OutboxEvent  # noqa: F401
from app.patients.models import Address, Allergy, Condition, Consent, PatientProfile, Upload  # noqa: F401
from app.payments.models import Payment, Refund, StripeEvent  # noqa: F401
from app.platform.models import ResearchToken  # noqa: F401
from app.prescribing.models import Prescription, PrescriptionItem  # noqa: F401
from app.reminders.models import DoseReminder, ReminderLine, ReminderPreference  # noqa: F401
from app.review.models import CheckFinding, PrescriptionReview  # noqa: F401
