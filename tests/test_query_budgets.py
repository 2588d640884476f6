"""Query budgets: each list page runs the same number of SQL statements with 2 rows as with 8, so
it stays flat as the chain's tables grow; and the counter itself catches a per-row query."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import Role, User
from app.audit.services import record
from app.database import utcnow
from app.inventory import services as inventory
from app.inventory import transfers
from tests import factories
from tests.prescribing.conftest import load_shipped_rows
from tests.query_budget import count_statements
from tests.review.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    as_user,
    catalogue_drugs,
    deliver,
    flow,
    pharmacists,
    sign,
    stripe_client,
    visit,
)

SMALL, LARGE = 2, 8


def _doctors(db, count: int) -> list[int]:
    ids = [factories.make_user(Role.DOCTOR).id for _ in range(count)]
    db.session.commit()
    return ids


def _read_profiles(db, ids, *, in_bulk: bool) -> int:
    db.session.expire_all()
    with count_statements(db) as seen:
        statement = select(User).where(User.id.in_(ids)).order_by(User.id)
        if in_bulk:
            statement = statement.options(selectinload(User.doctor_profile))
        for user in db.session.scalars(statement):
            assert user.doctor_profile.licence_number  # what a page would render per row
    return seen.count


def test_the_counter_catches_a_query_per_row(db):
    small, large = _doctors(db, SMALL), _doctors(db, LARGE)
    lazy_small = _read_profiles(db, small, in_bulk=False)
    lazy_large = _read_profiles(db, large, in_bulk=False)
    assert lazy_large > lazy_small and lazy_large > LARGE  # a lazy load per row: the budget test would fail
    assert _read_profiles(db, small, in_bulk=True) == _read_profiles(db, large, in_bulk=True)


def _page(db, client, url: str, shown: list[str]):
    """The statements of one GET of `url`; the page must show every string in `shown` (one per row)."""
    db.session.expire_all()
    with count_statements(db) as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    page = response.get_data(as_text=True)
    assert all(text in page for text in shown), url
    return seen


def _flat(sizes: dict, budget: int) -> None:
    small, large = sizes[SMALL], sizes[LARGE]
    print(f"statements: {small.count} with {SMALL} rows, {large.count} with {LARGE}")
    assert small.count == large.count, f"{small.count} → {large.count} statements:\n{large}"
    assert large.count <= budget, str(large)


def _signed_sizes(db, client, sign, url: str, link: str) -> dict:  # noqa: F811
    """The statements of `url` with SMALL, then LARGE signed prescriptions, each linked as `link`."""
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        made += [sign(AMLODIPINE) for _ in range(size - len(made))]
        sizes[size] = _page(db, client, url, [link.format(id=p.id) for p in made])
    return sizes


def test_the_patients_prescription_list_is_flat(db, client, login_as, visit, sign):  # noqa: F811
    login_as(visit.patient)
    _flat(_signed_sizes(db, client, sign, "/prescriptions/", "/prescriptions/{id}"), budget=5)


def test_the_pharmacists_review_queue_is_flat(db, client, login_as, pharmacists, sign):  # noqa: F811
    login_as(pharmacists[0])
    sizes = _signed_sizes(db, client, sign, "/reviews/", "/reviews/{id}")
    _flat(sizes, budget=5)
    assert sizes[LARGE].inserts <= 1  # one audit statement for the page, not one per prescription
    _counted_once(sizes[LARGE])


def test_the_doctors_queue_is_flat(db, client, login_as, flow):  # noqa: F811
    doctor = flow.doctor()
    login_as(doctor)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        made += [flow.paid(doctor=doctor) for _ in range(size - len(made))]
        sizes[size] = _page(db, client, "/consultations/queue", [f"/consultations/{c.id}" for c in made])
    _flat(sizes, budget=8)
    assert sizes[LARGE].inserts <= 1  # one audit statement for the page, not one per patient
    _counted_once(sizes[LARGE])


def _counted_once(seen) -> None:
    """The queue counts behind the badges and the page's live version are read once per page."""
    counts = [sql for sql in seen.statements if sql.startswith("SELECT count(*)")]
    assert counts and len(counts) == len(set(counts)), str(seen)


def test_the_patients_consultation_list_is_flat(db, client, login_as, flow):  # noqa: F811
    condition = flow.condition()
    login_as(condition.patient)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        made += [flow.paid(condition=condition) for _ in range(size - len(made))]
        sizes[size] = _page(db, client, "/consultations/", [f"/consultations/{c.id}" for c in made])
    _flat(sizes, budget=7)


def test_a_stores_stock_page_is_flat(db, client, login_as):
    store = factories.make_store(is_cold_chain_capable=True)
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    drugs = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB", "INSULIN-GLARGINE-300IU-PEN"))
    login_as(pharmacist)
    expiry = utcnow().date() + timedelta(days=400)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        while len(made) < size:
            drug = drugs["AMLODIPINE-5MG-TAB" if len(made) % 2 else "INSULIN-GLARGINE-300IU-PEN"]
            made.append(inventory.receive(store, drug, f"B{len(made):04d}", expiry, 5, 1500, pharmacist,
                                          arrival_temperature=5 if drug.is_cold_chain else None))
            db.session.commit()
        sizes[size] = _page(db, client, f"/stock/stores/{store.id}", [lot.lot_number for lot in made])
    _flat(sizes, budget=5)


def test_the_patients_home_is_flat(db, client, login_as, visit, sign):  # noqa: F811
    login_as(visit.patient)
    _flat(_signed_sizes(db, client, sign, "/", "/prescriptions/{id}"), budget=7)


def test_the_consultation_page_is_flat_for_the_patient_and_the_doctor(db, client, login_as, visit, sign):  # noqa: F811
    url = f"/consultations/{visit.consultation.id}"
    # The doctor's page also lists what the patient takes now: one statement (app.checks.taking), and
    # the patient's adherence: one more (app.adherence.queries).
    for reader, budget in ((visit.patient, 9), (visit.doctor, 19)):
        login_as(reader)
        made, sizes = [], {}
        for size in (SMALL, LARGE):
            made += [sign(AMLODIPINE) for _ in range(size - len(made))]
            sizes[size] = _page(db, client, url, [f"/prescriptions/{p.id}" for p in made])
        _flat(sizes, budget=budget)
        client.post("/accounts/logout")


def test_the_review_page_is_flat_however_many_prescriptions_the_patient_has(
        db, client, login_as, pharmacists, sign):  # noqa: F811
    login_as(pharmacists[0])
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        made += [sign(AMLODIPINE) for _ in range(size - len(made))]
        sizes[size] = _page(db, client, f"/reviews/{made[-1].id}", [f"/reviews/{made[-1].id}"])
    _flat(sizes, budget=11)


def _admin(db, login_as):
    admin = factories.make_user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    return admin


def test_the_near_expiry_report_is_flat_in_the_number_of_stores(app, db, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "INVENTORY_MIN_SHELF_DAYS", 0)  # receive lots that expire soon
    drug = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB",))["AMLODIPINE-5MG-TAB"]
    admin = _admin(db, login_as)
    soon = utcnow().date() + timedelta(days=20)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        while len(made) < size:  # one store more, with one lot expiring soon
            store = factories.make_store()
            made.append(inventory.receive(store, drug, f"N{len(made):04d}", soon, 3, 1500, admin))
            db.session.commit()
        sizes[size] = _page(db, client, "/stock/near-expiry?days=30", [lot.lot_number for lot in made])
    _flat(sizes, budget=3)  # the user, the chain's time zones, the lots of every store in one query


def test_the_admins_user_list_is_flat(db, client, login_as):
    _admin(db, login_as)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        made += [factories.make_user(Role.PHARMACIST) for _ in range(size - len(made))]
        db.session.commit()
        sizes[size] = _page(db, client, "/admin/users?role=pharmacist",
                            [f"/admin/users/{u.id}" for u in made])
    _flat(sizes, budget=4)
    assert sizes[LARGE].inserts <= 1  # one audit row for the page


def test_the_audit_trail_is_flat(db, client, login_as):
    _admin(db, login_as)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        while len(made) < size:  # each event names a different patient and actor
            patient, doctor = factories.make_patient(), factories.make_user(Role.DOCTOR)
            made.append(record("patient.account.viewed", obj=patient, patient=patient, actor=doctor))
        db.session.commit()
        sizes[size] = _page(db, client, "/audit/?action=patient.account.viewed",
                            [f"{e.patient.display_name} #{e.patient_id}" for e in made])
    _flat(sizes, budget=4)


def test_the_transfers_list_is_flat(db, client, login_as):
    drugs = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB",))
    admin = _admin(db, login_as)
    made, sizes = [], {}
    for size in (SMALL, LARGE):
        while len(made) < size:  # every transfer between two stores of its own
            made.append(transfers.request_transfer(factories.make_store(), factories.make_store(),
                                                   drugs["AMLODIPINE-5MG-TAB"], 2, admin))
        db.session.commit()
        sizes[size] = _page(db, client, "/stock/transfers", [f'data-transfer-id="{t.id}"' for t in made])
    _flat(sizes, budget=2)
