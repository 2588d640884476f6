"""One patient's adherence read from the database: fills from completed orders, dose answers from SMS.

A fill is an order line of a COMPLETED order (handed over at the counter or delivered; a refunded
order never completes), dated on the local day of `Order.completed_at` in the patient's time zone, with
the line's days of supply. Fills are grouped by the drug's ATC code, which WHO assigns per chemical
substance: strengths, pack sizes, salts and release forms of one ingredient share it (metformin tablets
and sustained-release tablets, rivaroxaban 10 and 20 mg), while one ingredient used for two therapies
does not (methotrexate for cancer and for arthritis). A drug without an ATC code is its own group.

Only fills from the last LOOKBACK_DAYS count: enough for the longest supply (MAX_DAYS_SUPPLY) to run
into the longest window. The chain distribution (app.adherence.distribution) reads the same fills.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import bindparam, literal_column, select, union_all

from app.accounts.models import User
from app.adherence import pdc as rules
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.notifications.models import OutboundSms, SmsStatus
from app.orders.models import Order, OrderLine
from app.orders.states import OrderStatus
from app.reminders.models import DoseAnswer, DoseReminder, ReminderLine

WINDOWS = rules.WINDOWS  # (90, 180)
CHART_DAYS = max(WINDOWS)
LOOKBACK_DAYS = max(WINDOWS) + rules.MAX_DAYS_SUPPLY
# A dose reminder counts once the provider took it; one the carrier could not deliver does not.
SENT = (SmsStatus.SENT, SmsStatus.DELIVERED)


def drug_key(atc_code: str | None, drug_id: int) -> str:
    """The group a drug's fills are measured in: its ATC code, or the drug itself without one."""
    return atc_code or f"drug-{drug_id}"


def zone_named(name: str | None) -> ZoneInfo:
    """The patient's zone; the clinic's when none is stored or the stored one is no longer known."""
    default = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


class DrugLabel(NamedTuple):
    """What the pages name a group by: the drug of its latest fill (drug_title and drug_name read it)."""

    id: int
    code: str
    atc_code: str | None
    generic_name_en: str
    generic_name_zh: str
    strength: object
    strength_unit: str
    dosage_form: str


class Confirmations(NamedTuple):
    """Dose reminders sent and due in a window, by the patient's answer."""

    taken: int = 0
    skipped: int = 0
    unanswered: int = 0

    @property
    def sent(self) -> int:
        return self.taken + self.skipped + self.unanswered

    @property
    def rate(self) -> float | None:
        """The share answered "taken"; None with no reminder sent."""
        return self.taken / self.sent if self.sent else None


@dataclass(frozen=True)
class DrugAdherence:
    """One drug group of one patient: PDC over each window, dose confirmations, and what a chart draws."""

    key: str
    drug: DrugLabel
    fills: list[rules.Fill]
    pdc: dict[int, rules.Result]  # window days -> result
    confirmations: dict[int, Confirmations]  # window days -> counts
    coverage: list[tuple[date, date]]  # supplied days within the chart's window, inclusive
    answers: dict[date, set[str]] = field(default_factory=dict)  # local day -> {"taken", "skipped"}

    def adherent(self, days: int) -> bool | None:
        """Adherent over the window; None when the patient is not yet in the measure (< 2 fills)."""
        result = self.pdc[days]
        return rules.is_adherent(result.pdc) if result.eligible else None


@dataclass(frozen=True)
class PatientAdherence:
    today: date
    drugs: list[DrugAdherence]
    windows: tuple[int, ...] = WINDOWS
    threshold: int = round(rules.ADHERENT_PDC * 100)  # per cent

    @property
    def chart_start(self) -> date:
        return self.today - timedelta(days=CHART_DAYS - 1)


FILL, DOSE = 0, 1  # the kinds of row the statement reads


@cache
def _readings():
    """The patient's fills (completed order lines) and the dose reminders sent to them, each with its
    drug, and the patient's zone: one statement."""
    patient_id = bindparam("patient_id")
    fills = (select(literal_column(str(FILL)).label("kind"), Order.completed_at.label("at"),
                    OrderLine.days_supply.label("days_supply"), sa.cast(sa.null(), sa.String).label("answer"),
                    OrderLine.drug_id.label("drug_id"), Order.id.label("record_id"),
                    OrderLine.position.label("position"))
             .join(Order, Order.id == OrderLine.order_id)
             .where(Order.patient_id == patient_id, Order.status == OrderStatus.COMPLETED,
                    Order.completed_at >= bindparam("fills_since"), OrderLine.days_supply > 0))
    doses = (select(literal_column(str(DOSE)), DoseReminder.due_at, sa.cast(sa.null(), sa.Integer),
                    sa.cast(DoseReminder.answer, sa.String), ReminderLine.drug_id, DoseReminder.id,
                    literal_column("0"))
             .join(OutboundSms, OutboundSms.id == DoseReminder.outbound_sms_id)
             .join(ReminderLine, ReminderLine.id == DoseReminder.reminder_line_id)
             .where(DoseReminder.patient_id == patient_id, OutboundSms.status.in_(SENT),
                    DoseReminder.due_at >= bindparam("doses_since"), DoseReminder.due_at <= bindparam("now")))
    rows = union_all(fills, doses).subquery("readings")
    return (select(rows.c.kind, rows.c.at, rows.c.days_supply, rows.c.answer, User.time_zone, Drug.id,
                   Drug.code, Drug.atc_code, Drug.generic_name_en, Drug.generic_name_zh, Drug.strength,
                   Drug.strength_unit, Drug.dosage_form)
            .join(Drug, Drug.id == rows.c.drug_id)
            .join(User, User.id == patient_id)
            .order_by(rows.c.kind, rows.c.at, rows.c.record_id, rows.c.position))


def _confirmations(doses: list[tuple[date, str | None]], first: date) -> Confirmations:
    answers = [answer for day, answer in doses if day >= first]
    return Confirmations(taken=answers.count(DoseAnswer.TAKEN), skipped=answers.count(DoseAnswer.SKIPPED),
                         unanswered=answers.count(None))


def patient_adherence(patient_id: int, now: datetime | None = None) -> PatientAdherence:
    """Each drug group the patient had supply of in the last CHART_DAYS days, newest fill first; one
    statement (the fills, and the dose reminders sent and due in the chart's window with their answers)."""
    now = now or utcnow()
    # A day of slack either side in UTC: the local day decides, below, in the patient's zone.
    rows = db.session.execute(_readings(), {
        "patient_id": patient_id, "fills_since": now - timedelta(days=LOOKBACK_DAYS + 1),
        "doses_since": now - timedelta(days=CHART_DAYS + 1), "now": now}).all()
    zone = zone_named(rows[0].time_zone if rows else None)
    today = now.astimezone(zone).date()
    first_counted = today - timedelta(days=LOOKBACK_DAYS - 1)
    chart_start = today - timedelta(days=CHART_DAYS - 1)
    fills: dict[str, list[rules.Fill]] = defaultdict(list)
    labels: dict[str, DrugLabel] = {}
    doses: dict[str, list[tuple[date, str | None]]] = defaultdict(list)
    for row in rows:
        day = row.at.astimezone(zone).date()
        label = DrugLabel(*row[5:])
        key = drug_key(label.atc_code, label.id)
        if row.kind == DOSE:
            if chart_start <= day <= today:
                doses[key].append((day, row.answer))
        elif first_counted <= day <= today:
            fills[key].append(rules.Fill(drug=key, filled_on=day,
                                         days_supply=min(row.days_supply, rules.MAX_DAYS_SUPPLY)))
            labels[key] = label  # fills come oldest first: the latest one names the group
    drugs = []
    for key, group in fills.items():
        results = {days: rules.window(group, today, days) for days in WINDOWS}
        if results[CHART_DAYS].covered_days == 0:
            continue  # supply ended before the chart's window: not a current medicine
        answers: dict[date, set[str]] = defaultdict(set)
        for day, answer in doses[key]:
            if answer is not None:
                answers[day].add(str(answer))
        coverage = [(max(first, chart_start), last) for first, last in rules.coverage_intervals(group, today)
                    if last >= chart_start]
        drugs.append(DrugAdherence(
            key=key, drug=labels[key], fills=group, pdc=results,
            confirmations={days: _confirmations(doses[key], today - timedelta(days=days - 1))
                           for days in WINDOWS},
            coverage=coverage, answers=dict(answers)))
    drugs.sort(key=lambda drug: (-max(fill.filled_on for fill in drug.fills).toordinal(), drug.key))
    return PatientAdherence(today=today, drugs=drugs)
