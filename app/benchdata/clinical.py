"""Consultations in every status, with the messages of those that reached a doctor and their payments."""

from app.benchdata.volumes import DAY, RECENT_DAYS
from app.benchdata.world import World
from app.benchdata.writer import Batch, moment
from app.limits import QUEUE_SHOWN

# Consultations still open are the last few days' (a doctor accepts within hours, or it expires): a
# fraction of a percent of two years of them, a few hundred to a few thousand across the chain.
STATUS_WEIGHTS = {"completed": 50, "referred": 5, "in_progress": 0.3, "waiting": 0.3, "awaiting_payment": 0.2,
                  "cancelled": 10, "declined": 6, "expired": 12}
REACHED = frozenset({"in_progress", "completed", "referred"})
REASONS = ("Blood pressure readings higher this month; asking whether to change the dose.",
           "Running out of my regular medicine; would like a repeat prescription.",
           "New side effect since the last visit (mild dizziness in the mornings).",
           "Latest lab results attached; follow-up as agreed at the clinic.")
PATIENT_LINES = ("Good morning doctor, my readings are in the attachment.",
                 "I have been taking it twice a day.", "No new symptoms apart from some tiredness.",
                 "Thank you, I will do that.")
DOCTOR_LINES = ("Thanks. Any dizziness or swelling of the ankles?", "Please keep the same dose for now.",
                "I will write the prescription; a pharmacist reviews it first.",
                "Repeat the blood test in four weeks.")
BATCH = 10_000
# Extra waiting consultations for the bench doctor beyond what one queue page shows.
BENCH_QUEUE = QUEUE_SHOWN + 10


def write_consultations(world: World) -> None:
    """All consultations; the bench patient's come first, so theirs are the first that reached a doctor."""
    rng, batch = world.rng, Batch()
    doctor, patient = world.bench["doctor"], 0
    for status in ("completed", "in_progress", "waiting"):
        _consultation(world, batch, patient, doctor, status)
    for _ in range(BENCH_QUEUE):
        _consultation(world, batch, rng.randrange(world.volumes.patients), doctor, "waiting")
    world.writer.flush(batch)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    remaining = world.volumes.consultations
    while remaining > 0:
        size = min(BATCH, remaining)
        batch = Batch()
        # Every status at least once, whatever the scale; the rest by weight.
        chosen = statuses[:size] if remaining == world.volumes.consultations else []
        for status in chosen + rng.choices(statuses, weights, k=size - len(chosen)):
            patient = rng.randrange(world.volumes.patients)
            _consultation(world, batch, patient, rng.choice(world.doctors), status)
        world.writer.flush(batch)
        remaining -= size


def _times(world: World, status: str) -> dict:
    """When it was booked, paid, accepted and ended: open ones are recent, closed ones anywhere."""
    rng, clock, now = world.rng, world.clock, world.clock.now
    at = dict(paid=None, expires=None, accepted=None, ended=None)
    if status == "awaiting_payment":
        at["created"] = now - rng.randint(60, 1_500)
        at["expires"] = at["created"] + 1_800
        return at
    if status == "waiting":
        at["created"] = now - rng.randint(600, 20 * 3_600)
        at["paid"] = at["created"] + 300
        at["expires"] = at["paid"] + DAY
        return at
    recent = status == "in_progress" or rng.random() < 0.1
    at["created"] = clock.recent(2 * DAY) if recent else clock.past()
    if status in ("cancelled", "expired") and rng.random() < 0.5:
        at["expires"] = at["created"] + 1_800  # never paid: lapsed or withdrawn before paying
        at["ended"] = at["expires"] if status == "expired" else at["created"] + rng.randint(60, 1_500)
        return at
    at["paid"] = at["created"] + 300
    at["expires"] = at["paid"] + DAY
    if status in ("cancelled", "declined", "expired"):
        at["ended"] = at["expires"] if status == "expired" else at["paid"] + rng.randint(600, 20 * 3_600)
        return at
    at["accepted"] = min(at["paid"] + rng.randint(600, 6 * 3_600), now - 120)
    if status != "in_progress":
        at["ended"] = min(at["accepted"] + rng.randint(900, 2 * DAY), now - 60)
    return at


def _consultation(world: World, batch: Batch, patient_number: int, doctor: int, status: str) -> int:
    rng = world.rng
    consultation_id = world.writer.ids("consultations", 1)
    patient, condition = world.patient_id(patient_number), world.random_condition(patient_number)
    fee, at = world.doctor_fee[doctor], _times(world, status)
    notes = (None,) * 4
    rating = rating_comment = rated_at = None
    end_reason = None
    if status == "completed":
        entry = world.icd_of(condition)
        notes = ("Follow-up of a chronic condition.", "Readings within target; no new symptoms.",
                 f"{entry.name_en} ({entry.code}), stable.", "Continue treatment; review in four weeks.")
        if rng.random() < 0.4:
            rating, rated_at = rng.randint(3, 5), min(at["ended"] + 600, world.clock.now - 1)
            rating_comment = "Clear advice, thank you."
    elif status == "referred":
        end_reason = "Needs an examination in person; please visit the outpatient clinic."
    elif status == "declined":
        end_reason = "Outside my specialty; please choose a doctor of the right department."
    batch.add("consultations", (
        consultation_id, patient, doctor, condition, rng.choice(REASONS), status, fee, "CNY",
        moment(at["created"]), moment(at["paid"]), moment(at["expires"]), moment(at["accepted"]),
        moment(at["ended"]), end_reason,
        *notes, rating, rating_comment, moment(rated_at)))
    _payment(world, batch, consultation_id, patient, fee, status, at)
    if status in REACHED:
        _messages(world, batch, consultation_id, patient, doctor, at)
        world.seen_id.append(consultation_id)
        world.seen_patient.append(patient_number)
        world.seen_doctor.append(doctor)
        world.seen_condition.append(condition)
        world.seen_accepted.append(at["accepted"])
        if at["accepted"] > world.clock.now - RECENT_DAYS * DAY:
            world.seen_recent.append(len(world.seen_id) - 1)
    return consultation_id


def _messages(world: World, batch: Batch, consultation_id: int, patient: int, doctor: int, at: dict) -> None:
    rng = world.rng
    count = rng.randint(2, 4)
    first = world.writer.ids("consultation_messages", count)
    moment_at = at["accepted"]
    last = at["ended"] or world.clock.now - 30
    for n in range(count):
        moment_at = min(moment_at + rng.randint(30, 1_800), last)
        sender, lines = (patient, PATIENT_LINES) if n % 2 == 0 else (doctor, DOCTOR_LINES)
        batch.add("consultation_messages", (first + n, consultation_id, sender, rng.choice(lines), None,
                                            moment(moment_at)))


def _payment(world: World, batch: Batch, consultation_id: int, patient: int, fee: int, status: str,
             at: dict) -> None:
    """The payment row the consultation's status implies: none before paying, authorized while waiting,
    captured once accepted, released when it ended unaccepted, refunded on referral."""
    rng = world.rng
    authorized = captured = closed = None
    failure = (None, None)
    refunded = 0
    if at["paid"] is None:
        if status != "awaiting_payment" or rng.random() < 0.5:
            return
        state = "pending"
        if rng.random() < 0.2:
            state, failure = "failed", ("Your card was declined.", "card_declined")
    elif status == "waiting":
        state, authorized = "authorized", at["paid"]
    elif status in ("cancelled", "declined", "expired"):
        state, authorized, closed = "canceled", at["paid"], at["ended"]
    elif status == "referred":
        state, authorized, captured, closed = "refunded", at["paid"], at["accepted"], at["ended"]
        refunded = fee
    else:
        state, authorized, captured = "captured", at["paid"], at["accepted"]
    payment_id = world.writer.ids("payments", 1)
    batch.add("payments", (
        payment_id, "consultation", consultation_id, patient, fee, "CNY",
        rng.choice(("card", "alipay", "wechat_pay")), "manual", state, f"pi_bench{payment_id:012d}", refunded,
        *failure, moment(at["created"] + 60),
        moment(authorized), moment(captured), moment(closed), None))
    if refunded:
        refund_id = world.writer.ids("refunds", 1)
        batch.add("refunds", (refund_id, payment_id, f"re_bench{refund_id:012d}", fee, "succeeded",
                              "referred", moment(at["ended"])))
