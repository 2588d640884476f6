"""Which held lots an order dispenses from, and in what order: the earliest expiry first, per drug, and
only lots the order still holds something on when it reads them under the lock."""

from datetime import date
from types import SimpleNamespace

from app.inventory.reservations import _held_by_drug


def lot(lot_id: int, drug_id: int, expiry: str):
    return SimpleNamespace(id=lot_id, drug_id=drug_id, expiry_date=date.fromisoformat(expiry))


def ids(by_drug: dict) -> dict[int, list[int]]:
    return {drug: [held.id for held in group] for drug, group in by_drug.items()}


def test_each_drugs_held_lots_come_earliest_expiry_first_and_by_id_on_the_same_day():
    lots = [lot(1, 10, "2027-06-30"), lot(2, 10, "2027-01-31"), lot(3, 20, "2027-03-31"),
            lot(4, 10, "2027-01-31"), lot(5, 20, "2026-12-31")]
    by_drug = _held_by_drug(lots, {1: 3, 2: 1, 3: 2, 4: 5, 5: 1})
    assert ids(by_drug) == {10: [2, 4, 1], 20: [5, 3]}


def test_a_lot_whose_hold_was_given_back_before_the_lock_is_not_dispensed_from():
    # Listed as held, then released by the worker before this request locked it: no longer in `held`.
    lots = [lot(1, 10, "2027-01-31"), lot(2, 10, "2027-06-30"), lot(3, 20, "2027-01-31")]
    by_drug = _held_by_drug(lots, {2: 4})
    assert ids(by_drug) == {10: [2]}


def test_a_lot_holding_nothing_or_less_is_not_dispensed_from():
    lots = [lot(1, 10, "2027-01-31"), lot(2, 10, "2027-03-31"), lot(3, 10, "2027-06-30")]
    assert [held.id for held in _held_by_drug(lots, {1: 0, 2: -1, 3: 1})[10]] == [3]
