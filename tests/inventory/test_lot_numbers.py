"""A lot number is one lot however it is typed: trimmed, upper-case, inner spaces collapsed on receipt,
transfer, recall and search, so "sh01-0107" recalls lot SH01-0107."""

import pytest
from sqlalchemy import func, select

from app.inventory import services
from app.inventory.models import LotRecall, LotStatus, StockLot
from app.inventory.rules import normal_lot_number
from tests.inventory.conftest import AMLODIPINE, in_days
from tests.inventory.transfer_helpers import make_store, refused


@pytest.mark.parametrize(("typed", "stored"), [
    ("SH01-0107", "SH01-0107"),
    ("sh01-0107", "SH01-0107"),
    ("Sh01-0107", "SH01-0107"),
    ("  SH01-0107\t", "SH01-0107"),
    ("sh01   0107", "SH01 0107"),
    ("\u3000sh01-0107\u3000", "SH01-0107"),  # an ideographic space from a Chinese keyboard
    ("", ""),
    (None, ""),
])
def test_the_normal_form_of_a_lot_number(typed, stored):
    assert normal_lot_number(typed) == stored


def lots(db) -> list[tuple[str, int]]:
    return db.session.execute(select(StockLot.lot_number, StockLot.quantity_on_hand)
                              .order_by(StockLot.id)).all()


@pytest.mark.parametrize("typed", ["sh01-0107", "Sh01-0107", " SH01-0107 ", "sh01-0107  "])
def test_receiving_the_same_lot_typed_another_way_adds_to_the_one_lot(db, stock, typed):
    stock.receive("SH01-0107", in_days(300), 5)
    stock.receive(typed, in_days(300), 3)
    assert lots(db) == [("SH01-0107", 8)]


def test_a_lot_number_of_40_characters_after_trimming_is_kept_and_41_is_refused(db, stock):
    stock.receive("  " + "a" * 40 + "  ", in_days(300), 1)
    assert lots(db) == [("A" * 40, 1)]
    assert refused(db, stock.receive, "a" * 41, in_days(300), 1) == "A lot number has at most 40 characters."
    assert refused(db, stock.receive, "   ", in_days(300), 1) == "Enter the lot number."


@pytest.mark.parametrize("typed", ["sh01-0107", "SH01-0107", "  sh01-0107 ", "sH01-0107"])
def test_a_recall_by_lot_number_finds_the_lot_however_it_is_typed(db, stock, typed):
    lot = stock.receive("SH01-0107", in_days(300), 5)
    recall = services.recall_lot(stock.drugs[AMLODIPINE], typed, stock.pharmacist, "Manufacturer notice 3")
    assert recall.lot_number == "SH01-0107"
    assert lot.status == LotStatus.RECALLED
    assert refused(db, stock.receive, "sh01-0107", in_days(300), 1) == (
        "Lot SH01-0107 of Amlodipine (AMLODIPINE-5MG-TAB) has been recalled; it cannot be received.")
    assert db.session.scalar(select(func.count()).select_from(LotRecall)) == 1


def test_the_patients_of_a_lot_are_found_however_it_is_typed(db, stock):
    stock.receive("SH01-0107", in_days(300), 5)
    assert services.patients_who_received(stock.drugs[AMLODIPINE], " sh01-0107") == []
    assert refused(db, services.recall_lot, stock.drugs[AMLODIPINE], "sh01-0108", stock.pharmacist,
                   "Notice") == ("No store of the chain has received lot SH01-0108 of Amlodipine "
                                 "(AMLODIPINE-5MG-TAB); check the lot number.")


def test_receiving_a_transfer_takes_lot_numbers_typed_in_any_case(db, stock):
    stock.receive("SH01-0107", in_days(300), 5)
    receiver = make_store("RCV-LN")
    transfer = services.request_transfer(stock.store, receiver, stock.drugs[AMLODIPINE], 4, stock.pharmacist)
    services.pick(transfer, stock.pharmacist)
    services.ship(transfer, stock.pharmacist)
    services.receive_transfer(transfer, stock.pharmacist, received={" sh01-0107": 3}, note="One crushed.")
    arrived = db.session.scalar(select(StockLot).where(StockLot.store_id == receiver.id))
    assert (arrived.lot_number, arrived.quantity_on_hand) == ("SH01-0107", 3)
