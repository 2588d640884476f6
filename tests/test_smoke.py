"""The home page answers in both languages."""


def test_home_page_in_english(client):
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Online follow-up care for chronic conditions" in response.get_data(as_text=True)


def test_home_page_in_chinese_for_a_chinese_browser(client):
    response = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "慢性病在线复诊" in response.get_data(as_text=True)


def test_signed_in_patient_is_welcomed(client, login_as):
    user = login_as("patient")
    page = client.get("/").get_data(as_text=True)
    assert f"Welcome, {user.display_name}" in page
