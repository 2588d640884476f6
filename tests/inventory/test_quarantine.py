"""The assessment of a quarantined lot: a pharmacist of its store releases it for sale or rejects it, with
a reason, in the ledger; nobody else decides, and only a quarantined lot with packs is assessed."""

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.errors import DomainError
from app.inventory import ledger, quarantine, services
from app.inventory.models import LotStatus, MovementKind, StockLot
from tests import factories
from tests.inventory.conftest import AMLODIPINE, INSULIN, in_days, ledger_rows
from tests.inventory.transfer_helpers import refused


@pytest.fixture
def cold(stock, db):
    """Insulin received at 12 °C (quarantined) and a pharmacist whose home store holds it."""
    stock.lot = stock.receive("INS-12", in_days(300), 6, INSULIN, temperature="12")
    stock.local = factories.make_user(Role.PHARMACIST)
    stock.local.pharmacist_profile.home_store_id = stock.store.id
    db.session.commit()
    assert stock.lot.status == LotStatus.QUARANTINED
    return stock


def can_reserve(stock, packs: int, order: int) -> bool:
    try:
        services.reserve(stock.store, {stock.drugs[INSULIN]: packs}, 30, ("order", order), None)
    except DomainError:
        return False
    return True


def test_a_pharmacist_of_the_store_releases_a_quarantined_lot_for_sale_with_a_reason(db, cold):
    assert not can_reserve(cold, 1, 1)
    reason = "  Data logger shows 12 °C for 20 minutes; within stability data. "
    quarantine.assess(cold.lot, "release", reason, cold.local)
    assert (cold.lot.status, cold.lot.quantity_on_hand) == (LotStatus.AVAILABLE, 6)
    row = ledger_rows(cold.lot)[-1]
    assert (row.kind, row.new_status, row.reason, row.quantity, row.user_id) == (
        MovementKind.STATUS_CHANGE, LotStatus.AVAILABLE, "quarantine_released", 0, cold.local.id)
    assert row.note == "Data logger shows 12 °C for 20 minutes; within stability data."
    assert can_reserve(cold, 6, 2)
    assert ledger.verify() == []


def test_rejecting_writes_off_every_pack_and_the_lot_is_never_sold(db, cold):
    quarantine.assess(cold.lot, "reject", "Frozen in transit: destroyed.", cold.local)
    assert (cold.lot.status, cold.lot.quantity_on_hand) == (LotStatus.QUARANTINED, 0)
    row = ledger_rows(cold.lot)[-1]
    assert (row.kind, row.quantity, row.reason, row.note) == (
        MovementKind.WRITE_OFF, -6, "quarantine_rejected", "Frozen in transit: destroyed.")
    assert not can_reserve(cold, 1, 3)
    assert ledger.verify() == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_decision_without_a_reason_is_refused(db, cold, reason):
    assert refused(db, quarantine.assess, cold.lot, "release", reason, cold.local) == (
        "Give the reason for the decision: what was checked and found.")


def test_a_reason_longer_than_500_characters_is_refused_and_500_is_kept(db, cold):
    assert refused(db, quarantine.assess, cold.lot, "reject", "x" * 501, cold.local) == (
        "A note has at most 500 characters.")
    quarantine.assess(cold.lot, "reject", "x" * 500, cold.local)
    assert ledger_rows(cold.lot)[-1].note == "x" * 500


@pytest.mark.parametrize("decision", ["", "approve", "RELEASE ", None])
def test_a_decision_other_than_release_or_reject_is_refused(db, cold, decision):
    assert refused(db, quarantine.assess, cold.lot, decision, "Checked.", cold.local) == (
        "Choose release or reject.")


def test_only_a_pharmacist_of_the_lot_s_store_decides(db, cold):
    admin = factories.make_user(Role.ADMIN)
    elsewhere = cold.pharmacist  # a pharmacist whose home is another store
    for user in (admin, elsewhere, factories.make_user(Role.DOCTOR), None):
        assert refused(db, quarantine.assess, cold.lot, "release", "Checked.", user) == (
            "Only a pharmacist of this store can assess a quarantined lot.")
    assert db.session.get(StockLot, cold.lot.id).status == LotStatus.QUARANTINED


def test_only_a_quarantined_lot_with_packs_is_assessed(db, cold):
    available = cold.receive("AML-1", in_days(300), 4)
    quarantine.assess(cold.lot, "reject", "Destroyed.", cold.local)
    for lot in (available, cold.lot):  # in stock and for sale; already rejected (no packs left)
        assert refused(db, quarantine.assess, lot, "release", "Checked.", cold.local) == (
            f"Lot {lot.lot_number} is not waiting for assessment: it has no quarantined packs.")
    recalled = cold.receive("AML-2", in_days(300), 4)
    services.recall_lot(cold.drugs[AMLODIPINE], "AML-2", cold.local, "Manufacturer notice 7")
    assert refused(db, quarantine.assess, recalled, "release", "Checked.", cold.local).endswith(
        "it has no quarantined packs.")


def test_a_quarantined_lot_past_its_expiry_date_cannot_be_released_only_rejected(db, cold):
    cold.lot.expiry_date = in_days(-1)  # it waited on the shelf past its date
    db.session.commit()
    assert refused(db, quarantine.assess, cold.lot, "release", "Checked.", cold.local) == (
        f"Lot INS-12 expired on {in_days(-1).isoformat()}; it cannot be released for sale. "
        "Reject it instead.")
    quarantine.assess(cold.lot, "reject", "Expired while quarantined.", cold.local)
    assert cold.lot.quantity_on_hand == 0


def test_packs_still_reserved_for_an_order_block_a_rejection_until_released(db, cold):
    quarantine.assess(cold.lot, "release", "Fine.", cold.local)
    services.reserve(cold.store, {cold.drugs[INSULIN]: 2}, 30, ("order", 5), cold.local)
    ledger.change_status(cold.lot, LotStatus.QUARANTINED, "temperature_excursion", user=cold.local,
                         note="11.0 °C on arrival")
    assert refused(db, quarantine.assess, cold.lot, "reject", "Destroyed.", cold.local) == (
        "2 packs of lot INS-12 are still reserved for orders; release them before rejecting the lot.")
    services.release(cold.store, ("order", 5), cold.local)
    quarantine.assess(cold.lot, "reject", "Destroyed.", cold.local)
    assert db.session.scalar(select(StockLot.quantity_on_hand).where(StockLot.id == cold.lot.id)) == 0
