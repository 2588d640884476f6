"""Dispensing at the store: lots and traceability codes scanned, the checklist, one transaction for the
ledger, the dispense record and the outbox; then the handover against the patient's pickup code."""

import json
import re
from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.database import utcnow
from app.errors import DomainError
from app.extensions import db as _db
from app.inventory import services as inventory
from app.inventory.models import MovementKind, StockLot, StockMovement
from app.orders import dispensing
from app.orders.models import PAYABLE, Dispense, DispensedPack, Order
from app.orders.states import OrderStatus
from app.outbox.models import OutboxEvent
from app.patients.models import ConsentKind
from app.patients.services import grant_consent
from app.payments import operations
from app.payments.models import OperationKind, PaymentOperation, PaymentStatus
from tests import factories

EVERY_CHECK = [code for code, _label in dispensing.CHECKLIST]
PREFIX = "8690001"  # amlodipine 5 mg × 28's product code in these tests


def code(serial: int, prefix: str = PREFIX) -> str:
    return f"{prefix}{serial:013d}"


@pytest.fixture
def coded(visit):
    """Amlodipine and metformin have product codes, as the supplier's catalogue gives them."""
    visit.drugs["AMLODIPINE-5MG-TAB"].traceability_prefix = PREFIX
    visit.drugs["METFORMIN-500MG-TAB"].traceability_prefix = "8690002"
    _db.session.commit()
    return visit.drugs


def _lot(store, drug) -> StockLot:
    earliest = select(StockLot).order_by(StockLot.expiry_date)
    return _db.session.scalar(earliest.where(StockLot.store_id == store.id, StockLot.drug_id == drug.id))


def _paid(shop, approve, ordering):
    order, payment = ordering.paid(approve(), shop.store)
    return _db.session.get(Order, order.id), payment


def _scan(order, lot_number=None, codes=None):
    [line] = order.lines
    return {line.id: (lot_number or _lot(order.store, line.drug).lot_number, codes or code(1))}


def test_dispensing_writes_the_ledger_and_the_record_and_the_platform_hears_only_at_handover(
        app, db, shop, approve, ordering, coded, visit):
    grant_consent(visit.patient, ConsentKind.DATA_SHARING)
    order, _payment = _paid(shop, approve, ordering)
    dispensed = dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    _db.session.commit()
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.READY_FOR_PICKUP and len(order.handover_code) == 6
    assert [(p.traceability_code, p.lot.lot_number) for p in dispensed.packs] == [
        (code(1), _lot(shop.store, coded["AMLODIPINE-5MG-TAB"]).lot_number)]
    moved = _db.session.scalars(select(StockMovement).where(
        StockMovement.reference_type == PAYABLE, StockMovement.reference_id == order.id,
        StockMovement.kind == MovementKind.DISPENSE)).all()
    assert [(m.quantity, m.patient_id) for m in moved] == [(-1, order.patient_id)]
    # Prepared is not yet received: a parcel brought back must never count as the patient's supply.
    assert _db.session.scalars(select(OutboxEvent)).all() == []
    assert dispensing.hand_over(order, shop.pharmacist, order.handover_code)
    _db.session.commit()
    [event] = _db.session.scalars(select(OutboxEvent)).all()
    assert event.event_type == "medication.dispensed" and event.aggregate_id == order.lines[0].id
    payload = json.loads(event.payload)
    assert payload["contained"][0]["code"]["coding"][0]["code"] == "C08CA01"
    assert payload["quantity"]["value"] == 28
    assert order.patient.display_name not in event.payload and order.patient.phone not in event.payload
    assert app.test_cli_runner().invoke(args=["inventory", "verify"]).exit_code == 0


@pytest.mark.parametrize(("scanned", "codes", "message"), [
    ("NO-SUCH-LOT", None, "no lot NO-SUCH-LOT"),
    ("metformin", None, "not Amlodipine"),
    (None, code(1, "8690002"), "belongs to another product"),
    (None, "12345", "has 20 digits"),
    (None, f"{code(1)}\n{code(2)}", "one traceability code per pack"),
])
def test_a_wrong_scan_is_refused_and_nothing_is_dispensed(db, shop, approve, ordering, coded, visit, scanned,
                                                          codes, message):
    order, _payment = _paid(shop, approve, ordering)
    if scanned == "metformin":
        scanned = _lot(shop.store, visit.drugs["METFORMIN-500MG-TAB"]).lot_number
    with pytest.raises(DomainError, match=message):
        dispensing.dispense(order, shop.pharmacist, _scan(order, scanned, codes), EVERY_CHECK)
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.PAID
    assert _db.session.scalar(select(func.count()).select_from(Dispense)) == 0


def test_every_check_must_be_ticked(db, shop, approve, ordering, coded):
    order, _payment = _paid(shop, approve, ordering)
    with pytest.raises(DomainError, match="Tick every check"):
        dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK[:-1])


def test_an_expired_lot_is_refused(db, shop, approve, ordering, coded):
    order, _payment = _paid(shop, approve, ordering)
    lot = _lot(shop.store, coded["AMLODIPINE-5MG-TAB"])
    with pytest.raises(DomainError, match="may not be dispensed"):
        dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK,
                            now=utcnow().replace(year=lot.expiry_date.year + 1))


def test_a_traceability_code_is_dispensed_once_chain_wide(db, shop, approve, ordering, coded, sign, visit):
    first, _payment = _paid(shop, approve, ordering)
    dispensing.dispense(first, shop.pharmacist, _scan(first), EVERY_CHECK)
    _db.session.commit()
    second, _payment = _paid(shop, approve, ordering)
    with pytest.raises(DomainError, match="already been dispensed"):
        dispensing.dispense(second, shop.pharmacist, _scan(second), EVERY_CHECK)
    _db.session.rollback()
    assert dispensing.dispense(second, shop.pharmacist, _scan(second, codes=code(2)), EVERY_CHECK)


def test_another_in_date_lot_of_the_same_drug_may_be_substituted(db, shop, approve, ordering, coded):
    order, _payment = _paid(shop, approve, ordering)
    drug = coded["AMLODIPINE-5MG-TAB"]
    later = inventory.receive(shop.store, drug, "LATER-1", (utcnow() + timedelta(days=500)).date(), 5, 500,
                              shop.pharmacist)
    _db.session.commit()
    dispensed = dispensing.dispense(order, shop.pharmacist, _scan(order, "LATER-1"), EVERY_CHECK)
    _db.session.commit()
    assert [p.lot_id for p in dispensed.packs] == [later.id]
    _db.session.refresh(later)
    assert (later.quantity_on_hand, later.quantity_reserved) == (4, 0)
    assert _lot(shop.store, drug).quantity_reserved == 0  # the first lot's hold was released


def test_a_pharmacist_of_another_store_cannot_dispense_it(db, client, login_as, shop, approve, ordering,
                                                          coded):
    order, _payment = _paid(shop, approve, ordering)
    elsewhere = factories.make_user("pharmacist")
    _db.session.commit()
    with pytest.raises(DomainError, match="another store"):
        dispensing.dispense(order, elsewhere, _scan(order), EVERY_CHECK)
    _db.session.rollback()
    login_as(elsewhere)
    assert client.get(f"/orders/{order.id}/dispense").status_code == 404
    assert client.post(f"/orders/{order.id}/hand-over", data={"code": "000000"}).status_code == 404
    assert f'data-order-id="{order.id}"' not in client.get("/orders/store").get_data(as_text=True)


def test_the_pickup_code_hands_over_and_captures_the_card_once(db, shop, approve, ordering, coded, flow):
    order, payment = _paid(shop, approve, ordering)
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    _db.session.commit()
    right = order.handover_code
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for attempt in range(1, dispensing.HANDOVER_ATTEMPTS + 1):
        assert dispensing.hand_over(order, shop.pharmacist, wrong) is False
        _db.session.commit()
        assert _db.session.get(Order, order.id).code_attempts == attempt
    with pytest.raises(DomainError, match="Too many wrong codes"):
        dispensing.hand_over(order, shop.pharmacist, right)
    _db.session.rollback()
    dispensing.new_handover_code(order, order.patient)
    _db.session.commit()
    order = _db.session.get(Order, order.id)
    assert order.code_attempts == 0 and len(order.handover_code) == 6
    assert dispensing.hand_over(order, shop.pharmacist, order.handover_code) is True
    _db.session.commit()
    assert operations.perform_for_payable(PAYABLE, order.id)
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.COMPLETED and order.handed_over_at is not None
    assert _db.session.scalar(select(func.count()).select_from(PaymentOperation).where(
        PaymentOperation.payment_id == payment.id, PaymentOperation.kind == OperationKind.CAPTURE)) == 1
    assert _db.session.get(type(payment), payment.id).status == PaymentStatus.CAPTURED
    assert flow.intent(payment)["status"] == "succeeded"


def test_the_label_reads_in_the_patients_language(db, client, login_as, shop, approve, ordering, coded):
    order, _payment = _paid(shop, approve, ordering)
    order.patient.locale = "zh"
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    _db.session.commit()
    login_as(shop.pharmacist)
    answer = client.get(f"/orders/{order.id}/label.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(answer.data)).pages)
    assert "氨氯地平" in text and "每日一次" in text and order.patient.display_name in text
    assert _lot(shop.store, coded["AMLODIPINE-5MG-TAB"]).lot_number in text


def test_the_pharmacist_dispenses_and_hands_over_from_the_pages(db, client, login_as, shop, approve, ordering,
                                                               coded):
    order, _payment = _paid(shop, approve, ordering)
    login_as(shop.pharmacist)
    assert f'data-order-id="{order.id}"' in client.get("/orders/store").get_data(as_text=True)
    [line] = order.lines
    form = {f"lot_{line.id}": _lot(shop.store, line.drug).lot_number, f"codes_{line.id}": code(7),
            "checklist": EVERY_CHECK[:3]}
    refused = client.post(f"/orders/{order.id}/dispense", data=form)
    assert refused.status_code == 400 and "Tick every check" in refused.get_data(as_text=True)
    form["checklist"] = EVERY_CHECK
    assert client.post(f"/orders/{order.id}/dispense", data=form).status_code == 303
    page = client.get(f"/orders/{order.id}/dispense").get_data(as_text=True)
    assert 'id="print-label"' in page and 'data-status="ready_for_pickup"' in page
    _db.session.expire_all()
    the_code = _db.session.get(Order, order.id).handover_code
    client.post(f"/orders/{order.id}/hand-over", data={"code": the_code})
    assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED


def test_the_patient_sees_the_pickup_code_and_its_qr_code(db, client, login_as, shop, approve, ordering,
                                                          coded):
    order, _payment = _paid(shop, approve, ordering)
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    _db.session.commit()
    login_as(order.patient)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f'id="pickup-code" translate="no">{order.handover_code}<' in page and "<svg" in page
    assert _db.session.scalar(select(func.count()).select_from(DispensedPack)) == 1


def test_a_supply_dispensed_ten_days_ago_is_still_being_taken(db, shop, approve, ordering, coded):
    from app.checks.adapters import build_context
    from app.checks.engine import MedicationSource
    from app.prescribing.services import local_date

    order, _payment = _paid(shop, approve, ordering)
    ten_days_ago = utcnow() - timedelta(days=10)
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK, now=ten_days_ago)
    _db.session.commit()
    [line] = order.lines
    assert line.days_supply == 28
    last_day = local_date(ten_days_ago) + timedelta(days=27)

    def taking(today):
        return [(m.drug.code, m.source, m.last_day) for m in build_context(order.patient, today=today)
                .active_medications if m.drug.code == "AMLODIPINE-5MG-TAB"]

    today = local_date(utcnow())
    # Counted once, from the dispensing day (not also from the prescription's signing).
    assert taking(today) == [("AMLODIPINE-5MG-TAB", MedicationSource.DISPENSING, last_day)]
    assert taking(last_day) == [("AMLODIPINE-5MG-TAB", MedicationSource.DISPENSING, last_day)]
    assert taking(last_day + timedelta(days=1)) == []


@pytest.mark.parametrize(("days_left", "offered"), [(6, True), (7, True), (8, False)])
def test_a_refill_is_offered_when_seven_days_of_the_supply_remain(db, client, login_as, shop, approve,
                                                                   ordering, coded, days_left, offered):
    from app.orders.queries import refill_due, supply_end
    from app.prescribing.services import local_date

    order, _payment = _paid(shop, approve, ordering)
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    dispensing.hand_over(order, shop.pharmacist, order.handover_code)
    _db.session.commit()
    end = supply_end(order)
    assert end == local_date(order.dispensed_at) + timedelta(days=27)  # 28 days, counting the first
    today = end - timedelta(days=days_left - 1)
    assert (refill_due(order, today) == end) is offered
    if days_left == 7:
        login_as(order.patient)
        page = client.get(f"/orders/{order.id}").get_data(as_text=True)
        assert 'id="request-refill"' not in page  # dispensed today: 28 days remain
        booking = client.get(f"/consultations/new?condition_id={order.prescription.condition_id}"
                             f"&doctor_id={order.prescription.doctor_id}&refill=1").get_data(as_text=True)
        assert "Follow-up for a refill" in booking
        assert re.search(rf'value="{order.prescription.doctor_id}"\s+checked', booking)
