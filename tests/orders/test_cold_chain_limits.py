"""The cold chain's 2–8 °C at its edges, read to 0.1 °C as the couriers' and pharmacists' thermometers
give it: 2.0 and 8.0 are in range, 1.9 and 8.1 are excursions, when the parcel is packed and when the
courier reads it on the way (an excursion stops the handover at the door)."""

from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.delivery import services as deliveries
from app.delivery.models import ColdChainExcursion, Delivery
from app.errors import DomainError
from app.extensions import db as _db
from app.orders.models import Order
from app.orders.states import OrderStatus
from tests.orders.test_delivery import INSULIN, _dispensed
from tests.orders.test_dispensing import coded  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("coded")

BROKEN = ("The cold chain was broken on the way: this medicine may not be handed over. Bring the parcel "
          "back to the store; a pharmacist will deal with it.",
          "途中冷链中断：此药品不得交付。请将包裹带回门店，由药师处理。")
EDGES = [pytest.param("2.0", False, id="2.0-in-range"), pytest.param("8.0", False, id="8.0-in-range"),
         pytest.param("1.9", True, id="1.9-excursion"), pytest.param("8.1", True, id="8.1-excursion")]


def _excursions(delivery) -> list[ColdChainExcursion]:
    return list(_db.session.scalars(select(ColdChainExcursion)
                                    .where(ColdChainExcursion.delivery_id == delivery.id)))


def _packed(order, shop, courier, reading: str = "5.0") -> Delivery:
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id, cold_box=True, ice_packs="2",
                               packing_temperature=reading)
    _db.session.commit()
    return delivery


@pytest.mark.parametrize(("reading", "excursion"), EDGES)
def test_a_reading_on_the_way_at_the_edge_of_2_to_8_degrees(db, shop, approve, ordering, visit, courier,
                                                             reading, excursion):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _packed(order, shop, courier)
    deliveries.picked_up(delivery, courier, "5.0")
    deliveries.in_transit(delivery, courier, reading)
    _db.session.commit()
    delivery = _db.session.get(Delivery, delivery.id)
    assert delivery.has_open_excursion is excursion
    assert [e.temperature_c for e in _excursions(delivery)] == ([Decimal(reading)] if excursion else [])
    if not excursion:
        assert deliveries.delivered(delivery, courier, code=order.handover_code, reading=reading) is True
        _db.session.commit()
        assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED
        return
    with pytest.raises(DomainError) as refused:
        deliveries.delivered(delivery, courier, code=order.handover_code, reading="5.0")
    reason = refused.value.reasons[""]
    with force_locale("en"):
        english = str(reason)
    with force_locale("zh"):
        chinese = str(reason)
    assert (english, chinese) == BROKEN
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.OUT_FOR_DELIVERY


@pytest.mark.parametrize(("reading", "excursion"), EDGES)
def test_a_reading_at_the_door_at_the_edge_of_2_to_8_degrees(db, shop, approve, ordering, visit, courier,
                                                              reading, excursion):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _packed(order, shop, courier)
    deliveries.picked_up(delivery, courier, "5.0")
    _db.session.commit()
    if not excursion:
        assert deliveries.delivered(delivery, courier, code=order.handover_code, reading=reading) is True
        _db.session.commit()
        assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED
        return
    with pytest.raises(DomainError, match="cold chain was broken"):
        deliveries.delivered(delivery, courier, code=order.handover_code, reading=reading)
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.OUT_FOR_DELIVERY


@pytest.mark.parametrize("reading", ["1.9", "8.1"])
def test_packing_just_outside_2_to_8_degrees_says_so_and_packs_nothing(db, shop, approve, ordering, visit,
                                                                       courier, reading):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    with pytest.raises(DomainError) as refused:
        _packed(order, shop, courier, reading)
    reason = refused.value.reasons["packing_temperature"]
    with force_locale("en"):
        assert str(reason) == f"{reading} °C is outside 2–8 °C: cool the box before packing."
    with force_locale("zh"):
        assert str(reason) == f"{reading} °C 超出 2–8 °C：请先让保温箱降温再打包。"
    _db.session.rollback()
    assert _db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert _db.session.get(Order, order.id).status == OrderStatus.DISPENSING
