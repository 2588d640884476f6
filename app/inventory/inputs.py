"""Checks on what callers hand the inventory services: whole packs, drugs, stores, lots, references."""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from app import limits, numbers
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.inventory.models import StockLot, Store
from app.inventory.rules import LOT_NUMBER_MAX, normal_lot_number

Reference = tuple[str, int]
# Far above any real delivery or order, far below the database's integer range (app.limits).
MAX_PACKS = limits.MAX_PACKS
MAX_FEN = limits.MAX_FEN
MAX_DAYS = limits.DAYS_SUPPLY.high
# Whatever fits an INTEGER column; each caller checks its own range and words its own message.
_INTEGER = limits.Bound(-limits.MAX_ID, limits.MAX_ID)


def integer(value) -> int | None:
    """The value as an int if it is a whole number (5, "5", Decimal("5.0")), else None.

    Parsed by app.numbers: "1e999999", "²", "١٢" and 100,000 digits are None, at no cost.
    """
    return numbers.int_or_none(value, _INTEGER)


def _id(value) -> int | None:
    return numbers.id_or_none(value)


def whole_packs(value, field: str = "quantity") -> int:
    """A quantity of at least one whole pack (stock is counted in the drug's packs, never loose units)."""
    number = integer(value)
    if number is None or number <= 0:
        raise DomainError({field: _l("Enter a whole number of packs, at least 1.")})
    if number > MAX_PACKS:
        raise DomainError({field: _l("Enter at most %(max)d packs at a time.", max=MAX_PACKS)})
    return number


def signed_packs(value, field: str = "quantity") -> int:
    """A change of stock: a whole number of packs, negative to reduce, never zero."""
    number = integer(value)
    if number is None or number == 0:
        raise DomainError({field: _l("Enter a whole number of packs other than 0 (negative to reduce).")})
    if abs(number) > MAX_PACKS:
        raise DomainError({field: _l("Enter at most %(max)d packs at a time.", max=MAX_PACKS)})
    return number


def fen(value, field: str = "unit_cost_fen") -> int:
    number = integer(value)
    if number is None or not 0 <= number <= MAX_FEN:
        raise DomainError({field: _l("Enter the unit cost as a whole number of fen, 0 or more.")})
    return number


def lot_number(value, field: str = "lot_number") -> str:
    """A lot number typed or imported anywhere, in the one form the chain stores and searches."""
    number = normal_lot_number(value)
    if not number:
        raise DomainError({field: _l("Enter the lot number.")})
    if len(number) > LOT_NUMBER_MAX:
        raise DomainError({field: _l("A lot number has at most 40 characters.")})
    return number


def temperature(value, field: str = "arrival_temperature") -> Decimal:
    """A reading in °C ("5", "5.0", "5.0 °C"), kept to 0.1 °C."""
    reading = numbers.parse_decimal_or_none(str(value).replace("°C", ""), limits.TEMPERATURE_C)
    if reading is None:
        raise DomainError({field: _l("Enter the arrival temperature in °C, for example 5.0.")})
    return reading.quantize(Decimal("0.1"))


def days(value, field: str = "days_supply") -> int:
    number = integer(value)
    if number is None or not 0 <= number <= MAX_DAYS:
        raise DomainError({field: _l("Enter the days' supply as a whole number of days.")})
    return number


def get_store(store) -> Store:
    found = store if isinstance(store, Store) else (
        db.session.get(Store, _id(store)) if _id(store) is not None else None)
    if found is None:
        raise DomainError({"store": _l("Unknown store.")})
    return found


def get_drug(drug) -> Drug:
    found = drug if isinstance(drug, Drug) else (
        db.session.get(Drug, _id(drug)) if _id(drug) is not None else None)
    if found is None:
        raise DomainError({"drug": _l("Unknown drug.")})
    return found


def get_lot(lot) -> StockLot:
    found = lot if isinstance(lot, StockLot) else (
        db.session.get(StockLot, _id(lot)) if _id(lot) is not None else None)
    if found is None:
        raise DomainError({"lot": _l("Unknown lot.")})
    return found


def items(value) -> dict[Drug, int]:
    """{drug: packs} from a mapping or (drug, packs) pairs; drugs as models or ids; repeats add up."""
    pairs: Iterable = value.items() if isinstance(value, Mapping) else (value or ())
    wanted: dict[int, int] = {}
    drugs: dict[int, Drug] = {}
    for drug, quantity in pairs:
        found = get_drug(drug)
        drugs[found.id] = found
        wanted[found.id] = wanted.get(found.id, 0) + whole_packs(quantity)
    if not wanted:
        raise DomainError({"items": _l("Add at least one drug.")})
    return {drugs[drug_id]: wanted[drug_id] for drug_id in sorted(wanted)}


def reference(value) -> Reference:
    """("order", 17) from a pair or from a model row (its table name and id)."""
    if isinstance(value, tuple) and len(value) == 2:
        kind, ident = value
    else:
        kind, ident = getattr(value, "__tablename__", None), getattr(value, "id", None)
    if not kind or integer(ident) is None:
        raise ValueError(f"a stock reference needs a type and an id, not {value!r}")
    return str(kind), integer(ident)


def iso_date(value) -> str:
    """A date in messages as on every page, 2027-01-15 (a moment in the reader's time zone)."""
    return format_date(value, "yyyy-MM-dd")


def drug_label(drug: Drug) -> str:
    """How messages name a drug: its generic name in the reader's language and its catalogue code."""
    return f"{drug.generic_name(current_language())} ({drug.code})"
