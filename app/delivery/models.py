"""A delivery: the parcel of one dispensed order, its packing, its courier and what happened on the way."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.delivery.states import DeliveryStatus
from app.extensions import db


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_courier_status", "courier_id", "status"),
        sa.CheckConstraint("ice_packs >= 0", name="ice_packs_counted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    courier_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, "delivery_status"),
                                                   default=DeliveryStatus.ASSIGNED)
    carrier: Mapped[str] = mapped_column(sa.String(60), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(60), default="")
    # The packing record: a cold-chain parcel travels in a cold box with ice packs, packed at 2–8 °C.
    is_cold_chain: Mapped[bool] = mapped_column(default=False)
    cold_box: Mapped[bool] = mapped_column(default=False)
    ice_packs: Mapped[int] = mapped_column(default=0)
    packing_temperature_c: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    packed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    packed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Proof of delivery without the code: who took the parcel, and who they are to the patient.
    recipient_name: Mapped[str] = mapped_column(sa.String(120), default="")
    recipient_relationship: Mapped[str] = mapped_column(sa.String(60), default="")
    # A reading outside 2–8 °C: the medicine may not be used until a pharmacist has dealt with it.
    excursion_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    excursion_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order = relationship("Order", backref=sa.orm.backref("delivery", uselist=False))
    courier = relationship("User", foreign_keys=[courier_id])
    events: Mapped[list["DeliveryEvent"]] = relationship(back_populates="delivery",
                                                         order_by="DeliveryEvent.id")

    @property
    def has_open_excursion(self) -> bool:
        return self.excursion_at is not None and self.excursion_resolved_at is None


class DeliveryEvent(db.Model):
    """What the courier recorded, with the time and, for the cold chain, the temperature read."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, "delivery_status"))
    temperature_c: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    delivery: Mapped[Delivery] = relationship(back_populates="events")



class ColdChainExcursion(db.Model):
    """A reading outside 2–8 °C on the way, recorded against each lot the parcel carried: the packs are
    not to be used, and a pharmacist resolves it by replacing them or refunding the order."""

    __tablename__ = "cold_chain_excursions"
    __table_args__ = (sa.CheckConstraint("packs > 0", name="excursion_packs_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_lots.id"), index=True)
    packs: Mapped[int] = mapped_column()
    temperature_c: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # "replaced" (fresh packs dispensed) or "refunded" (the order cancelled and the money given back).
    resolution: Mapped[str] = mapped_column(sa.String(20), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    delivery: Mapped[Delivery] = relationship()
    lot = relationship("StockLot")
