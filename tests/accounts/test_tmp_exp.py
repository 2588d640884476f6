from app.accounts.passwords import password_problem


def test_outside_request(app, db):
    print(password_problem("short"))
