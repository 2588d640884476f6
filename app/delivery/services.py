"""Packing a dispensed order for delivery, and the courier's record of the trip.

The card is captured when the parcel leaves the store with its courier. A cold-chain parcel is packed
in a cold box with ice packs at 2–8 °C and read again on the way and at the door; a reading outside
that range is an excursion: the parcel may not be handed over until a pharmacist has dealt with it.
The patient proves receipt with the order's 6-digit code, or the recipient gives their name and how
they are related to the patient.
"""

import re
import secrets
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts.models import CourierProfile, Role
from app.audit.services import record
from app.database import utcnow
from app.delivery.models import ColdChainExcursion, Delivery, DeliveryEvent
from app.delivery.states import MACHINE
from app.delivery.states import DeliveryStatus as D
from app.errors import DomainError
from app.extensions import db
from app.inventory.inputs import temperature
from app.inventory.rules import within_cold_chain
from app.orders import notices
from app.orders.dispensing import HANDOVER_ATTEMPTS, issue_handover_code
from app.orders.models import PAYABLE, Fulfilment, Order
from app.orders.services import locked
from app.orders.states import MACHINE as ORDERS
from app.orders.states import OrderStatus as S
from app.payments import services as payments
from app.platform import events as platform_events
from app.reminders import plans as reminder_plans

NOT_THEIRS = _l("This delivery is assigned to another courier.")


def store_couriers(store_id: int) -> list:
    """The couriers based at the store, by name."""
    from app.accounts.models import User

    return db.session.scalars(select(User).join(CourierProfile, CourierProfile.user_id == User.id)
                              .where(CourierProfile.home_store_id == store_id, User.is_active)
                              .order_by(User.display_name, User.id)).all()


def _reading(value, field: str) -> Decimal:
    try:
        return temperature(value, field)
    except DomainError:
        raise DomainError({field: _l("Enter the temperature in °C, for example 5.0.")}) from None


def packing(order: Order, *, courier_id, cold_box=False, ice_packs=0, packing_temperature=None) -> dict:
    """The packing record's fields when they are right: one of the store's couriers, and for the cold
    chain a cold box with ice packs at 2–8 °C."""
    couriers = {courier.id: courier for courier in store_couriers(order.store_id)}
    if courier_id not in couriers:
        raise DomainError({"courier_id": _l("Choose one of this store's couriers.")})
    cold = any(line.drug.is_cold_chain for line in order.lines)
    reading, packs = None, 0
    if cold:
        reading = _reading(packing_temperature, "packing_temperature")
        packs = int(ice_packs) if str(ice_packs).isdigit() and len(str(ice_packs)) < 3 else 0
        if not cold_box or packs < 1:
            raise DomainError({"cold_box": _l("A cold-chain parcel goes in a cold box with ice packs.")})
        if not within_cold_chain(reading):
            raise DomainError({"packing_temperature": _l(
                "%(reading)s °C is outside 2–8 °C: cool the box before packing.", reading=reading)})
    return dict(courier_id=courier_id, is_cold_chain=cold, cold_box=bool(cold_box), ice_packs=packs,
                packing_temperature_c=reading)


def pack(order: Order, pharmacist, *, courier_id, cold_box: bool = False, ice_packs=0,
         packing_temperature=None, carrier: str = "", tracking_number: str = "") -> Delivery:
    """The dispensed order packed and handed to one of the store's couriers; the patient's delivery
    code is issued now."""
    order = locked(order)
    if order.fulfilment != Fulfilment.DELIVERY or order.status != S.DISPENSING or order.delivery is not None:
        raise DomainError(_l("This order is not waiting to be packed for delivery."))
    record_ = packing(order, courier_id=courier_id, cold_box=cold_box, ice_packs=ice_packs,
                      packing_temperature=packing_temperature)
    delivery = Delivery(order_id=order.id, store_id=order.store_id,
                        carrier=(carrier or "").strip()[:60],
                        tracking_number=(tracking_number or "").strip()[:60],
                        packed_by_id=pharmacist.id, **record_)
    db.session.add(delivery)
    issue_handover_code(order)
    db.session.flush()
    record("delivery.packed", obj=delivery, patient=order.patient_id, actor=pharmacist,
           detail=f"order={order.id}; courier={courier_id}; cold={record_['is_cold_chain']}; "
                  f"t={record_['packing_temperature_c']}")
    return delivery


def repack(delivery: Delivery, pharmacist, record_: dict) -> None:
    """A returned parcel packed again (fresh medicine after an excursion) for the same or another
    courier; the first packing stays in the record as an event."""
    delivery = _locked(delivery)
    before = (f"packed {delivery.packed_at:%Y-%m-%d %H:%M}; cold box={delivery.cold_box}; "
              f"ice packs={delivery.ice_packs}")
    MACHINE.move(delivery, D.ASSIGNED)
    for field, value in record_.items():
        setattr(delivery, field, value)
    delivery.packed_by_id, delivery.packed_at, delivery.picked_up_at = pharmacist.id, utcnow(), None
    _event(delivery, pharmacist, D.ASSIGNED, record_["packing_temperature_c"], before)
    issue_handover_code(delivery.order)
    record("delivery.repacked", obj=delivery, patient=delivery.order.patient_id, actor=pharmacist,
           detail=f"courier={record_['courier_id']}; t={record_['packing_temperature_c']}")


def unpack(delivery: Delivery, pharmacist) -> None:
    """A packed parcel the courier has not taken yet is unpacked: its order was cancelled."""
    delivery = _locked(delivery)
    MACHINE.move(delivery, D.RETURNED)
    _event(delivery, pharmacist, D.RETURNED, note="unpacked at the store")


def _locked(delivery: Delivery) -> Delivery:
    return db.session.scalar(select(Delivery).where(Delivery.id == delivery.id).with_for_update()
                             .execution_options(populate_existing=True))


def _event(delivery: Delivery, courier, status: D, reading=None, note: str = "") -> None:
    db.session.add(DeliveryEvent(delivery_id=delivery.id, status=status, temperature_c=reading,
                                 note=(note or "").strip()[:300], recorded_by_id=courier.id))


def _check_reading(delivery: Delivery, courier, value, *, required: bool):
    """The reading as a number; outside 2–8 °C an excursion is marked and recorded against each lot."""
    if not delivery.is_cold_chain or (value in (None, "") and not required):
        return None
    reading = _reading(value, "temperature")
    if not within_cold_chain(reading) and not delivery.has_open_excursion:
        delivery.excursion_at, delivery.excursion_resolved_at = utcnow(), None
        by_lot: dict[int, int] = {}
        for pack in _packs(delivery):
            by_lot[pack.lot_id] = by_lot.get(pack.lot_id, 0) + 1
        excursions = [ColdChainExcursion(delivery_id=delivery.id, lot_id=lot_id, packs=packs,
                                         temperature_c=reading, detected_at=delivery.excursion_at,
                                         recorded_by_id=courier.id)
                      for lot_id, packs in sorted(by_lot.items())]
        db.session.add_all(excursions)
        db.session.flush()
        platform_events.excursion_recorded(excursions)
        record("delivery.excursion", obj=delivery, patient=delivery.order.patient_id, actor=courier,
               detail=f"{reading} °C; lots={sorted(by_lot)}")
    return reading


def _packs(delivery: Delivery) -> list:
    """The packs in the parcel now: those dispensed for the order and not since taken back."""
    from app.orders.models import Dispense

    dispensed = db.session.scalar(select(Dispense).where(Dispense.order_id == delivery.order_id))
    return [pack for pack in dispensed.packs if pack.returned_at is None] if dispensed else []


def _mine(delivery: Delivery, courier) -> Delivery:
    if courier.role != Role.COURIER or delivery.courier_id != courier.id:
        raise DomainError(NOT_THEIRS)
    return _locked(delivery)


def picked_up(delivery: Delivery, courier, reading=None) -> None:
    """The parcel leaves the store: the order is out for delivery and the card is captured."""
    delivery = _mine(delivery, courier)
    order = locked(delivery.order)
    value = _check_reading(delivery, courier, reading, required=True)
    MACHINE.move(delivery, D.PICKED_UP)
    delivery.picked_up_at = utcnow()
    _event(delivery, courier, D.PICKED_UP, value)
    ORDERS.move(order, S.OUT_FOR_DELIVERY)
    order.handed_over_at = delivery.picked_up_at
    payment = payments.live_payment(PAYABLE, order.id)
    if payment is not None:
        payments.capture(payment)
    db.session.flush()
    record("delivery.picked_up", obj=delivery, patient=order.patient_id, actor=courier)
    notices.out_for_delivery(order)


def in_transit(delivery: Delivery, courier, reading=None, note: str = "") -> None:
    """A reading on the way (required for the cold chain); an excursion is marked, never hidden."""
    delivery = _mine(delivery, courier)
    value = _check_reading(delivery, courier, reading, required=True)
    if delivery.status != D.IN_TRANSIT:
        MACHINE.move(delivery, D.IN_TRANSIT)
    _event(delivery, courier, D.IN_TRANSIT, value, note)
    db.session.flush()
    record("delivery.in_transit", obj=delivery, patient=delivery.order.patient_id, actor=courier,
           detail=f"{value} °C" if value is not None else None)


def failed_attempt(delivery: Delivery, courier, note: str) -> None:
    delivery = _mine(delivery, courier)
    if not (note or "").strip():
        raise DomainError({"note": _l("Say why the parcel could not be delivered.")})
    MACHINE.move(delivery, D.FAILED_ATTEMPT)
    _event(delivery, courier, D.FAILED_ATTEMPT, note=note)
    db.session.flush()
    record("delivery.failed_attempt", obj=delivery, patient=delivery.order.patient_id, actor=courier,
           detail=note[:200])


def returned(delivery: Delivery, courier, note: str, reading=None) -> None:
    """The courier brings the parcel back to the store (nobody to take it, refused, or the cold chain
    broken); a pharmacist then replaces the medicine or cancels and refunds the order."""
    delivery = _mine(delivery, courier)
    if not (note or "").strip():
        raise DomainError({"note": _l("Say why the parcel is coming back to the store.")})
    value = _check_reading(delivery, courier, reading, required=False)
    MACHINE.move(delivery, D.RETURNED)
    _event(delivery, courier, D.RETURNED, value, note)
    db.session.flush()
    record("delivery.returned", obj=delivery, patient=delivery.order.patient_id, actor=courier,
           detail=note.strip()[:200])


def delivered(delivery: Delivery, courier, *, code: str = "", recipient: str = "", relationship: str = "",
              reading=None) -> bool:
    """Handed over at the door: with the patient's code, or the recipient's name and relationship.
    False (an attempt counted, the caller commits it) when the code is wrong."""
    delivery = _mine(delivery, courier)
    order = locked(delivery.order)
    if delivery.status not in (D.PICKED_UP, D.IN_TRANSIT):
        raise DomainError(_l("This parcel is not on its way."))
    value = _check_reading(delivery, courier, reading, required=True)
    if delivery.has_open_excursion:
        raise DomainError(_l("The cold chain was broken on the way: this medicine may not be handed over. "
                             "Bring the parcel back to the store; a pharmacist will deal with it."))
    typed = re.sub(r"\s", "", code or "")
    recipient, relationship = (recipient or "").strip()[:120], (relationship or "").strip()[:60]
    if typed:
        if order.code_attempts >= HANDOVER_ATTEMPTS:
            raise DomainError({"code": _l("Too many wrong codes: this code no longer works. Ask the "
                                          "patient for a new one from their order page.")})
        if not secrets.compare_digest(typed.encode(), (order.handover_code or "").encode()):
            order.code_attempts += 1
            record("order.wrong_code", obj=order, patient=order.patient_id, actor=courier,
                   detail=f"delivery attempt {order.code_attempts}")
            return False
    elif not (recipient and relationship):
        raise DomainError({"code": _l("Type the patient's 6-digit code, or the recipient's name and how "
                                      "they are related to the patient.")})
    now = utcnow()
    MACHINE.move(delivery, D.DELIVERED)
    delivery.delivered_at = now
    if not typed:
        delivery.recipient_name, delivery.recipient_relationship = recipient, relationship
    _event(delivery, courier, D.DELIVERED, value)
    ORDERS.move(order, S.COMPLETED)
    order.completed_at = now
    db.session.flush()
    record("delivery.delivered", obj=delivery, patient=order.patient_id, actor=courier,
           detail="code" if typed else f"recipient={recipient}; {relationship}")
    notices.delivered(order)
    reminder_plans.record_received(order)
    platform_events.medicines_received(order)
    return True


def confirm_receipt(order: Order, patient) -> None:
    """The patient says the parcel reached them."""
    order = locked(order)
    delivery = order.delivery
    if order.patient_id != patient.id or delivery is None or delivery.status != D.DELIVERED:
        raise DomainError(_l("This order has not been delivered yet."))
    delivery.received_confirmed_at = delivery.received_confirmed_at or utcnow()
    record("delivery.receipt_confirmed", obj=delivery, patient=order.patient_id)
