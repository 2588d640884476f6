"""A line's daily amount as the dose rules count it: a solution in milligrams, a patch not at all, and
units that measure different things never converted into each other."""

from fractions import Fraction

from app.checks import amounts
from tests.checks.conftest import line


def test_a_solution_is_counted_in_the_milligrams_of_its_strength():
    # Methadone 1 mg/mL: 2.5 mg twice a day is 5 mg a day, whether written in mg or in mL.
    assert amounts.daily_amount(line("METHADONE-1MGML-ORALSOL", "2.5", "mg", "BID")) == (Fraction(5), "mg")
    assert amounts.daily_amount(line("METHADONE-1MGML-ORALSOL", "2.5", "mL", "BID")) == (Fraction(5), "mg")
    assert amounts.daily_in(line("METHADONE-1MGML-ORALSOL", "2.5", "mL", "BID"), "µg") == 5000


def test_a_patch_has_a_rate_not_a_daily_amount():
    assert amounts.daily_amount(line("FENTANYL-25UGH-PATCH", 1, "patch", "QD")) is None
    assert amounts.daily_in(line("FENTANYL-25UGH-PATCH", 1, "patch", "QD"), "µg") is None


def test_units_that_measure_different_things_are_not_converted():
    assert amounts.in_unit(Fraction(5), "mg", "IU") is None
    assert amounts.in_unit(Fraction(5), "IU", "mg") is None
    assert amounts.in_unit(Fraction(5), "IU", "IU") == 5
    assert amounts.in_unit(Fraction(5), "mg", "µg") == 5000
