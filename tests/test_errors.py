"""Error pages people can read (English and Chinese), and JSON errors for API clients."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import Role
from app.database import utcnow
from app.inventory import services as inventory
from app.inventory.models import StockLot, StockMovement
from tests import factories
from tests.consultations.conftest import as_user, flow  # noqa: F401  (fixtures)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import load_shipped_rows

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_unknown_address_shows_page_not_found_with_a_way_home(client):
    response = client.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert "Page not found" in text
    assert "Back to the home page" in text
    assert 'href="/"' in text


def test_unknown_address_is_explained_in_chinese_for_a_chinese_browser(client):
    response = client.get("/no/such/page", headers=CHINESE)
    assert response.status_code == 404
    text = page_text(response)
    assert "页面不存在" in text
    assert 'lang="zh-Hans-CN"' in text
    assert "Page not found" not in text


def test_unknown_address_gives_json_404_to_api_clients(client):
    response = client.get("/no/such/page", headers=JSON)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"] == "Page not found"


def test_unknown_api_address_answers_json_even_without_accept_header(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Page not found"


def test_admin_opening_a_user_that_does_not_exist_sees_page_not_found(client, login_as):
    login_as(Role.ADMIN)
    response = client.get("/admin/users/987654321")
    assert response.status_code == 404
    assert "Page not found" in page_text(response)


def test_patient_opening_the_admin_dashboard_sees_access_denied(client, login_as):
    login_as(Role.PATIENT)
    response = client.get("/admin/")
    assert response.status_code == 403
    text = page_text(response)
    assert "Access denied" in text
    assert "does not have permission" in text


def test_chinese_patient_sees_access_denied_in_chinese(client, login_as):
    login_as(Role.PATIENT, locale="zh")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "无权访问" in page_text(response)


def test_access_denied_is_json_for_api_clients(client, login_as):
    login_as(Role.PATIENT)
    response = client.get("/admin/users", headers=JSON)
    assert response.status_code == 403
    assert response.get_json()["error"] == "Access denied"


def test_wrong_method_shows_not_allowed_and_names_the_allowed_methods(client):
    response = client.get("/accounts/logout", headers=BROWSER)
    assert response.status_code == 405
    assert "Not allowed" in page_text(response)
    assert "POST" in response.headers["Allow"]


def test_wrong_method_is_json_for_api_clients(client):
    response = client.get("/accounts/logout", headers=JSON)
    assert response.status_code == 405
    assert response.get_json()["error"] == "Not allowed"
    assert "POST" in response.headers["Allow"]


@pytest.fixture
def crashing_app(tmp_path):
    """A fresh app with one route that fails, and exceptions handled as in production."""
    application = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'errors.sqlite3'}",
            "PROPAGATE_EXCEPTIONS": False,
        },
    )

    @application.route("/crash")
    def crash():
        raise RuntimeError("internal detail: connection string postgres://secret")

    return application


def test_a_crash_shows_something_went_wrong_without_internals(crashing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = crashing_app.test_client().get("/crash", headers=BROWSER)
    assert response.status_code == 500
    text = page_text(response)
    assert "Something went wrong" in text
    assert "Nothing was saved" in text
    assert "internal detail" not in text
    assert "Traceback" not in text
    assert response.headers["X-Frame-Options"] == "DENY"
    # Operators still get the full error in the log.
    assert any(record.exc_info and "/crash" in record.getMessage() for record in caplog.records)


def test_a_crash_is_explained_in_chinese_for_a_chinese_browser(crashing_app):
    response = crashing_app.test_client().get("/crash", headers=CHINESE)
    assert response.status_code == 500
    assert "出错了" in page_text(response)


def test_a_crash_gives_json_500_to_api_clients(crashing_app):
    response = crashing_app.test_client().get("/crash", headers=JSON)
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "Something went wrong"
    assert "internal detail" not in response.get_data(as_text=True)


def _exhaust_forgot_password_limit(client, **headers):
    """The reset form allows 5 requests per 15 minutes; the 6th is refused."""
    for _ in range(5):
        assert client.post("/accounts/forgot-password", data={}, headers=headers).status_code == 200
    return client.post("/accounts/forgot-password", data={}, headers=headers)


def test_too_many_attempts_page_tells_the_user_to_wait(client):
    response = _exhaust_forgot_password_limit(client, **BROWSER)
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert "Too many attempts" in text
    assert "Please wait" in text
    assert int(response.headers["Retry-After"]) > 0


def test_too_many_attempts_page_in_chinese(client):
    response = _exhaust_forgot_password_limit(client, **CHINESE)
    assert response.status_code == 429
    assert "尝试次数过多" in page_text(response)


def test_too_many_attempts_is_json_for_api_clients(client):
    response = _exhaust_forgot_password_limit(client, **JSON)
    assert response.status_code == 429
    assert response.get_json()["error"] == "Too many attempts"


# ---- finding 7: malformed input gave a server error ----------------------------------------------------

@pytest.fixture
def pharmacy(db):
    """A pharmacist's store with one lot, an admin, a doctor, and the drug."""
    store = factories.make_store()
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    drug = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB",))["AMLODIPINE-5MG-TAB"]
    inventory.receive(store, drug, "F7-1", utcnow().date() + timedelta(days=400), 20, 1500, pharmacist)
    db.session.commit()
    return SimpleNamespace(store=store, pharmacist=pharmacist, drug=drug,
                           admin=factories.make_user(Role.ADMIN), doctor=factories.make_user(Role.DOCTOR))


@pytest.fixture
def browse(as_user):  # noqa: F811  (the imported fixture)
    """A signed-in browser of its own for a user."""
    return as_user


def stock_movements(db) -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_finding_7_polling_messages_after_a_superscript_digit_answers_with_the_messages(flow, browse):  # noqa: F811
    consultation = flow.accepted()
    browser = browse(consultation.patient)
    for after in ("²", "١٢", "9" * 30, "-1", "1e3"):
        response = browser.get(f"/consultations/{consultation.id}/messages", query_string={"after": after})
        assert response.status_code == 200, after
        assert response.get_json()["status"] == "in_progress"


@pytest.mark.parametrize("ident", [str(2**31), str(2**63), str(2**63 + 1), "9" * 30])
def test_finding_7_ids_beyond_the_id_column_are_not_found(db, pharmacy, browse, ident):
    browser = browse(pharmacy.admin)
    for path in (f"/drugs/{ident}", f"/admin/users/{ident}", f"/stock/lots/{ident}",
                 f"/stock/stores/{ident}"):
        assert browser.get(path, headers=BROWSER).status_code == 404, path
    adjusted = browser.post(f"/stock/lots/{ident}/adjust", data={"change": "1", "reason": "found"})
    assert adjusted.status_code == 404


@pytest.mark.parametrize("ident", [str(2**31), str(2**63), "9" * 30, "²", "١٢"])
def test_finding_7_ids_in_forms_and_queries_that_no_row_can_have_are_refused_with_a_message(
        db, pharmacy, browse, ident):
    browser = browse(pharmacy.pharmacist)
    before = stock_movements(db)
    expiry = (utcnow().date() + timedelta(days=400)).isoformat()
    received = browser.post(f"/stock/stores/{pharmacy.store.id}/receive", data={
        "drug_id": ident, "lot_number": "F7-2", "expiry_date": expiry, "quantity": "5",
        "unit_cost": "15.00"})
    assert received.status_code == 400 and "Unknown drug." in page_text(received)
    transfer = browser.post("/stock/transfers/new", data={
        "from_store_id": ident, "to_store_id": str(pharmacy.store.id), "drug_id": ident, "packs": "1"})
    assert transfer.status_code == 400 and "Unknown store." in page_text(transfer)
    reorder = browser.post(f"/stock/stores/{pharmacy.store.id}/reorder", data={
        "drug_id": ident, "min_packs": "1", "target_packs": "5"})
    assert reorder.status_code == 400 and "Unknown drug." in page_text(reorder)
    assert stock_movements(db) == before
    audit = browse(pharmacy.admin).get("/audit/", query_string={"actor_id": ident, "patient_id": ident})
    assert audit.status_code == 200
    assert "that filter was not applied" in page_text(audit).replace("&#39;", "'")
    preview = browse(pharmacy.doctor).get("/prescriptions/quantity.json", query_string={
        "drug_id": ident, "dose": "5", "dose_unit": "mg", "frequency": "QD", "duration_days": "7"})
    assert preview.status_code == 200 and preview.get_json() == {"text": None}


@pytest.mark.parametrize("query", [
    {"date_from": "0001-01-01"}, {"date_to": "9999-12-31"},
    {"date_from": "0001-01-01", "date_to": "9999-12-31"}, {"date_from": "9999-12-31"},
    {"date_to": "0001-01-01"}, {"date_from": "2024-02-30"}, {"date_to": "²０２４-01-01"},
])
def test_finding_7_audit_dates_at_the_ends_of_the_calendar_are_searched_without_error(db, pharmacy, browse,
                                                                                       query):
    response = browse(pharmacy.admin).get("/audit/", query_string=query)
    assert response.status_code == 200
    assert "Audit log" in page_text(response)


def test_finding_7_the_whole_calendar_finds_every_event_and_a_bad_date_says_so(db, pharmacy, browse):
    browser = browse(pharmacy.admin)
    everything = page_text(browser.get("/audit/", query_string={"date_from": "0001-01-01",
                                                                "date_to": "9999-12-31"}))
    assert "user.login" in everything or "login" in everything
    assert "No audit events match." not in everything
    bad = page_text(browser.get("/audit/", query_string={"date_from": "2024-02-30"}))
    assert "is not a date like 2024-05-31; that filter was not applied." in bad


@pytest.mark.parametrize("page", ["1e20", "100000000000000000000", str(2**63), "-5", "²"])
def test_finding_7_a_page_number_beyond_any_list_shows_a_page(db, pharmacy, browse, page):
    browser = browse(pharmacy.admin)
    for path in ("/drugs/", "/admin/users", "/audit/"):
        assert browser.get(path, query_string={"page": page}).status_code == 200, path


@pytest.mark.parametrize("dose", ["1e30", "1e999999", "5.5e19", "²"])
def test_finding_7_the_quantity_preview_of_a_dose_of_1e30_explains_the_dose(db, pharmacy, browse, dose):
    response = browse(pharmacy.doctor).get("/prescriptions/quantity.json", query_string={
        "drug_id": pharmacy.drug.id, "dose": dose, "dose_unit": "mg", "frequency": "QD",
        "duration_days": "7"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["text"] is None
    assert body["error"] in ("Enter the dose as a number.", "A single dose is at most 100000 mg.")


@pytest.mark.parametrize("target", [
    "/x\r\nLocation: //evil.example", "/x%0d%0aSet-Cookie:%20a=b", "/\r\n/evil"])
def test_finding_7_a_line_break_in_next_is_not_written_into_the_redirect(db, client, target):
    response = client.post("/language", data={"language": "zh", "next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "evil" not in location
    user = factories.make_patient()
    db.session.commit()
    signed_in = client.post("/accounts/login", query_string={"next": target},
                            data={"identifier": user.login_name, "password": factories.PASSWORD})
    assert signed_in.status_code == 302
    assert "\n" not in signed_in.headers["Location"] and "evil" not in signed_in.headers["Location"]


@pytest.mark.parametrize("drug_id", ["²", "١", "９" * 3])
def test_finding_7_a_superscript_drug_id_in_the_stock_forms_is_an_unknown_drug(db, pharmacy, browse,
                                                                               drug_id):
    browser = browse(pharmacy.admin)
    for path, data in ((f"/stock/stores/{pharmacy.store.id}/receive", {
            "lot_number": "F7-3", "expiry_date": (utcnow().date() + timedelta(days=400)).isoformat(),
            "quantity": "1", "unit_cost": "0.10"}),
            ("/stock/recalls", {"lot_number": "F7-1", "reason": "Notice 7"}),
            (f"/stock/stores/{pharmacy.store.id}/reorder", {"min_packs": "1", "target_packs": "2"})):
        response = browser.post(path, data={**data, "drug_id": drug_id})
        assert response.status_code == 400, path
        assert "Unknown drug." in page_text(response), path


def test_finding_7_a_day_past_either_end_of_the_calendar_filter_is_taken_as_that_end(db, pharmacy, browse):
    browser = browse(pharmacy.admin)
    for query in ({"date_to": "0001-01-01"}, {"date_from": "9999-12-31"}):
        assert "No audit events match." in page_text(browser.get("/audit/", query_string=query)), query


def test_finding_7_a_nul_character_in_a_search_or_a_note_is_dropped_not_a_server_error(db, pharmacy, browse):
    browser = browse(pharmacy.pharmacist)
    assert browser.get("/drugs/", query_string={"q": "amlo\x00dipine"}).status_code == 200
    lot = db.session.scalar(select(StockLot))
    response = browser.post(f"/stock/lots/{lot.id}/adjust",
                            data={"change": "1", "reason": "other", "note": "found\x00 behind the shelf"})
    assert response.status_code == 303
    movement = db.session.scalar(select(StockMovement).where(StockMovement.kind == "adjustment"))
    assert movement.note == "found behind the shelf"
