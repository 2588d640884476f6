"""The SMS outbox in every status and the audit trail (about ten events per patient)."""

from datetime import UTC, datetime

from app.benchdata.world import World
from app.benchdata.writer import Batch

# Most texts are confirmed delivered by the carrier; a few are still only sent, or were withdrawn.
SMS_STATUS_WEIGHTS = {"delivered": 80, "sent": 10, "failed": 4, "queued": 2, "sending": 2, "undelivered": 1,
                      "cancelled": 1}
CARRIER_ERROR = 30003  # Twilio: unreachable destination handset
PURPOSES = ("phone_verification", "password_reset")
# Bodies as the templates render them; sent one-time codes are blanked (redacted) like the app does.
BODIES = {
    "phone_verification": "Internet Hospital: your verification code is {code}. It expires in 10 minutes. "
                          "Never share it.",
    "password_reset": "Internet Hospital: your password reset code is {code}. It expires in 10 minutes. "
                      "If you did not ask for it, ignore this message.",
}
ERRORS = ("Provider rejected the number (invalid destination).", "Provider timed out after 20 s.")
# (action, object type, who does it)
AUDIT_ACTIONS = (
    ("prescription.list_viewed", None, "patient"), ("consultation.viewed", "consultations", "patient"),
    ("prescription.viewed", "prescriptions", "patient"), ("consultation.viewed", "consultations", "doctor"),
    ("patient.profile.viewed", "users", "doctor"),
    ("prescription.review_viewed", "prescriptions", "pharmacist"),
    ("prescription.queue_viewed", "prescriptions", "pharmacist"), ("account.viewed", "users", "admin"),
)
BATCH = 50_000


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def write_sms(world: World) -> None:
    rng, clock, writer = world.rng, world.clock, world.writer
    statuses, weights = list(SMS_STATUS_WEIGHTS), list(SMS_STATUS_WEIGHTS.values())
    remaining, patients = world.volumes.sms, world.volumes.patients
    first_patient, now = world.patient_first, clock.now
    while remaining > 0:
        size = min(BATCH, remaining)
        first = writer.ids("outbound_sms", size)
        batch = Batch()
        add = batch.rows["outbound_sms"].append
        chosen = statuses[:size] if remaining == world.volumes.sms else []  # every status at least once
        for n, status in enumerate(chosen + rng.choices(statuses, weights, k=size - len(chosen))):
            user_id = first_patient + rng.randrange(patients)
            purpose = PURPOSES[n & 1]
            if status in ("sent", "delivered", "undelivered"):
                created = rng.randint(clock.start, now - 60)
                at = _at(created)
                reported = _at(created + 9) if status != "sent" else None
                add((first + n, user_id, world.phone(user_id), purpose, "", True, _at(created + 5), status, 1,
                     at, None, None, at, _at(created + 4), f"SM{first + n:030d}", None, "code", reported,
                     CARRIER_ERROR if status == "undelivered" else None))
            elif status in ("failed", "cancelled"):
                created = rng.randint(clock.start, now - 3_600)
                at = _at(created)
                error = ERRORS[n % 2] if status == "failed" else "the recipient opted out"
                add((first + n, user_id, world.phone(user_id), purpose, "", True, _at(created + 600), status,
                     5 if status == "failed" else 0, _at(created + 300), None, None, at, None, None, error,
                     "code", None, None))
            else:
                created = now - rng.randint(5, 120)
                body = BODIES[purpose].format(code=f"{rng.randrange(1_000_000):06d}")
                claimed = ((f"worker-{n % 4}@bench", _at(created + 120)) if status == "sending"
                           else (None, None))
                add((first + n, user_id, world.phone(user_id), purpose, body, True, None, status,
                     1 if status == "sending" else 0, _at(created), *claimed, _at(created), None, None, None,
                     "code", None, None))
        writer.flush(batch)
        remaining -= size


def write_audit(world: World) -> None:
    rng, clock, writer = world.rng, world.clock, world.writer
    remaining, patients = world.volumes.audit_events, world.volumes.patients
    staff = {"doctor": world.doctors, "pharmacist": world.pharmacists, "admin": world.admins}
    while remaining > 0:
        size = min(BATCH, remaining)
        first = writer.ids("audit_events", size)
        batch = Batch()
        add = batch.rows["audit_events"].append
        for n in range(size):
            patient = world.patient_first + rng.randrange(patients)
            action, object_type, role = AUDIT_ACTIONS[rng.randrange(len(AUDIT_ACTIONS))]
            actor = patient if role == "patient" else rng.choice(staff[role])
            if object_type == "users":
                object_id = str(patient)
            elif object_type:
                object_id = str(rng.randint(*writer.id_range(object_type)))
            else:
                object_id = None
            add((first + n, _at(rng.randint(clock.start, clock.now - 60)), actor, role, action, object_type,
                 object_id, patient, f"10.{n % 250}.{(n >> 8) % 250}.{rng.randint(1, 254)}", None))
        writer.flush(batch)
        remaining -= size
