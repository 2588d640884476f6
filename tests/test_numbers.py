"""The bounded number parser (app.numbers) and the bounds it is given (app.limits)."""

from dataclasses import fields
from decimal import Decimal

import pytest

from app import limits, numbers
from app.limits import Bound

PACKS = Bound(1, limits.MAX_PACKS)
DOSE = limits.DOSE


@pytest.mark.parametrize(("text", "expected"), [
    ("5", 5), (" 42 ", 42), ("+7", 7), ("-3", -3), ("5.0", 5), ("１２", 12), ("007", 7),
])
def test_plain_whole_numbers_are_read(text, expected):
    assert numbers.parse_int(text, Bound(-10, 100)) == expected


@pytest.mark.parametrize("text", [
    "1e999999", "1E5", "1e-3", "²", "١٢", "۱", "1_000", "0x10", "1,000", "5.5", "", " ", "\x00", "5\x00",
    "5\u200b", "1 000", "--1", "NaN", "Infinity", "inf", "½", "五",
])
def test_anything_else_is_refused_as_not_a_whole_number(text):
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_int(text, Bound(-10**6, 10**6))
    assert error.value.kind in (numbers.SHAPE, numbers.PLACES)
    assert error.value.message == numbers.NOT_WHOLE


@pytest.mark.parametrize("text", ["9" * 100_000, "1" + "0" * 30, str(2**63)])
def test_long_runs_of_digits_are_out_of_range_not_converted(text):
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_int(text, PACKS)
    assert error.value.kind == numbers.TOO_LARGE
    assert str(error.value) == "Enter a number from 1 to 100000."


def test_a_long_text_that_is_not_digits_is_not_a_number():
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal("x" * 100_000, DOSE)
    assert error.value.kind == numbers.SHAPE


@pytest.mark.parametrize(("text", "expected"), [
    ("2.5", Decimal("2.5")), ("0.0001", Decimal("0.0001")), (".5", Decimal("0.5")), ("5.", Decimal(5)),
    ("２．５", Decimal("2.5")),
])
def test_decimals_are_read_exactly(text, expected):
    assert numbers.parse_decimal(text, DOSE) == expected


@pytest.mark.parametrize(("text", "kind"), [
    ("1e999999", numbers.SHAPE), ("1e30", numbers.SHAPE), ("1E-999999", numbers.SHAPE),
    ("0.00001", numbers.TOO_SMALL), ("0.12345", numbers.PLACES), ("0", numbers.TOO_SMALL),
    ("10000000.0001", numbers.TOO_LARGE), ("5.5e19", numbers.SHAPE),
    ("55000000000000000000", numbers.TOO_LARGE),
])
def test_exponents_and_out_of_range_decimals_are_refused_before_any_arithmetic(text, kind):
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal(text, DOSE)
    assert error.value.kind == kind


# As a service's caller might pass them.
HANDED_OVER = [Decimal("1e999999"), Decimal("-1e999999"), Decimal("NaN"), Decimal("sNaN"),
               Decimal("Infinity"), float("inf"), float("nan"), 10**5000, 1e300, True, None]
HANDED_OVER_IDS = [f"{type(value).__name__}-{i}" for i, value in enumerate(HANDED_OVER)]


@pytest.mark.parametrize("value", HANDED_OVER, ids=HANDED_OVER_IDS)
def test_numbers_handed_over_by_code_are_checked_the_same_way(value):
    with pytest.raises(numbers.NumberError):
        numbers.parse_int(value, PACKS)
    with pytest.raises(numbers.NumberError):
        numbers.parse_decimal(value, DOSE)


def test_money_may_be_typed_with_thousands_separators_where_the_caller_allows_it():
    assert numbers.parse_decimal("1,234.50", limits.PRICE_YUAN, grouping=True) == Decimal("1234.50")
    with pytest.raises(numbers.NumberError):
        numbers.parse_decimal("1,234.50", limits.PRICE_YUAN)
    with pytest.raises(numbers.NumberError):
        numbers.parse_decimal("12,34.50", limits.PRICE_YUAN, grouping=True)


def test_the_refusal_names_the_range_in_plain_digits():
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal("2000000", limits.PRICE_YUAN)
    assert str(error.value) == "Enter a number from 0.01 to 1000000."
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal("1.999", limits.PRICE_YUAN)
    assert str(error.value) == "Too many digits after the decimal point (at most 2)."


def test_ids_fit_the_integer_columns():
    assert numbers.id_or_none("2147483647") == 2**31 - 1
    assert numbers.id_or_none(str(2**31)) is None
    assert numbers.id_or_none("0") is None
    assert numbers.id_or_none("١") is None
    assert numbers.id_or_none(None) is None


# ---- finding 8: every bound, at its ends and one step beyond ----------------------------------------

def _bounds() -> list[tuple[str, Bound]]:
    found = [(name, value) for name, value in vars(limits).items() if isinstance(value, Bound)]
    found += [(f"MAX_DOSE_BY_UNIT[{unit}]", Bound(DOSE.low, most, DOSE.places))
              for unit, most in limits.MAX_DOSE_BY_UNIT.items()]
    return found


BOUNDS = _bounds()


def test_the_bounds_are_all_found_and_fit_their_columns():
    names = {name for name, _ in BOUNDS}
    assert {"ID", "PAGE", "DOSE", "DURATION_DAYS", "DOSES_PER_DAY", "PRICE_FEN", "PRICE_YUAN", "STRENGTH",
            "PACK_SIZE", "DAYS_SUPPLY", "NEAR_EXPIRY_DAYS"} <= names
    assert {field.name for field in fields(Bound)} == {"low", "high", "places"}
    for name, bound in BOUNDS:
        assert bound.low < bound.high, name
        assert abs(bound.high) <= limits.MAX_ID and abs(bound.low) <= limits.MAX_ID, name
    # NUMERIC(12, 4) holds 8 digits before the point.
    assert limits.DOSE.high < 10**8 and limits.STRENGTH.high < 10**8
    assert all(most <= limits.DOSE.high for most in limits.MAX_DOSE_BY_UNIT.values())
    assert limits.MAX_PACKS < limits.MAX_ID and limits.MAX_FEN < limits.MAX_ID


def _step(bound: Bound) -> Decimal:
    return Decimal(1).scaleb(-bound.places)


@pytest.mark.parametrize(("name", "bound"), BOUNDS, ids=[name for name, _ in BOUNDS])
def test_finding_8_each_bound_takes_its_ends_and_refuses_one_step_beyond(name, bound):
    step = _step(bound)
    parse = numbers.parse_int if bound.places == 0 else numbers.parse_decimal
    low, high = Decimal(bound.low), Decimal(bound.high)
    for inside in (low, low + step, high - step, high):
        assert parse(format(inside, "f"), bound) == inside, f"{name}: {inside}"
    for outside, kind in ((low - step, numbers.TOO_SMALL), (high + step, numbers.TOO_LARGE)):
        with pytest.raises(numbers.NumberError) as error:
            parse(format(outside, "f"), bound)
        assert error.value.kind == kind, f"{name}: {outside}"
        assert "Enter a number from" in str(error.value)
