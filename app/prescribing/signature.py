"""What an e-signature covers: the canonical bytes of a prescription version and their SHA-256."""

import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from app.drugs.models import format_decimal
from app.prescribing.models import Prescription


def _stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def canonical_content(prescription: Prescription) -> bytes:
    """What the signature covers, as sorted, compact JSON: the same bytes on every database."""
    condition = prescription.condition
    content = {
        "prescription": {"consultation_id": prescription.consultation_id, "version": prescription.version,
                         "previous_version_id": prescription.previous_version_id},
        "patient": {"id": prescription.patient_id},
        "doctor": {"id": prescription.doctor_id, "signed_by": prescription.signed_by_id},
        "condition": {"id": condition.id, "icd10_code": condition.icd10_code, "name": condition.name},
        "supply": {"category": str(prescription.supply_category),
                   "chronic_reason": prescription.chronic_reason,
                   "long_assessment": prescription.long_assessment},
        "times": {"signed_at": _stamp(prescription.signed_at),
                  "patient_confirmed_long_at": _stamp(prescription.patient_confirmed_long_at)},
        "items": [{"position": i.position, "drug_id": i.drug_id, "drug_code": i.drug.code,
                   "dose": format_decimal(i.dose), "dose_unit": str(i.dose_unit), "route": str(i.route),
                   "frequency": str(i.frequency), "max_doses_per_day": i.max_doses_per_day,
                   "times_of_day": i.times_of_day, "duration_days": i.duration_days,
                   "instructions": i.instructions, "quantity_packs": i.quantity_packs,
                   "days_supply": i.days_supply}
                  for i in sorted(prescription.items, key=lambda i: i.position)],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(prescription: Prescription) -> str:
    return hashlib.sha256(canonical_content(prescription)).hexdigest()


def verify_signature(prescription: Prescription) -> bool:
    stored = prescription.content_sha256
    return stored is not None and stored == content_hash(prescription)
