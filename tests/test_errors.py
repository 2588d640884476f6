"""Error pages people can read (English and Chinese), and JSON errors for API clients."""

import logging

import pytest

from app import create_app
from app.accounts.models import Role

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
