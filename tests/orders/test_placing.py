"""Placing an order: what may be ordered, from which store, delivered where; and the patient's pages."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db as _db
from app.inventory.models import StoreServiceCity
from app.orders import queries as order_queries
from app.orders import services as orders
from app.orders.models import Order
from app.orders.states import OrderStatus
from tests import factories
from tests.orders.conftest import home_address
from tests.review.conftest import AMLODIPINE


def _orders() -> int:
    return _db.session.scalar(select(func.count()).select_from(Order))


def _refused(prescription, store, match, **kwargs):
    before = _orders()
    with pytest.raises(DomainError, match=match):
        orders.place(prescription, prescription.patient, store_id=store.id,
                     fulfilment=kwargs.pop("fulfilment", "pickup"), **kwargs)
    _db.session.rollback()
    assert _orders() == before  # nothing half-written


def test_pickup_order_prices_every_line_from_the_catalogue(db, shop, approve, ordering):
    prescription = approve(AMLODIPINE, ("METFORMIN-500MG-TAB", {"dose": "500", "frequency": "BID"}))
    order = ordering.place(prescription, shop.store)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.delivery_fee_fen == 0
    assert [(line.drug.code, line.packs, line.unit_price_fen) for line in order.lines] == [
        ("AMLODIPINE-5MG-TAB", 1, 3920), ("METFORMIN-500MG-TAB", 1, 1450)]  # 14 tablets: one pack of 20
    assert order.goods_fen == order.total_fen == 3920 + 1450


def test_delivery_adds_the_fee_and_keeps_the_address_as_it_was(app, db, shop, approve, ordering):
    prescription = approve()
    address = home_address(prescription.patient, city="上海市")  # the store serves "Shanghai"/"上海"
    order = ordering.place(prescription, shop.store, fulfilment="delivery", address=address)
    assert order.delivery_fee_fen == app.config["ORDER_DELIVERY_FEE_FEN"]
    assert order.total_fen == 3920 + order.delivery_fee_fen
    assert "8 Garden Lane" in order.delivery_address


def test_an_expired_prescription_cannot_be_ordered(db, shop, approve):
    prescription = approve()
    prescription.valid_until -= timedelta(days=1)
    _db.session.commit()
    _refused(prescription, shop.store, "can no longer be filled")


def test_an_unapproved_or_superseded_version_cannot_be_ordered(db, shop, sign, visit):
    prescription = sign(AMLODIPINE)  # awaiting review
    _refused(prescription, shop.store, "approved by a pharmacist")
    prescription.status = "superseded"
    _db.session.commit()
    _refused(prescription, shop.store, "replaced by a newer one")


def test_a_prescription_is_ordered_once(db, shop, approve, ordering):
    prescription = approve()
    ordering.place(prescription, shop.store)
    _refused(prescription, shop.store, "already been ordered")


def test_a_cancelled_order_frees_the_prescription_for_a_new_one(db, shop, approve, ordering):
    prescription = approve()
    first = ordering.place(prescription, shop.store)
    orders.cancel_by_patient(first, prescription.patient)
    _db.session.commit()
    assert ordering.place(prescription, shop.store).id != first.id


def test_a_store_without_the_stock_and_without_a_sender_is_refused(db, shop, approve):
    prescription = approve()
    empty = factories.make_store(code="EMPTY")
    # Only the shop has amlodipine; it could send it, so the empty store is offered after a transfer.
    later = orders.store_options(prescription, prescription.patient).after_transfer
    assert "EMPTY" in [option.store.code for option in later]
    shop.store.is_active = False
    _db.session.commit()
    _refused(prescription, empty, "cannot fill this prescription")


def test_an_address_outside_every_delivery_area_is_refused(db, shop, approve):
    prescription = approve()
    far = home_address(prescription.patient, city="Harbin")
    _refused(prescription, shop.store, "cannot deliver this prescription to Harbin", fulfilment="delivery",
             address_id=far.id)


def test_another_patients_address_is_refused(db, shop, approve):
    prescription = approve()
    theirs = home_address(factories.make_patient())
    _refused(prescription, shop.store, "Choose one of your delivery addresses", fulfilment="delivery",
             address_id=theirs.id)


def test_a_drug_that_is_never_delivered_forces_pickup(db, shop, approve, visit):
    prescription = approve()
    visit.drugs["AMLODIPINE-5MG-TAB"].is_deliverable = False
    address = home_address(prescription.patient)
    _refused(prescription, shop.store, "may not be delivered", fulfilment="delivery", address_id=address.id)
    assert orders.place(prescription, prescription.patient, store_id=shop.store.id, fulfilment="pickup")


def test_cold_chain_is_delivered_only_by_a_capable_store(db, shop, approve):
    prescription = approve(("INSULIN-GLARGINE-300IU-PEN", {"dose": "10", "dose_unit": "IU"}))
    address = home_address(prescription.patient)
    shop.store.is_cold_chain_capable = False
    _db.session.add(StoreServiceCity(store_id=shop.store.id, city="Shanghai"))
    _db.session.commit()
    _refused(prescription, shop.store, "cannot deliver", fulfilment="delivery", address_id=address.id)


def test_paying_twice_is_refused(db, shop, approve, ordering, flow):
    order, _payment = ordering.paid(approve(), shop.store)
    with pytest.raises(DomainError, match="no longer waiting for payment"):
        orders.start_payment(order)


def test_payment_is_refused_once_the_prescription_has_expired(db, shop, approve, ordering):
    prescription = approve()
    order = ordering.place(prescription, shop.store)
    prescription.valid_until -= timedelta(days=1)
    _db.session.commit()
    with pytest.raises(DomainError, match="no longer valid"):
        orders.start_payment(order)


def test_the_patient_chooses_a_store_pays_and_follows_the_order(db, client, login_as, shop, approve, flow):
    prescription = approve()
    login_as(prescription.patient)
    page = client.get(f"/prescriptions/{prescription.id}").get_data(as_text=True)
    assert f"/orders/new/{prescription.id}" in page
    page = client.get(f"/orders/new/{prescription.id}").get_data(as_text=True)
    assert "SH1" not in page and shop.store.name_en in page and "¥39.20" in page and "In stock" in page
    answer = client.post(f"/orders/new/{prescription.id}", data={
        "store_id": shop.store.id, "fulfilment": "pickup", "address_id": ""})
    assert answer.status_code == 303 and "/pay" in answer.location
    order = _db.session.scalar(select(Order).where(Order.prescription_id == prescription.id))
    answer = client.post(f"/orders/{order.id}/pay", data={"method_type": "card", "test_card": "pm_card_visa"})
    assert answer.status_code == 303
    flow.confirm(order_queries.current_payment(order))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-status="paid"' in page and "ready for pickup" in page
    assert f'data-order-id="{order.id}"' in client.get("/orders/").get_data(as_text=True)


def test_the_store_page_in_chinese_says_which_medicine_forces_pickup(db, client, login_as, shop, approve,
                                                                      visit):
    prescription = approve()
    visit.drugs["AMLODIPINE-5MG-TAB"].is_deliverable = False
    prescription.patient.locale = "zh"
    _db.session.commit()
    login_as(prescription.patient)
    page = client.get(f"/orders/new/{prescription.id}?how=delivery").get_data(as_text=True)
    assert 'id="pickup-only"' in page and "氨氯地平" in page and "药店" in page
    assert "data-store-id" not in page  # no store offers to deliver it


def test_an_expired_prescription_shows_why_instead_of_stores(db, client, login_as, shop, approve):
    prescription = approve()
    prescription.valid_until -= timedelta(days=1)
    _db.session.commit()
    login_as(prescription.patient)
    page = client.get(f"/orders/new/{prescription.id}").get_data(as_text=True)
    assert 'id="order-problem"' in page and "can no longer be filled" in page and "data-store-id" not in page
    assert "can no longer be filled" in client.get(f"/prescriptions/{prescription.id}").get_data(as_text=True)


def test_another_patients_prescription_has_no_store_page(db, client, login_as, shop, approve):
    prescription = approve()
    login_as(factories.make_patient())
    assert client.get(f"/orders/new/{prescription.id}").status_code == 404
    assert client.post(f"/orders/new/{prescription.id}", data={"store_id": shop.store.id,
                                                                "fulfilment": "pickup"}).status_code == 404
    assert _orders() == 0
