"""A dose written in the unit the pharmacy counts, or in the substance's amount: the arithmetic alone,
on a solution sold by the millilitre (80 mg/mL, 200 mL a bottle), with no database."""

from decimal import Decimal

import pytest

from app.drugs.models import DosageForm, Drug, PackUnit, StrengthUnit
from app.errors import DomainError
from app.prescribing import quantity
from app.prescribing.models import Frequency, PrescribedUnit

SOLUTION = Drug(strength=Decimal("80"), strength_unit=StrengthUnit.MG_PER_ML,
                dosage_form=DosageForm.ORAL_SOLUTION, pack_unit=PackUnit.ML, pack_size=200)


@pytest.mark.parametrize(("dose", "unit"), [("10", PrescribedUnit.ML), ("800", PrescribedUnit.MG),
                                            ("0.8", PrescribedUnit.G), ("800000", PrescribedUnit.MICROGRAM)])
def test_ten_millilitres_however_the_dose_is_written(dose, unit):
    # 10 mL = 800 mg at 80 mg/mL. Twice a day for 7 days is 140 mL: one 200 mL bottle, which lasts
    # 200 / 20 = 10 days.
    amount = quantity.compute(SOLUTION, Decimal(dose), unit, Frequency.BID, 7)
    assert (amount.packs, amount.days_supply) == (1, 10)
    assert quantity.exact_units_per_dose(SOLUTION, Decimal(dose), unit) == 10


def test_a_dose_in_units_a_solution_is_not_measured_in_is_refused_with_the_strength_named():
    with pytest.raises(DomainError) as error:
        quantity.compute(SOLUTION, Decimal("5"), PrescribedUnit.IU, Frequency.QD, 7)
    assert [str(message) for message in error.value.reasons.values()] == [
        "This dose unit does not fit the drug's strength (mg/mL)."]


def test_a_tablet_dose_in_international_units_names_the_tablet_strength():
    tablet = Drug(strength=Decimal("5"), strength_unit=StrengthUnit.MG, dosage_form=DosageForm.TABLET,
                  pack_unit=PackUnit.TABLET, pack_size=28)
    with pytest.raises(DomainError) as error:
        quantity.compute(tablet, Decimal("5"), PrescribedUnit.IU, Frequency.QD, 7)
    assert str(error.value.reasons["dose_unit"]) == "This dose unit does not fit the drug's strength (mg)."


def test_millilitres_of_a_solution_sold_by_the_vial_are_not_counted_as_vials():
    # 20 mg/mL in vials: the catalogue does not say how many mL a vial holds, so 5 mL cannot become a
    # number of vials; counting them as 5 vials would be a dispensing error.
    vials = Drug(strength=Decimal("20"), strength_unit=StrengthUnit.MG_PER_ML,
                 dosage_form=DosageForm.INJECTION, pack_unit=PackUnit.VIAL, pack_size=5)
    with pytest.raises(DomainError) as error:
        quantity.compute(vials, Decimal("5"), PrescribedUnit.ML, Frequency.QD, 7)
    assert str(error.value.reasons["dose_unit"]) == "This dose unit does not fit the drug's strength (mg/mL)."
