"""The monthly adherence summary: one PDC Observation per sharing patient and drug group, per ended month."""

# The fills and dose answers are app.adherence.queries' (order lines of completed orders on the local
# day of completion in the patient's zone, grouped by ATC code; dose reminders whose message was sent),
# read here for every patient at once: a fixed number of statements per thousand patients.

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.adherence import pdc as rules
from app.adherence.queries import SENT, drug_key, zone_named
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.notifications.models import OutboundSms
from app.orders.models import Order, OrderLine
from app.orders.states import OrderStatus
from app.outbox.services import emit, event_row, new_key
from app.platform import facts, fhir
from app.platform.events import ADHERENCE
from app.reminders.models import DoseReminder, ReminderLine

CHUNK = 1000  # patients per IN list
ANSWERS = ("taken", "skipped", "unanswered")
# A summary is written once (its source key), so the job waits until the month's figures can no longer
# change: the month ends up to 20 hours later in the westernmost zones than in Shanghai, and a dose
# reminder of its last evening may be answered for DOSE_REPLY_HOURS (12) after it.
SETTLE = timedelta(days=2)

# The month this process has summarised: the job runs every few seconds and does nothing once it is
# done. Another worker, or this one after a restart, writes it again harmlessly (emit skips source keys
# that exist).
_summarised: date | None = None


def _month_end(month_start: date) -> date:
    following = date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _month_before(month_start: date) -> date:
    return (month_start - timedelta(days=1)).replace(day=1)


def _clinic_day(moment: datetime) -> date:
    return moment.astimezone(zone_named(None)).date()


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def last_month() -> date:
    """The first day of the latest month the jobs summarise: the month before the clinic's today,
    once SETTLE has passed since that month ended."""
    return _month_before(_clinic_day(utcnow() - SETTLE).replace(day=1))


def months_since(since: date) -> list[date]:
    """The first days of the months from `since`'s month to last_month(), oldest first (a backfill)."""
    month, last, months = date(since.year, since.month, 1), last_month(), []
    while month <= last:
        months.append(month)
        month = _month_end(month) + timedelta(days=1)
    return months


def _ended(month_start: date) -> date:
    """The month's last day; ValueError unless `month_start` is the 1st of a month already over."""
    if not isinstance(month_start, date) or isinstance(month_start, datetime) or month_start.day != 1:
        raise ValueError(f"a month starts on its first day, not {month_start!r}.")
    end = _month_end(month_start)
    if end >= _clinic_day(utcnow()):
        raise ValueError(f"{month_start:%Y-%m} has not ended yet; its adherence is summarised after it.")
    return end


def _chunks(ids: list[int]):
    return (ids[start:start + CHUNK] for start in range(0, len(ids), CHUNK))


def _fills(patient_ids: list[int], since: datetime, until: datetime):
    """(patient_id, completed_at, days_supply, time_zone, Drug) of every fill in the UTC range, oldest
    first."""
    for chunk in _chunks(patient_ids):
        yield from db.session.execute(
            select(Order.patient_id, Order.completed_at, OrderLine.days_supply, User.time_zone, Drug)
            .join(Order, Order.id == OrderLine.order_id)
            .join(Drug, Drug.id == OrderLine.drug_id)
            .join(User, User.id == Order.patient_id)
            .where(Order.patient_id.in_(chunk), Order.status == OrderStatus.COMPLETED,
                   Order.completed_at >= since, Order.completed_at < until, OrderLine.days_supply > 0)
            .order_by(Order.completed_at, Order.id, OrderLine.position))


def _doses(patient_ids: list[int], since: datetime, until: datetime):
    """(patient_id, due_at, answer, drug_id, atc_code) of every dose reminder sent and due in the range."""
    for chunk in _chunks(patient_ids):
        yield from db.session.execute(
            select(DoseReminder.patient_id, DoseReminder.due_at, DoseReminder.answer, Drug.id, Drug.atc_code)
            .join(OutboundSms, OutboundSms.id == DoseReminder.outbound_sms_id)
            .join(ReminderLine, ReminderLine.id == DoseReminder.reminder_line_id)
            .join(Drug, Drug.id == ReminderLine.drug_id)
            .where(DoseReminder.patient_id.in_(chunk), OutboundSms.status.in_(SENT),
                   DoseReminder.due_at >= since, DoseReminder.due_at < until))


def summary_rows(month_start: date) -> list[dict]:
    """The outbox rows of a month's adherence: per patient with a current data-sharing consent and drug
    group whose supply reaches into the month, its days covered, fills and dose answers."""
    end = _ended(month_start)
    first = month_start - timedelta(days=rules.MAX_DAYS_SUPPLY)  # the oldest fill that can reach the month
    # A day of slack either side in UTC: the local day decides, below, in each patient's zone.
    since, until = _midnight_utc(first - timedelta(days=1)), _midnight_utc(end + timedelta(days=2))
    candidates = db.session.scalars(select(Order.patient_id).distinct().where(
        Order.status == OrderStatus.COMPLETED, Order.completed_at >= since, Order.completed_at < until)).all()
    # Only the sharing patients' fills are read, and research tokens are made only for those summarised.
    sharing = sorted(facts.consenting(candidates))

    zones, fills, latest = {}, defaultdict(list), {}
    for patient_id, completed_at, supply, zone_name, drug in _fills(sharing, since, until):
        zone = zones.get(patient_id) or zones.setdefault(patient_id, zone_named(zone_name))
        day = completed_at.astimezone(zone).date()
        if first <= day <= end:
            key = drug_key(drug.atc_code, drug.id)
            fills[patient_id, key].append(rules.Fill(drug=key, filled_on=day,
                                                     days_supply=min(supply, rules.MAX_DAYS_SUPPLY)))
            latest[patient_id, key] = drug  # oldest first: the last one names the group
    measured = {pair: result for pair, group in fills.items()
                if (result := rules.pdc(group, month_start, end)).covered_days}
    if not measured:
        return []

    summarised = sorted({patient_id for patient_id, _key in measured})
    answers: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(ANSWERS, 0))
    for patient_id, due_at, answer, drug_id, atc_code in _doses(
            summarised, _midnight_utc(month_start - timedelta(days=1)), until):
        pair = (patient_id, drug_key(atc_code, drug_id))
        if pair in measured and month_start <= due_at.astimezone(zones[patient_id]).date() <= end:
            answers[pair][answer.value if answer else "unanswered"] += 1

    people = facts.patients(summarised, end)
    rows = []
    for (patient_id, key), result in sorted(measured.items()):
        if patient_id not in people:  # withdrew between the two reads
            continue
        event_key = new_key()
        resource = fhir.adherence_observation(fhir.AdherenceFacts(
            key=event_key, patient=people[patient_id], product=facts.product(latest[patient_id, key], []),
            start=month_start, end=end, covered_days=result.covered_days, period_days=result.period_days,
            fills=sum(1 for fill in fills[patient_id, key] if fill.filled_on >= month_start),
            doses=answers[patient_id, key]))
        source_key = f"{ADHERENCE}:{patient_id}:{key}:{month_start:%Y-%m}"
        rows.append(event_row(ADHERENCE, "users", patient_id, patient_id, resource, source_key=source_key,
                              key=event_key))
    return rows


def month_rows(month_ordinals: list[int]) -> list[dict]:
    """A backfill batch: the summaries of the months given as the ordinals of their first days."""
    return [row for ordinal in month_ordinals for row in summary_rows(date.fromordinal(ordinal))]


def summarise_last_month(_limit: int) -> int:
    """Worker job: write last_month()'s summaries once per process; returns how many were new.

    It commits itself, and remembers the month only after the commit: a month whose rows were rolled
    back is tried again on the next sweep.
    """
    global _summarised
    month = last_month()
    if _summarised == month:
        return 0
    written = emit(summary_rows(month))
    db.session.commit()
    _summarised = month
    return written
