"""Plain-language directions, generated from the signed sig: what a patient reads for common lines."""

import pytest

from app.prescribing.directions import directions
from tests.prescribing.conftest import item


@pytest.mark.parametrize(("code", "sig", "expected"), [
    ("AMLODIPINE-5MG-TAB", dict(dose="2.5", dose_unit="mg"),
     "Take 2.5 mg (½ tablet) by mouth, once a day, for 7 days."),
    ("AMLODIPINE-5MG-TAB", dict(dose="7.5", dose_unit="mg", times_of_day="08:00"),
     "Take 7.5 mg (1½ tablets) by mouth, once a day at 08:00, for 7 days."),
    ("METFORMIN-500MG-TAB", dict(dose="2", dose_unit="tablet", frequency="BID", times_of_day="08:00,20:00",
                                 instructions="Take with meals."),
     "Take 2 tablets by mouth, twice a day at 08:00, 20:00, for 7 days. Take with meals."),
    ("INSULIN-GLARGINE-300IU-PEN", dict(dose="20", dose_unit="IU", frequency="QN"),
     "Inject 20 units under the skin, once a day at bedtime, for 7 days."),
    ("METHOTREXATE-2.5MG-TAB", dict(dose="10", dose_unit="mg", frequency="QW", duration_days=28),
     "Take 10 mg (4 tablets) by mouth, once a week, on the same day each week, for 28 days."),
    ("NIFEDIPINE-30MG-CRTAB", dict(dose="30", dose_unit="mg"),
     "Take 30 mg (1 tablet) by mouth, once a day, for 7 days."),
])
def test_directions_read_as_a_patient_would_say_them(visit, draft, code, sig, expected):
    if sig.get("duration_days", 7) > 7:
        from app.prescribing import services as rx

        rx.set_supply(draft, visit.doctor, "chronic", reason="Stable rheumatoid arthritis.")
    line = item(draft, visit.doctor, visit.drugs, code, **sig)
    assert directions(line) == expected
