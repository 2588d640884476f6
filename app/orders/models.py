"""A medication order: one approved prescription version filled by one store, picked up or delivered."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.orders.states import HOLDING_STATUSES, OrderStatus

# The payable_type of an order's payments, and the reference_type of its stock movements.
PAYABLE = "order"

_HOLDING_SQL = ", ".join(f"'{status.value}'" for status in sorted(HOLDING_STATUSES))


class Fulfilment(StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint("goods_fen > 0 AND delivery_fee_fen >= 0 AND total_fen = goods_fen + "
                           "delivery_fee_fen", name="amounts_add_up"),
        sa.CheckConstraint("(fulfilment = 'delivery') = (address_id IS NOT NULL)",
                           name="address_iff_delivery"),
        sa.CheckConstraint("fulfilment = 'delivery' OR delivery_fee_fen = 0", name="pickup_has_no_fee"),
        sa.CheckConstraint("code_attempts >= 0", name="code_attempts_counted"),
        # One live order per prescription version: two tabs or a double click cannot place two.
        sa.Index("uq_orders_prescription_holding", "prescription_id", unique=True,
                 sqlite_where=sa.text(f"status IN ({_HOLDING_SQL})"),
                 postgresql_where=sa.text(f"status IN ({_HOLDING_SQL})")),
        sa.Index("ix_orders_patient_placed", "patient_id", "placed_at", "id"),
        sa.Index("ix_orders_store_status", "store_id", "status", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriptions.id"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    fulfilment: Mapped[Fulfilment] = mapped_column(enum_column(Fulfilment, "order_fulfilment"))
    address_id: Mapped[int | None] = mapped_column(sa.ForeignKey("addresses.id"))
    # The address as it was when the order was placed: the patient may edit or retire it later.
    delivery_address: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "order_status"),
                                                default=OrderStatus.AWAITING_PAYMENT)
    goods_fen: Mapped[int] = mapped_column()
    delivery_fee_fen: Mapped[int] = mapped_column(default=0)
    total_fen: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(sa.String(3))
    # Stock must first come from another store: the day the store expects to have it.
    ready_after: Mapped[date | None] = mapped_column(sa.Date)
    # Pickup: the code the patient shows at the counter; delivery: the code they give the courier.
    handover_code: Mapped[str | None] = mapped_column(sa.String(6))
    code_attempts: Mapped[int] = mapped_column(default=0)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispensed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    close_reason: Mapped[str] = mapped_column(sa.String(40), default="")

    prescription = relationship("Prescription")
    patient = relationship("User", foreign_keys=[patient_id])
    store = relationship("Store")
    address = relationship("Address")
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.position",
                                                    cascade="all, delete-orphan")


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("packs > 0 AND unit_price_fen > 0", name="line_positive"),
        sa.UniqueConstraint("order_id", "position", name="uq_order_lines_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column()
    prescription_item_id: Mapped[int] = mapped_column(sa.ForeignKey("prescription_items.id"))
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"))
    packs: Mapped[int] = mapped_column()
    days_supply: Mapped[int] = mapped_column()
    unit_price_fen: Mapped[int] = mapped_column()

    order: Mapped[Order] = relationship(back_populates="lines")
    drug = relationship("Drug")
    prescription_item = relationship("PrescriptionItem")

    @property
    def total_fen(self) -> int:
        return self.packs * self.unit_price_fen


class Dispense(db.Model):
    """An order's medicines handed out of the store's stock: which lots went to which patient (what a
    recall reads), who checked them, and each pack's traceability code."""

    __tablename__ = "dispenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    pharmacist_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    dispensed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The pharmacist's "four checks, ten matches", each ticked; kept as the codes of the list.
    checklist: Mapped[str] = mapped_column(sa.String(300))

    order = relationship("Order")
    pharmacist = relationship("User", foreign_keys=[pharmacist_id])
    packs: Mapped[list["DispensedPack"]] = relationship(back_populates="dispense",
                                                        order_by="DispensedPack.id")


class DispensedPack(db.Model):
    """One pack handed out: its order line, lot and traceability code. A code is dispensed once
    chain-wide; a returned pack frees its code only when it goes back to stock through quarantine."""

    __tablename__ = "dispensed_packs"
    __table_args__ = (
        sa.Index("uq_dispensed_packs_code_live", "traceability_code", unique=True,
                 sqlite_where=sa.text("freed_at IS NULL"), postgresql_where=sa.text("freed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispense_id: Mapped[int] = mapped_column(sa.ForeignKey("dispenses.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id"))
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"))
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_lots.id"), index=True)
    traceability_code: Mapped[str] = mapped_column(sa.String(20))
    freed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The pack came back to the store: to quarantine (its code is freed if the lot is released) or to be
    # destroyed after a cold-chain excursion (its code is never freed).
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_to: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")

    dispense: Mapped[Dispense] = relationship(back_populates="packs")
    lot = relationship("StockLot")
    drug = relationship("Drug")
