"""Stores of the chain, their stock lots and the append-only stock ledger (quantities in whole packs)."""

import math
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db

EARTH_RADIUS_KM = 6371.0088


class Store(db.Model):
    __tablename__ = "stores"
    __table_args__ = (
        sa.CheckConstraint("(latitude IS NULL AND longitude IS NULL) OR (latitude IS NOT NULL AND "
                           "longitude IS NOT NULL AND latitude BETWEEN -90 AND 90 AND "
                           "longitude BETWEEN -180 AND 180)",
                           name="coordinates_valid"),
        sa.CheckConstraint("delivery_radius_km IS NULL OR (delivery_radius_km > 0 AND latitude IS NOT NULL)",
                           name="delivery_radius_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name_en: Mapped[str] = mapped_column(sa.String(120))
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    city: Mapped[str] = mapped_column(sa.String(80))
    address: Mapped[str] = mapped_column(sa.String(255))
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    # WGS-84 degrees; both or neither. Distances to patients are computed from these.
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    # Shown to patients as written, e.g. "Mon–Fri 09:00–18:00; Sat 09:00–12:00".
    opening_hours: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Delivery service area: the cities in `service_cities`, and/or this radius around the store.
    delivery_radius_km: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 1))
    is_cold_chain_capable: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    service_cities: Mapped[list["StoreServiceCity"]] = relationship(
        back_populates="store", order_by="StoreServiceCity.city", cascade="all, delete-orphan")

    def display_name(self, locale: str) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en

    def today(self, now: datetime | None = None) -> date:
        """The calendar date in the store's time zone: expiry dates are judged by it."""
        return (now or utcnow()).astimezone(ZoneInfo(self.time_zone)).date()

    def distance_km(self, latitude, longitude) -> float | None:
        """Great-circle distance from the store, or None when either side has no coordinates."""
        if self.latitude is None or self.longitude is None or latitude is None or longitude is None:
            return None
        lat1, lng1, lat2, lng2 = map(math.radians, map(float, (self.latitude, self.longitude,
                                                                latitude, longitude)))
        a = (math.sin((lat2 - lat1) / 2) ** 2
             + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))

    def delivers_to(self, city: str | None, latitude=None, longitude=None) -> bool:
        """Inside the delivery service area: a listed city, or within the radius."""
        wanted = (city or "").strip().casefold()
        if wanted and any(area.city.casefold() == wanted for area in self.service_cities):
            return True
        distance = self.distance_km(latitude, longitude)
        return (self.delivery_radius_km is not None and distance is not None
                and distance <= float(self.delivery_radius_km))


class StoreServiceCity(db.Model):
    """One city of a store's delivery service area (a row each, so "who delivers to X" is a join)."""

    __tablename__ = "store_service_cities"
    __table_args__ = (sa.UniqueConstraint("store_id", "city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    city: Mapped[str] = mapped_column(sa.String(80), index=True)

    store: Mapped[Store] = relationship(back_populates="service_cities")


# A lot with packs to sell or to assess. Literal SQL, and the queries that rely on the partial indexes
# below use it as written: a condition with bound parameters cannot be matched to an index predicate
# by SQLite, nor by PostgreSQL in a prepared statement's generic plan.
LIVE_LOT_SQL = "quantity_on_hand > 0 AND status IN ('available', 'quarantined')"


class LotStatus(StrEnum):
    AVAILABLE = "available"  # may be reserved and dispensed while in date
    QUARANTINED = "quarantined"  # may not be sold until assessed (temperature excursion, damage)
    RECALLED = "recalled"  # never sold again
    EXPIRED = "expired"  # past its expiry date; set by the expiry job



class StockLot(db.Model):
    """One manufacturer's lot of one drug in one store. Quantities are whole packs of the drug
    (Drug.pack_size × Drug.pack_unit per pack): packs are what is received, counted and handed out."""

    __tablename__ = "stock_lots"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "drug_id", "lot_number"),
        sa.CheckConstraint("quantity_on_hand >= 0", name="on_hand_non_negative"),
        sa.CheckConstraint("quantity_reserved >= 0", name="reserved_non_negative"),
        sa.CheckConstraint("quantity_reserved <= quantity_on_hand", name="reserved_within_on_hand"),
        sa.CheckConstraint("unit_cost_fen >= 0", name="unit_cost_non_negative"),
        sa.CheckConstraint("lot_number <> ''", name="lot_number_present"),
        # FEFO: a store's in-date lots of a drug, earliest expiry first.
        sa.Index("ix_stock_lots_fefo", "store_id", "drug_id", "status", "expiry_date"),
        # The expiry job, and "every store holding this lot" (lot-number reuse, recalls).
        sa.Index("ix_stock_lots_status_expiry", "status", "expiry_date"),
        # The near-expiry report in its order, for the chain and for one store: live lots only, so that
        # the lots that expired or ran out over the years are not stepped over on every page.
        sa.Index("ix_stock_lots_live_expiry", "expiry_date", "store_id", "id",
                 postgresql_where=sa.text(LIVE_LOT_SQL), sqlite_where=sa.text(LIVE_LOT_SQL)),
        sa.Index("ix_stock_lots_store_live_expiry", "store_id", "expiry_date", "id",
                 postgresql_where=sa.text(LIVE_LOT_SQL), sqlite_where=sa.text(LIVE_LOT_SQL)),
        sa.Index("ix_stock_lots_drug_lot", "drug_id", "lot_number"),
        # Availability across the chain: a prescription's drugs in every store, in-date lots only. Without
        # it a prepared (generic) plan ANDs in ix_stock_lots_status_expiry and reads most of that index.
        sa.Index("ix_stock_lots_availability", "drug_id", "status", "expiry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"))
    lot_number: Mapped[str] = mapped_column(sa.String(40))
    # The last day the lot may be used (有效期至), judged in the store's time zone.
    expiry_date: Mapped[date] = mapped_column(sa.Date)
    quantity_on_hand: Mapped[int] = mapped_column(default=0)
    quantity_reserved: Mapped[int] = mapped_column(default=0)
    # Moving average over the receipts of this lot in this store.
    unit_cost_fen: Mapped[int] = mapped_column()
    status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus, "lot_status"),
                                              default=LotStatus.AVAILABLE)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    store: Mapped[Store] = relationship()
    drug = relationship("Drug")

    @property
    def quantity_available(self) -> int:
        return self.quantity_on_hand - self.quantity_reserved

    def is_expired_on(self, day: date) -> bool:
        return self.expiry_date < day

    def state_on(self, day: date) -> "LotStatus":
        """What the lot really is on `day`: an available lot past its expiry date is expired even
        before the expiry job has marked it so (nothing of it is dispensed either way)."""
        if self.status == LotStatus.AVAILABLE and self.is_expired_on(day):
            return LotStatus.EXPIRED
        return self.status

    def sellable_on(self, day: date) -> int:
        """Packs that can be reserved for an order on `day`: unreserved packs of an in-date available lot."""
        return self.quantity_available if self.state_on(day) == LotStatus.AVAILABLE else 0

    def __repr__(self) -> str:
        return f"<StockLot {self.id} {self.lot_number} {self.quantity_on_hand}/{self.quantity_reserved}>"


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    RESERVATION = "reservation"
    RELEASE = "release"
    DISPENSE = "dispense"
    TRANSFER_OUT = "transfer_out"  # stock leaves the sender when shipped: in transit it is nowhere
    TRANSFER_IN = "transfer_in"
    ADJUSTMENT = "adjustment"
    WRITE_OFF = "write_off"
    STATUS_CHANGE = "status_change"  # quarantine, recall, expiry: no quantity moves


# What each kind may do to the two quantities, as SQL; one row = one change of one lot.
_SHAPES = " OR ".join([
    "(kind IN ('receipt', 'transfer_in') AND quantity > 0 AND reserved_change = 0)",
    "(kind = 'reservation' AND quantity = 0 AND reserved_change > 0)",
    "(kind = 'release' AND quantity = 0 AND reserved_change < 0)",
    "(kind = 'dispense' AND quantity < 0 AND reserved_change = quantity)",
    "(kind = 'transfer_out' AND quantity < 0 AND reserved_change BETWEEN quantity AND 0)",
    "(kind = 'adjustment' AND quantity <> 0 AND reserved_change = 0)",
    "(kind = 'write_off' AND quantity < 0 AND reserved_change = 0)",
    "(kind = 'status_change' AND quantity = 0 AND reserved_change = 0)",
])


class StockMovement(db.Model):
    """One append-only ledger row. For every lot, at all times:
    quantity_on_hand = SUM(quantity) and quantity_reserved = SUM(reserved_change) over its rows;
    for every (lot, reference), SUM(reserved_change) is what that order still holds on the lot."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        sa.CheckConstraint(_SHAPES, name="kind_shape"),
        sa.CheckConstraint("(kind = 'status_change') = (new_status IS NOT NULL)",
                           name="status_change_has_status"),
        sa.CheckConstraint("(reference_type IS NULL) = (reference_id IS NULL)", name="reference_complete"),
        sa.CheckConstraint("kind NOT IN ('reservation', 'release', 'dispense', 'transfer_out', "
                           "'transfer_in') OR reference_type IS NOT NULL", name="reference_required"),
        sa.CheckConstraint("kind NOT IN ('adjustment', 'write_off', 'status_change') OR reason IS NOT NULL",
                           name="reason_required"),
        sa.CheckConstraint("temperature_c IS NULL OR kind IN ('receipt', 'transfer_in')",
                           name="temperature_on_arrival"),
        # A recall must find every patient who received a lot: each dispense row names its patient.
        sa.CheckConstraint("kind <> 'dispense' OR patient_id IS NOT NULL", name="dispense_has_patient"),
        sa.Index("ix_stock_movements_lot_time", "lot_id", "created_at"),
        sa.Index("ix_stock_movements_reference", "reference_type", "reference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_lots.id"))
    kind: Mapped[MovementKind] = mapped_column(enum_column(MovementKind, "movement_kind"))
    # Signed change of the lot's quantity on hand, in whole packs.
    quantity: Mapped[int] = mapped_column(default=0)
    # Signed change of the lot's reserved quantity, in whole packs.
    reserved_change: Mapped[int] = mapped_column(default=0)
    new_status: Mapped[LotStatus | None] = mapped_column(enum_column(LotStatus, "lot_status"))
    # A code from app.inventory.reasons, and the user's own words.
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    # What the movement belongs to: ("order", 17), ("transfer", 3), ("count", 9) …
    reference_type: Mapped[str | None] = mapped_column(sa.String(30))
    reference_id: Mapped[int | None] = mapped_column()
    # Arrival temperature of cold-chain stock (°C).
    temperature_c: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Dispense rows: the patient the packs were handed to (set by reservations.dispense).
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[StockLot] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    patient = relationship("User", foreign_keys=[patient_id])


class LedgerAppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a ledger row."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, StockMovement):
            raise LedgerAppendOnlyError("stock movements are append-only")


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    PICKED = "picked"  # lots chosen FEFO and reserved at the sender: they cannot be sold twice
    SHIPPED = "shipped"  # left the sender (transfer_out rows): in transit, available nowhere
    RECEIVED = "received"  # entered the receiver (transfer_in rows), any shortfall recorded per line
    LOST = "lost"  # never arrived
    CANCELLED = "cancelled"  # before shipping; a picked transfer gives its reservation back



class StockTransfer(db.Model):
    """Packs of one drug moved from one store of the chain to another; its ledger rows carry the
    reference ("transfer", id), and its lines say which lots went and what arrived."""

    __tablename__ = "stock_transfers"
    __table_args__ = (
        sa.CheckConstraint("from_store_id <> to_store_id", name="two_stores"),
        sa.CheckConstraint("packs_requested > 0", name="packs_positive"),
        sa.CheckConstraint("status IN ('requested', 'cancelled') OR picked_at IS NOT NULL",
                           name="picked_at_set"),
        sa.CheckConstraint("status NOT IN ('shipped', 'received', 'lost') OR shipped_at IS NOT NULL",
                           name="shipped_at_set"),
        sa.CheckConstraint("(status = 'received') = (received_at IS NOT NULL)", name="received_at_set"),
        sa.CheckConstraint("receipt_temperature_c IS NULL OR status = 'received'",
                           name="temperature_on_receipt"),
        sa.CheckConstraint("(status IN ('lost', 'cancelled')) = (closed_at IS NOT NULL)",
                           name="closed_at_set"),
        sa.Index("ix_stock_transfers_from_status", "from_store_id", "status"),
        sa.Index("ix_stock_transfers_to_status", "to_store_id", "status"),
        # The transfers list, newest first a page at a time.
        sa.Index("ix_stock_transfers_requested", "requested_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    to_store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"), index=True)
    packs_requested: Mapped[int] = mapped_column()
    status: Mapped[TransferStatus] = mapped_column(enum_column(TransferStatus, "transfer_status"),
                                                   default=TransferStatus.REQUESTED)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A transfer for a patient's order: the sender picks lots in date for at least the days' supply,
    # and cancelling the order cancels it. (Inventory knows orders only by id, as the ledger does.)
    min_shelf_days: Mapped[int | None] = mapped_column()
    order_id: Mapped[int | None] = mapped_column(index=True)
    picked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Cold chain: the reading when the parcel was opened at the receiver (°C).
    receipt_temperature_c: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    # Why fewer packs arrived than were shipped (required when they did).
    discrepancy_note: Mapped[str] = mapped_column(sa.String(500), default="")
    # Lost or cancelled: who closed it, when, and why (in `close_note`).
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_note: Mapped[str] = mapped_column(sa.String(500), default="")

    from_store: Mapped[Store] = relationship(foreign_keys=[from_store_id])
    to_store: Mapped[Store] = relationship(foreign_keys=[to_store_id])
    drug = relationship("Drug")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    lines: Mapped[list["StockTransferLine"]] = relationship(
        back_populates="transfer", order_by="StockTransferLine.id", cascade="all, delete-orphan")

    @property
    def reference(self) -> tuple[str, int]:
        return "transfer", self.id

    @property
    def packs_shipped(self) -> int:
        return sum(line.packs for line in self.lines)

    @property
    def packs_received(self) -> int | None:
        if self.status != TransferStatus.RECEIVED:
            return None
        return sum(line.packs_received or 0 for line in self.lines)


class StockTransferLine(db.Model):
    """One sender's lot picked for a transfer: its number and expiry travel with the packs, so the
    receiver's lot is the same lot; `packs_received` below `packs` is the discrepancy."""

    __tablename__ = "stock_transfer_lines"
    __table_args__ = (
        sa.UniqueConstraint("transfer_id", "lot_id"),
        sa.CheckConstraint("packs > 0", name="packs_positive"),
        sa.CheckConstraint("packs_received IS NULL OR packs_received BETWEEN 0 AND packs",
                           name="received_within_shipped"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_transfers.id"))
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_lots.id"), index=True)
    lot_number: Mapped[str] = mapped_column(sa.String(40))
    expiry_date: Mapped[date] = mapped_column(sa.Date)
    packs: Mapped[int] = mapped_column()
    packs_received: Mapped[int | None] = mapped_column()
    received_lot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_lots.id"), index=True)

    transfer: Mapped[StockTransfer] = relationship(back_populates="lines")
    lot: Mapped[StockLot] = relationship(foreign_keys=[lot_id])
    received_lot: Mapped[StockLot | None] = relationship(foreign_keys=[received_lot_id])

    @property
    def packs_short(self) -> int:
        return 0 if self.packs_received is None else self.packs - self.packs_received


class LotRecall(db.Model):
    """A manufacturer's lot of a drug recalled chain-wide: every store's lot of it is marked recalled
    (status_change rows referencing ("recall", id)) and stock of it arriving later lands recalled."""

    __tablename__ = "lot_recalls"
    __table_args__ = (
        sa.UniqueConstraint("drug_id", "lot_number"),
        sa.CheckConstraint("reason <> ''", name="reason_present"),
        # The recalls list, newest first a page at a time.
        sa.Index("ix_lot_recalls_recalled", "recalled_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"))
    lot_number: Mapped[str] = mapped_column(sa.String(40))
    # The recall notice in the admin's words (who issued it, why).
    reason: Mapped[str] = mapped_column(sa.String(500))
    recalled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recalled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    drug = relationship("Drug")
    recalled_by = relationship("User")


class ReorderPoint(db.Model):
    """Below `min_packs` available, in-date packs the store is low on the drug; it is refilled up to
    `target_packs` (by a transfer from a store with a surplus, else a purchase)."""

    __tablename__ = "reorder_points"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "drug_id"),
        sa.CheckConstraint("min_packs >= 0", name="min_non_negative"),
        sa.CheckConstraint("target_packs > 0 AND target_packs >= min_packs", name="target_at_least_min"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"), index=True)
    min_packs: Mapped[int] = mapped_column()
    target_packs: Mapped[int] = mapped_column()
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    store: Mapped[Store] = relationship()
    drug = relationship("Drug")
