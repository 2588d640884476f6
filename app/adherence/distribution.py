"""The chain's adherence in SQL: per drug class and per store, the patient–drug pairs in the 90-day
measure and the share of them adherent: one statement however many patients and fills there are (and
one before it, reading which time zones the patients live in).

The fills and their grouping are app.adherence.queries' (completed order lines, the local day of
completion in the patient's zone, grouped by ATC code, the last LOOKBACK_DAYS). The PQA rule that an
early refill starts when the previous supply runs out is computed with window functions: for fills
d_1 ≤ … ≤ d_n of one pair with supplies s_1 … s_n and running totals S_i = s_1 + … + s_i, the last day
supplied by fill i is S_i − 1 + max over j ≤ i of (d_j − S_(j−1)). tests/adherence/test_distribution.py
checks it against app.adherence.pdc.window on made-up fills.

A pair belongs to the store of its latest fill and to the ATC therapeutic subgroup (level 2: C09,
A10…) of its drug. Days are counted as day numbers since 1970-01-01 in each patient's zone: PostgreSQL
converts with AT TIME ZONE; SQLite has no time zones, so there the moment is shifted by the zone's UTC
offset over the period, as app.orders.reports does for stores.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import and_, case, func, literal, literal_column, select, union_all

from app.accounts.models import Role, User
from app.adherence import pdc as rules
from app.adherence.queries import LOOKBACK_DAYS, zone_named
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import Store
from app.orders.models import Order, OrderLine
from app.orders.reports import offsets
from app.orders.states import OrderStatus

MEASURED_DAYS = 90  # the chain's figure: PDC over the last 90 days
EPOCH = date(1970, 1, 1)
# The patient page's threshold as an exact fraction (0.80 → 4/5): whole numbers compare the same in
# SQLite and PostgreSQL, where a float ratio could fall either side of the edge.
ADHERENT = Fraction(str(rules.ADHERENT_PDC)).limit_denominator(1000)
CLASS_LEVEL = 3  # characters of the ATC code: level 2, the therapeutic subgroup
CLASSES_SHOWN = 40
STORES_SHOWN = 30
CLASS, STORE, CHAIN = "class", "store", "chain"


@dataclass(frozen=True)
class Share:
    """Pairs in the measure (at least two fills in the window) and how many of them are adherent."""

    eligible: int = 0
    adherent: int = 0

    @property
    def rate(self) -> float | None:
        return self.adherent / self.eligible if self.eligible else None


@dataclass(frozen=True)
class StoreShare(Share):
    store_id: int = 0
    code: str = ""
    name_en: str = ""
    name_zh: str = ""

    def display_name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


@dataclass(frozen=True)
class ClassShare(Share):
    atc_class: str | None = None  # None: drugs without an ATC code


@dataclass(frozen=True)
class Distribution:
    today: date  # in the clinic's zone; each patient is measured up to their own day
    chain: Share
    classes: list[ClassShare]  # most pairs first, at most CLASSES_SHOWN
    stores: list[StoreShare]  # most pairs first, at most STORES_SHOWN
    more_classes: int = 0
    more_stores: int = 0
    days: int = MEASURED_DAYS
    threshold: int = round(rules.ADHERENT_PDC * 100)  # per cent


def _day_number(day: date) -> sa.ColumnElement:
    return literal_column(str((day - EPOCH).days), sa.Integer)


class _Days:
    """Day numbers in SQL for moments in each patient's zone (User is in the FROM list)."""

    def __init__(self, zone_names: list[str], since: datetime, now: datetime, dialect: str):
        self.dialect = dialect
        self.default = current_app.config["BABEL_DEFAULT_TIMEZONE"]
        known = {}
        for name in zone_names:
            zone = zone_named(name)
            if zone.key == name:  # a stored zone the system no longer knows falls to the default below
                known[name] = zone
        self.zones = known
        self.since, self.now = since, now

    def today(self) -> sa.ColumnElement:
        """Each patient's today, as a day number."""
        # Day numbers are ours, written into the statement as numbers (a bound parameter in a CASE
        # has no type PostgreSQL could infer).
        default = _day_number(self.now.astimezone(ZoneInfo(self.default)).date())
        whens = [(User.time_zone == name, _day_number(self.now.astimezone(zone).date()))
                 for name, zone in self.zones.items()]
        return case(*whens, else_=default) if whens else default

    def day(self, moment) -> sa.ColumnElement:
        """The day number of `moment` in its patient's zone."""
        if self.dialect == "postgresql":
            zone = (case((User.time_zone.in_(list(self.zones)), User.time_zone), else_=self.default)
                    if self.zones else literal(self.default))
            local = sa.cast(func.timezone(zone, moment), sa.Date)
            return sa.cast(local - sa.cast(literal_column(f"'{EPOCH.isoformat()}'"), sa.Date), sa.Integer)
        shifts = []
        for name in [*self.zones, None]:
            for since, seconds in reversed(offsets(name or self.default, self.since, self.now)):
                condition = User.time_zone == name if name else sa.true()
                if since is not None:
                    condition = and_(condition, moment >= since)
                shifts.append((condition, f"{seconds:+d} seconds"))
        shifted = func.date(moment, case(*shifts, else_="+0 seconds"))
        return sa.cast(func.julianday(shifted) - func.julianday(EPOCH.isoformat()), sa.Integer)


def _least(a, b):
    return case((a < b, a), else_=b)


def _greatest(a, b):
    return case((a > b, a), else_=b)


def fill_days(now: datetime):
    """Every fill of the lookback, in day numbers: patient_id, key, store_id, atc_class, d (the local day
    of completion), s (days of supply), e (the patient's today), order_id, line_id. Building it reads
    the patients' time zones (one statement)."""
    since = now - timedelta(days=LOOKBACK_DAYS + 1)
    zones = list(db.session.scalars(select(User.time_zone).where(User.role == Role.PATIENT).distinct()))
    days = _Days(zones, since.astimezone(UTC), now.astimezone(UTC), db.session.get_bind().dialect.name)
    supply = case((OrderLine.days_supply > rules.MAX_DAYS_SUPPLY, rules.MAX_DAYS_SUPPLY),
                  else_=OrderLine.days_supply)
    key = func.coalesce(Drug.atc_code, literal("drug-") + sa.cast(Drug.id, sa.String))
    return (
        select(Order.patient_id.label("patient_id"), key.label("key"), Order.store_id.label("store_id"),
               func.substr(Drug.atc_code, 1, CLASS_LEVEL).label("atc_class"),
               days.day(Order.completed_at).label("d"), supply.label("s"), days.today().label("e"),
               Order.id.label("order_id"), OrderLine.id.label("line_id"))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Drug, Drug.id == OrderLine.drug_id)
        .join(User, User.id == Order.patient_id)
        .where(Order.status == OrderStatus.COMPLETED, Order.completed_at >= since, OrderLine.days_supply > 0)
    ).subquery("fills")


def measure(fills, window_days: int):
    """Per patient–drug pair of `fills` (the columns fill_days() gives): store_id and atc_class of the
    latest fill, covered (days), period (days) and dates (of service) in the window of `window_days`
    ending on the patient's today: app.adherence.pdc.window, in SQL."""
    counted = (select(fills).where(fills.c.d <= fills.c.e, fills.c.d > fills.c.e - LOOKBACK_DAYS)
               .subquery("counted"))
    pair = (counted.c.patient_id, counted.c.key)
    in_order = dict(partition_by=pair, order_by=(counted.c.d, counted.c.order_id, counted.c.line_id))
    latest = dict(partition_by=pair, order_by=(counted.c.d.desc(), counted.c.order_id.desc(),
                                               counted.c.line_id.desc()))
    running = select(
        counted, func.sum(counted.c.s).over(**in_order, rows=(None, 0)).label("total"),
        func.first_value(counted.c.store_id).over(**latest).label("last_store"),
        func.first_value(counted.c.atc_class).over(**latest).label("last_class"),
        func.min(counted.c.d).over(partition_by=pair).label("first_d"),
    ).subquery("running")
    r = running.c
    shifted = select(
        running,
        (r.total - 1 + func.max(r.d - (r.total - r.s)).over(
            partition_by=(r.patient_id, r.key), order_by=(r.d, r.order_id, r.line_id), rows=(None, 0)))
        .label("last_day"),
        _greatest(r.e - (window_days - 1), r.first_d).label("start"),
    ).subquery("shifted")
    s = shifted.c
    first_day = s.last_day - s.s + 1
    inside = _least(s.last_day, s.e) - _greatest(first_day, s.start) + 1
    return (select(s.patient_id, s.key, func.max(s.last_store).label("store_id"),
                   func.max(s.last_class).label("atc_class"),
                   func.sum(case((inside > 0, inside), else_=0)).label("covered"),
                   func.max(s.e - s.start + 1).label("period"),
                   func.count(sa.distinct(case((s.d >= s.start, s.d)))).label("dates"))
            .group_by(s.patient_id, s.key))


def distribution(now: datetime | None = None) -> Distribution:
    """Per ATC subgroup, per store and for the whole chain: pairs in the 90-day measure and the adherent
    among them. Two statements (the patients' zones, then the figures)."""
    now = now or utcnow()
    measured = measure(fill_days(now), MEASURED_DAYS).subquery("pairs")
    p = measured.c
    eligible = select(p.store_id, p.atc_class,
                      case((p.covered * ADHERENT.denominator >= p.period * ADHERENT.numerator, 1),
                           else_=0).label("adherent")
                      ).where(p.dates >= 2).cte("eligible")
    q = eligible.c
    none_int, none_text = sa.null().cast(sa.Integer), sa.null().cast(sa.String)
    count, adherent = func.count().label("eligible"), func.sum(q.adherent).label("adherent")
    # One row per class and per store (the chain's stores are counted in hundreds, not in patients);
    # the page shows the largest.
    blank = (none_int, none_text, none_text, none_text)
    rows = db.session.execute(union_all(
        select(literal_column(f"'{CHAIN}'").label("dimension"), none_text.label("atc_class"),
               none_int.label("store_id"), none_text.label("code"), none_text.label("name_en"),
               none_text.label("name_zh"), count, adherent).select_from(eligible),
        select(literal_column(f"'{CLASS}'"), q.atc_class, *blank, count, adherent).group_by(q.atc_class),
        select(literal_column(f"'{STORE}'"), none_text, q.store_id, Store.code, Store.name_en, Store.name_zh,
               count, adherent).join(Store, Store.id == q.store_id)
        .group_by(q.store_id, Store.code, Store.name_en, Store.name_zh),
    )).all()
    chain, classes, stores = Share(), [], []
    for dimension, atc_class, store_id, code, name_en, name_zh, pairs_in, adherent_in in rows:
        share = dict(eligible=int(pairs_in or 0), adherent=int(adherent_in or 0))
        if dimension == CHAIN:
            chain = Share(**share)
        elif dimension == CLASS:
            classes.append(ClassShare(atc_class=atc_class, **share))
        else:
            stores.append(StoreShare(store_id=int(store_id), code=code, name_en=name_en, name_zh=name_zh,
                                     **share))
    classes.sort(key=lambda c: (-c.eligible, c.atc_class or "~"))
    stores.sort(key=lambda s: (-s.eligible, s.code))
    return Distribution(today=now.astimezone(zone_named(None)).date(), chain=chain,
                        classes=classes[:CLASSES_SHOWN], stores=stores[:STORES_SHOWN],
                        more_classes=max(0, len(classes) - CLASSES_SHOWN),
                        more_stores=max(0, len(stores) - STORES_SHOWN))
