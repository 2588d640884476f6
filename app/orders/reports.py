"""Order reports: orders per store per day, dispensing times, cold-chain excursions and money given back,
each one grouped statement over a bounded range of the stores' own calendar days."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal_column, or_, select, union_all

from app import limits
from app.delivery.models import ColdChainExcursion, Delivery
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.inventory.models import StockLot, Store
from app.orders.models import PAYABLE, Order
from app.orders.states import OrderStatus
from app.payments.models import OperationKind, OperationStatus, Payment, PaymentOperation
from app.review.models import Decision, PrescriptionReview

DEFAULT_DAYS = 7
# A quarter of a year: enough to compare months, and a chain report stays one bounded scan.
MAX_DAYS = 92
# The excursion list names each one; more than this in one period is a pattern to read in the CSV.
EXCURSIONS_SHOWN = 200
# Days a report may name: the calendar's first and last days have no midnight before or after them in UTC.
EARLIEST, LATEST = limits.FILTER_DAYS
# The durations of the times table, by the code their rows carry.
APPROVED_TO_DISPENSED, DISPENSED_TO_HANDED_OVER = 0, 1
# A chain-wide line of the times table (no store has id 0).
CHAIN = 0


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, both included, in each store's own calendar."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _day(text: str | None) -> date | None:
    text = (text or "").strip()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date() if len(text) == 10 else None
    except ValueError:
        return None


def period(start: str | None, end: str | None, today: date) -> Period:
    """The period asked for in the query string (blank: the last DEFAULT_DAYS days up to today), or a
    DomainError naming what is wrong with each date."""
    start, end = (start or "").strip(), (end or "").strip()
    first = _day(start) if start else None
    last = _day(end) if end else today
    reasons = {}
    for field, text, day in (("from", start, first), ("to", end, last)):
        if text and day is None:
            reasons[field] = _l("“%(value)s” is not a date like 2026-05-31.", value=text[:20])
        elif day is not None and not EARLIEST <= day <= LATEST:
            reasons[field] = _l("Choose a date between %(first)s and %(last)s.", first=EARLIEST.isoformat(),
                                last=LATEST.isoformat())
    if reasons:
        raise DomainError(reasons)
    chosen = Period(first or last - timedelta(days=DEFAULT_DAYS - 1), last)
    if chosen.first > chosen.last:
        raise DomainError({"from": _l("The first day is after the last day.")})
    if chosen.days > MAX_DAYS:
        raise DomainError({"from": _l("A report covers at most %(days)d days; choose a shorter period.",
                                      days=MAX_DAYS)})
    return chosen


# ---- local days in SQL ---------------------------------------------------------------------------

def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _offset(moment: datetime, zone: ZoneInfo) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())


def offsets(zone_name: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets in seconds between two instants: (from when, offset), the first from the
    start (None). A change is looked for between consecutive midnights and pinned to the second."""
    zone = ZoneInfo(zone_name)
    found: list[tuple[datetime | None, int]] = [(None, _offset(start, zone))]
    low = start
    while low < end:
        high = min(low + timedelta(days=1), end)
        if _offset(high, zone) != found[-1][1]:
            before, after = low, high  # the offset changes in (before, after]
            while after - before > timedelta(seconds=1):
                middle = before + (after - before) / 2
                before, after = (before, middle) if _offset(middle, zone) != found[-1][1] else (middle, after)
            found.append((after.replace(microsecond=0), _offset(after, zone)))
        low = high
    return found


class LocalDays:
    """Each store's calendar days over the period, for conditions and GROUP BY keys in SQL.

    The window is exact on both databases: each time zone's first and last midnight are computed here,
    in UTC. The day a moment falls on is PostgreSQL's own AT TIME ZONE; SQLite has no time zones, so
    there the moment is shifted by the zone's offset, computed here for the period (with the instant of
    any daylight-saving change)."""

    def __init__(self, zones, window: Period, dialect: str):
        self.dialect = dialect
        self.bounds = {zone: (_midnight(window.first, ZoneInfo(zone)),
                              _midnight(window.last + timedelta(days=1), ZoneInfo(zone)))
                       for zone in sorted(set(zones))}

    def within(self, moment) -> sa.ColumnElement:
        """The moment falls on one of the period's days of its store (Store is in the FROM list)."""
        if not self.bounds:
            return sa.false()
        return or_(*[and_(Store.time_zone == zone, moment >= start, moment < end)
                     for zone, (start, end) in self.bounds.items()])

    def day(self, moment) -> sa.ColumnElement:
        """The store's calendar day of the moment, as a DATE."""
        if self.dialect == "postgresql":
            return sa.cast(func.timezone(Store.time_zone, moment), sa.Date)
        shifts = []
        for zone, (start, end) in self.bounds.items():
            for since, seconds in reversed(offsets(zone, start, end)):
                condition = Store.time_zone == zone if since is None else and_(Store.time_zone == zone,
                                                                                 moment >= since)
                shifts.append((condition, f"{seconds:+d} seconds"))
        shift = case(*shifts, else_="+0 seconds") if shifts else literal_column("'+0 seconds'")
        return sa.type_coerce(func.date(moment, shift), sa.Date)


def _days(stores: list[Store], window: Period) -> LocalDays:
    return LocalDays((store.time_zone for store in stores), window, db.session.get_bind().dialect.name)


def _in_scope(column, stores: list[Store], chain: bool) -> sa.ColumnElement:
    """The whole chain, or the stores chosen (a pharmacist's one store, or the one an admin picked)."""
    return sa.true() if chain else column.in_([store.id for store in stores])


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# ---- the reports ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DayRow:
    store_id: int
    day: date
    placed: int
    paid: int
    dispensed: int
    handed_over: int
    cancelled: int
    refunded: int
    paid_fen: int


DAY_COUNTS = ("placed", "paid", "dispensed", "handed_over", "cancelled", "refunded")


def orders_per_day(stores: list[Store], window: Period, *, chain: bool) -> list[DayRow]:
    """Per store and local day: orders placed, paid (and the value paid), dispensed, handed over at the
    counter or delivered, cancelled and refunded, each counted on the day it happened. One statement."""
    days = _days(stores, window)
    one, zero = literal_column("1"), literal_column("0")
    # (the moment, which count it adds to, an extra condition)
    events = (
        (Order.placed_at, "placed", sa.true()),
        (Order.paid_at, "paid", sa.true()),
        (Order.dispensed_at, "dispensed", sa.true()),
        # Completion is the patient's: at the counter (the handover) or at the door (delivered).
        (Order.completed_at, "handed_over", sa.true()),
        (Order.closed_at, "cancelled", Order.status == OrderStatus.CANCELLED),
        (Order.closed_at, "refunded", Order.status == OrderStatus.REFUNDED),
    )
    parts = [
        select(Order.store_id.label("store_id"), days.day(moment).label("day"),
               *[(one if name == counted else zero).label(name) for name in DAY_COUNTS],
               (Order.total_fen if counted == "paid" else zero).label("paid_fen"))
        .join(Store, Store.id == Order.store_id)
        .where(days.within(moment), condition, _in_scope(Order.store_id, stores, chain))
        for moment, counted, condition in events
    ]
    every = union_all(*parts).subquery()
    rows = db.session.execute(
        select(every.c.store_id, every.c.day, *[func.sum(every.c[name]) for name in DAY_COUNTS],
               func.sum(every.c.paid_fen))
        .group_by(every.c.store_id, every.c.day).order_by(every.c.day.desc(), every.c.store_id)).all()
    return [DayRow(row[0], _as_date(row[1]), *(int(value or 0) for value in row[2:])) for row in rows]


@dataclass(frozen=True)
class Times:
    """Hours from one step to the next over `count` orders: the median and the 90th percentile, each a
    time that really occurred (nearest rank)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def _hours(dialect: str, start, end) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def times(stores: list[Store], window: Period, *, chain: bool) -> dict[int, dict[int, Times]]:
    """{store id, or CHAIN for the whole chain: {step: Times}}: from the pharmacist's approval to dispensing
    for orders dispensed in the period, and from dispensing to the patient (at the counter or the door)
    for orders completed in it. One statement with window functions."""
    days = _days(stores, window)
    dialect = days.dialect
    approved = (
        select(literal_column(str(APPROVED_TO_DISPENSED)).label("kind"), Order.store_id.label("store_id"),
               _hours(dialect, PrescriptionReview.decided_at, Order.dispensed_at).label("hours"))
        .join(Store, Store.id == Order.store_id)
        .join(PrescriptionReview, and_(PrescriptionReview.prescription_id == Order.prescription_id,
                                       PrescriptionReview.decision == Decision.APPROVED))
        .where(days.within(Order.dispensed_at), _in_scope(Order.store_id, stores, chain)))
    handed = (
        select(literal_column(str(DISPENSED_TO_HANDED_OVER)), Order.store_id,
               _hours(dialect, Order.dispensed_at, Order.completed_at))
        .join(Store, Store.id == Order.store_id)
        .where(Order.dispensed_at.is_not(None), days.within(Order.completed_at),
               _in_scope(Order.store_id, stores, chain)))
    durations = union_all(approved, handed).cte("durations")
    lines = select(durations.c.kind, durations.c.store_id, durations.c.hours)
    if chain and len(stores) > 1:
        lines = union_all(lines, select(durations.c.kind, literal_column(str(CHAIN)), durations.c.hours))
    lines = lines.subquery()
    group = (lines.c.kind, lines.c.store_id)
    ranked = select(*group, lines.c.hours,
                    func.row_number().over(partition_by=group, order_by=lines.c.hours).label("rank"),
                    func.count().over(partition_by=group).label("n")).subquery()
    rows = db.session.execute(
        select(ranked.c.kind, ranked.c.store_id, func.max(ranked.c.n),
               func.max(case((ranked.c.rank == (ranked.c.n + 1) // 2, ranked.c.hours))),
               func.max(case((ranked.c.rank == (ranked.c.n * 9 + 9) // 10, ranked.c.hours))))
        .group_by(ranked.c.kind, ranked.c.store_id)).all()
    found: dict[int, dict[int, Times]] = {}
    for kind, store_id, count, median, p90 in rows:
        found.setdefault(int(store_id), {})[int(kind)] = Times(int(count), float(median), float(p90))
    return found


@dataclass(frozen=True)
class DrugColumns:
    generic_name_en: str
    generic_name_zh: str
    strength: object
    strength_unit: str
    dosage_form: str


@dataclass(frozen=True)
class Excursion:
    id: int
    store_id: int
    day: date
    order_id: int
    lot_number: str
    drug: object  # the drug's name, strength and form columns, for drug_title()
    packs: int
    temperature_c: object
    resolution: str
    resolved_at: datetime | None


def excursions(stores: list[Store], window: Period, *, chain: bool,
               limit: int | None = EXCURSIONS_SHOWN) -> tuple[list[Excursion], int]:
    """The cold-chain excursions detected in the period, newest first, one per lot of a parcel, with
    how many there were in all. No patient is named: the order number leads to the order's own page."""
    days = _days(stores, window)
    statement = (
        select(ColdChainExcursion.id, Delivery.store_id, days.day(ColdChainExcursion.detected_at),
               Delivery.order_id, StockLot.lot_number, Drug.generic_name_en, Drug.generic_name_zh,
               Drug.strength, Drug.strength_unit, Drug.dosage_form, ColdChainExcursion.packs,
               ColdChainExcursion.temperature_c, ColdChainExcursion.resolution,
               ColdChainExcursion.resolved_at, func.count().over().label("total"))
        .join(Delivery, Delivery.id == ColdChainExcursion.delivery_id)
        .join(Store, Store.id == Delivery.store_id)
        .join(StockLot, StockLot.id == ColdChainExcursion.lot_id)
        .join(Drug, Drug.id == StockLot.drug_id)
        .where(days.within(ColdChainExcursion.detected_at), _in_scope(Delivery.store_id, stores, chain))
        .order_by(ColdChainExcursion.detected_at.desc(), ColdChainExcursion.id.desc()))
    if limit is not None:
        statement = statement.limit(limit)
    rows = db.session.execute(statement).all()
    shown = [Excursion(row.id, row.store_id, _as_date(row[2]), row.order_id, row.lot_number,
                       DrugColumns(row.generic_name_en, row.generic_name_zh, row.strength, row.strength_unit,
                                   row.dosage_form),
                       row.packs, row.temperature_c, row.resolution, row.resolved_at) for row in rows]
    return shown, (rows[0].total if rows else 0)


@dataclass(frozen=True)
class MoneyBackRow:
    store_id: int
    day: date
    refunds: int
    refunded_fen: int
    cancels: int
    cancelled_fen: int
    not_done: int


def money_back(stores: list[Store], window: Period, *, chain: bool) -> list[MoneyBackRow]:
    """Per store and local day the orders' refunds and cancelled card authorizations, counted on the day
    they were decided, with their amounts and how many Stripe has not yet carried out. One statement."""
    days = _days(stores, window)
    refund = PaymentOperation.kind == OperationKind.REFUND
    cancel = PaymentOperation.kind == OperationKind.CANCEL
    each = (
        select(Order.store_id.label("store_id"), days.day(PaymentOperation.created_at).label("day"),
               case((refund, 1), else_=0).label("refunds"),
               case((refund, PaymentOperation.amount_fen), else_=0).label("refunded_fen"),
               case((cancel, 1), else_=0).label("cancels"),
               case((cancel, PaymentOperation.amount_fen), else_=0).label("cancelled_fen"),
               case((PaymentOperation.status != OperationStatus.DONE, 1), else_=0).label("not_done"))
        .select_from(PaymentOperation)
        .join(Payment, Payment.id == PaymentOperation.payment_id)
        .join(Order, and_(Payment.payable_type == PAYABLE, Order.id == Payment.payable_id))
        .join(Store, Store.id == Order.store_id)
        .where(PaymentOperation.kind.in_((OperationKind.REFUND, OperationKind.CANCEL)),
               days.within(PaymentOperation.created_at), _in_scope(Order.store_id, stores, chain))
    ).subquery()
    sums = ("refunds", "refunded_fen", "cancels", "cancelled_fen", "not_done")
    rows = db.session.execute(
        select(each.c.store_id, each.c.day, *[func.sum(each.c[name]) for name in sums])
        .group_by(each.c.store_id, each.c.day).order_by(each.c.day.desc(), each.c.store_id)).all()
    return [MoneyBackRow(row[0], _as_date(row[1]), *(int(value or 0) for value in row[2:])) for row in rows]


@dataclass(frozen=True)
class Report:
    window: Period
    days: list[DayRow]
    times: dict[int, dict[int, Times]]
    excursions: list[Excursion]
    excursions_total: int
    money_back: list[MoneyBackRow]


def report(stores: list[Store], window: Period, *, chain: bool) -> Report:
    """The four tables of the report page: four statements, whatever the number of orders."""
    shown, total = excursions(stores, window, chain=chain)
    return Report(window, orders_per_day(stores, window, chain=chain), times(stores, window, chain=chain),
                  shown, total, money_back(stores, window, chain=chain))
