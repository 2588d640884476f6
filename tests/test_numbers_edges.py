"""The bounded number parser's edges that mutation testing found unchecked (docs/mutation.md)."""

from decimal import Decimal

import pytest

from app import limits, numbers
from app.limits import Bound

PERCENT = Bound(0, 100)  # max_length 8: sign, three digits, four spare zeros


def test_a_decimal_field_asks_for_a_decimal_and_a_whole_number_field_for_a_whole_number():
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal("two and a half", limits.DOSE)
    assert (error.value.kind, error.value.message) == (numbers.SHAPE, numbers.NOT_DECIMAL)
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal("two", PERCENT)
    assert (error.value.kind, error.value.message) == (numbers.SHAPE, numbers.NOT_WHOLE)


@pytest.mark.parametrize("value", [None, True, False])
def test_nothing_or_a_yes_no_answer_is_not_a_whole_number(value):
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_int(value, PERCENT)
    assert (error.value.kind, error.value.message) == (numbers.SHAPE, numbers.NOT_WHOLE)
    assert str(error.value) == numbers.NOT_WHOLE


def test_a_value_as_long_as_the_field_allows_is_read():
    assert len("00000100") == PERCENT.max_length
    assert numbers.parse_int("00000100", PERCENT) == 100


def test_sixteen_spaces_around_the_longest_value_are_forgiven():
    assert numbers.parse_int(" " * 16 + "00000100", PERCENT) == 100
    assert numbers.parse_int("00000100" + " " * 16, PERCENT) == 100


def test_more_than_sixteen_spaces_make_the_value_too_long_to_read():
    with pytest.raises(numbers.NumberError):
        numbers.parse_int(" " * 17 + "00000100", PERCENT)


def test_a_long_run_of_digits_after_a_minus_sign_is_too_small():
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_int("-" + "9" * 100, limits.PAGE)
    assert error.value.kind == numbers.TOO_SMALL
    assert str(error.value) == "Enter a number from 1 to 100000."


def test_a_float_handed_over_by_code_is_read_as_it_is_written():
    # Decimal(0.1) is 0.1000000000000000055…, which would be refused for its decimals.
    assert numbers.parse_decimal(0.1, Bound(0, 1, places=2)) == Decimal("0.1")


def test_a_bound_is_named_as_people_write_it():
    bound = Bound(Decimal("0.010"), Decimal("1E+5"), places=2)
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_decimal("200000", bound)
    assert str(error.value) == "Enter a number from 0.01 to 100000."


def test_a_refused_decimal_filter_is_simply_not_applied():
    assert numbers.parse_decimal_or_none("2.5", limits.DOSE) == Decimal("2.5")
    assert numbers.parse_decimal_or_none("1e999999", limits.DOSE) is None
    assert numbers.parse_decimal_or_none("0", limits.DOSE) is None
    assert numbers.parse_decimal_or_none(None, limits.DOSE) is None


def test_a_very_long_value_is_judged_by_its_first_64_characters():
    # Reading no further keeps the regular expression cheap on a 100,000-character paste.
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_int("9" * 64 + "x", PERCENT)
    assert error.value.kind == numbers.TOO_LARGE
    with pytest.raises(numbers.NumberError) as error:
        numbers.parse_int("9" * 63 + "x", PERCENT)
    assert error.value.kind == numbers.SHAPE
