"""The 80 % adherence threshold as the patient, and the operations admin's chain dashboard, see it: medicine
on hand on exactly 72 of 90 days is adherent, on 71 it is not. Both the patient's figures (Python) and
the chain's (SQL) count the same fills."""

import pytest

from app.extensions import db as _db
from tests.adherence.conftest import AMLODIPINE
from tests.adherence.test_distribution import _dashboard
from tests.adherence.test_pages import _cell, _drug

AMLODIPINE_KEY = "C08CA01"


@pytest.fixture
def fills(visit, received_on):
    """Amlodipine (28 days a fill) handed over 89 and 61 days ago, then again `last` days ago (T = today):
    T-89..T-62 and T-61..T-34 are covered (56 days), then T-last..T, in a period of 90 days (T-89..T)."""

    def handed_over(last: int):
        received_on(89, AMLODIPINE)
        received_on(61, AMLODIPINE)
        received_on(last, AMLODIPINE)
        return visit.patient

    return handed_over


EDGES = [pytest.param(15, 72, True, "80%", id="72-of-90-adherent"),
         pytest.param(14, 71, False, "79%", id="71-of-90-not-adherent")]


@pytest.mark.parametrize(("last", "covered", "adherent", "shown"), EDGES)
def test_the_patient_reads_the_threshold_at_80_percent(db, as_user, fills, last, covered, adherent, shown):
    patient = fills(last)
    page = as_user(patient).get("/adherence/").get_data(as_text=True)
    assert "adherent from 80%" in page
    figures = _drug(page, AMLODIPINE_KEY)
    for days in (90, 180):  # the first fill is 89 days ago: both windows are these 90 days
        cell = _cell(figures, f'data-pdc="{covered / 90:.4f}"', days)
        assert shown in cell and f"{covered} of 90 days" in cell
        assert ("Not adherent" not in cell and "Adherent" in cell) if adherent else "Not adherent" in cell

    patient.locale = "zh"
    _db.session.commit()
    page = as_user(patient).get("/adherence/").get_data(as_text=True)
    cell = _cell(_drug(page, AMLODIPINE_KEY), f'data-pdc="{covered / 90:.4f}"', 90)
    badge = '<span class="badge text-bg-success">依从</span>' if adherent else (
        '<span class="badge text-bg-warning">不依从</span>')
    assert badge in cell


@pytest.mark.parametrize(("last", "covered", "adherent", "shown"), EDGES)
def test_the_chain_dashboard_counts_the_pair_adherent_from_80_percent(db, as_user, fills, shop, last, covered,
                                                                       adherent, shown):
    fills(last)
    page = _dashboard(as_user)
    section = page.split('id="adherence-distribution"')[1]
    assert "on at least 80% of those days" in section
    chain = section.split('id="adherence-by-class"')[0]
    assert f'data-eligible="1" data-adherent="{int(adherent)}"' in chain
    classes = section.split('id="adherence-by-class"')[1].split("</table>")[0]
    assert f'data-atc-class="C08" data-eligible="1" data-adherent="{int(adherent)}"' in classes
    stores = section.split('id="adherence-by-store"')[1].split("</table>")[0]
    assert f'data-store-id="{shop.store.id}" data-eligible="1" data-adherent="{int(adherent)}"' in stores
