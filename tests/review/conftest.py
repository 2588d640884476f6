"""Review fixtures: pharmacists, and prescriptions signed through the real services (so checked)."""

import pytest

from app.accounts.models import Role
from app.extensions import db as _db
from app.prescribing import services as rx
from tests import factories
from tests.consultations.conftest import (
    as_user,  # noqa: F401  (fixture)
    flow,  # noqa: F401  (fixture)
)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import catalogue_drugs, draft, item, sign_and_submit, visit  # noqa: F401  (fixtures)


@pytest.fixture
def pharmacists(db):
    first = factories.make_user(Role.PHARMACIST, display_name="Pharmacist Wang")
    second = factories.make_user(Role.PHARMACIST, display_name="Pharmacist Zhao")
    db.session.commit()
    return first, second


# What the doctor writes to sign despite a major or contraindicated finding (ignored when there is none).
PRESCRIBER_REASON = "Benefit outweighs the risk; discussed with the patient."


@pytest.fixture
def sign(visit, flow):  # noqa: F811
    """Sign a new prescription with the given lines ((code, sig) pairs) in the visit's consultation.

    The patient also has verified hypertension, which the lines these tests prescribe (amlodipine as the
    clean one) are indicated for: the visit's own diagnosis is type 2 diabetes."""
    flow.condition(visit.patient, icd10_code="I10", name="Essential hypertension")
    _db.session.commit()

    def signed(*lines, supply="normal", reason=PRESCRIBER_REASON, **supply_fields):
        prescription = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
        if supply != "normal":
            rx.set_supply(prescription, visit.doctor, supply, **supply_fields)
        for code, sig in lines:
            item(prescription, visit.doctor, visit.drugs, code, **sig)
        sign_and_submit(prescription, visit.doctor, factories.PASSWORD, reason)
        _db.session.commit()
        return prescription

    return signed


AMLODIPINE = ("AMLODIPINE-5MG-TAB", {})
# Methotrexate 2.5 mg tablets are weekly-only: once daily is a dosing error the checks must block.
METHOTREXATE_DAILY = ("METHOTREXATE-2.5MG-TAB",
                      dict(dose="10", dose_unit="mg", frequency="QD", duration_days=7))
# 1,500 mg twice a day is 3,000 mg: above metformin's 2,550 mg maximum daily dose (major).
METFORMIN_OVER_MAXIMUM = ("METFORMIN-500MG-TAB", dict(dose="1500", dose_unit="mg", frequency="BID"))
