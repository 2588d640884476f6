"""Every route from the URL map: public or role-guarded; anonymous → sign in; wrong role → 403."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from app.accounts.models import Role

SKIPPED_ENDPOINTS = {"static", "bootstrap.static"}
# Dummy values per URL converter; the role check runs before any lookup, so they need not exist.
DUMMY_BY_CONVERTER = {
    "int": "1",
    "float": "1.0",
    "uuid": "00000000-0000-0000-0000-000000000001",
}
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^>]*\))?:)?(?P<name>\w+)>")


def _dummy_path(rule_text: str) -> str:
    return ARGUMENT.sub(lambda m: DUMMY_BY_CONVERTER.get(m.group("converter") or "", "x"), rule_text)


def _collect_routes() -> list[dict]:
    """One entry per rule, read from a freshly built app (the URL map needs no database)."""
    app = create_app("testing")
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        routes.append(
            {
                "endpoint": rule.endpoint,
                "rule": rule.rule,
                "path": _dummy_path(rule.rule),
                "method": "GET" if "GET" in rule.methods else "POST",
                "is_public": getattr(view, "is_public", False) is True,
                "required_roles": getattr(view, "required_roles", None),
            }
        )
    return routes


ROUTES = _collect_routes()
GUARDED = [route for route in ROUTES if not route["is_public"]]


def _request(client, route: dict, **headers):
    return client.open(route["path"], method=route["method"], headers=headers)


def _describe(route: dict, response, expected: str) -> str:
    location = response.headers.get("Location", "")
    where = f" → {location}" if location else ""
    return (f"{route['endpoint']} ({route['method']} {route['path']}): "
            f"got {response.status_code}{where}, expected {expected}")


def test_the_url_map_was_walked():
    endpoints = {route["endpoint"] for route in ROUTES}
    # A walker that found nothing would pass every check below without testing anything.
    expected = {"main.index", "accounts.login", "accounts.profile", "admin.dashboard", "audit.events"}
    assert expected <= endpoints
    assert GUARDED, "no role-guarded endpoint found"


def test_every_page_is_either_public_or_limited_to_named_roles():
    problems = []
    for route in ROUTES:
        roles = route["required_roles"]
        if not route["is_public"] and not roles:
            problems.append(f"{route['endpoint']} ({route['rule']}) is neither @public nor @roles_required")
        elif route["is_public"] and roles:
            problems.append(f"{route['endpoint']} ({route['rule']}) is both @public and @roles_required")
        elif roles and not all(isinstance(role, Role) for role in roles):
            problems.append(f"{route['endpoint']} requires unknown roles {sorted(map(str, roles))}")
    assert not problems, "Endpoints without a clear access rule:\n" + "\n".join(problems)


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back_afterwards(client):
    problems = []
    for route in GUARDED:
        response = _request(client, route)
        target = urlsplit(response.headers.get("Location", ""))
        if response.status_code != 302 or target.path != "/accounts/login":
            problems.append(_describe(route, response, "302 to /accounts/login"))
        elif parse_qs(target.query).get("next") != [route["path"]]:
            problems.append(_describe(route, response, f"next={route['path']} on the login link"))
    assert not problems, "Guarded endpoints open to anonymous visitors:\n" + "\n".join(problems)


def test_anonymous_json_clients_get_401_instead_of_a_login_page(client):
    problems = []
    for route in GUARDED:
        response = _request(client, route, Accept="application/json")
        if response.status_code != 401 or not response.is_json or "error" not in response.get_json():
            problems.append(_describe(route, response, '401 with a JSON {"error": ...}'))
    assert not problems, "Guarded endpoints not answering 401 to JSON clients:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_signed_in_users_are_refused_pages_of_other_roles(client, login_as, role):
    login_as(role)
    problems = []
    for route in GUARDED:
        if role in route["required_roles"]:
            continue
        response = _request(client, route)
        text = response.get_data(as_text=True)
        if response.status_code != 403 or "Access denied" not in text:
            problems.append(_describe(route, response, "403 'Access denied'"))
        json_response = _request(client, route, Accept="application/json")
        if json_response.status_code != 403 or json_response.get_json() is None:
            problems.append(_describe(route, json_response, "403 JSON for Accept: application/json"))
    # Still signed in: the refusals did not end the session.
    assert client.get("/accounts/profile").status_code == 200
    assert not problems, f"Endpoints a {role} could reach:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_signed_in_users_can_open_the_pages_meant_for_their_role(client, login_as, role):
    login_as(role)
    problems = []
    opened = 0
    for route in GUARDED:
        # Only GET: the POST endpoints change things (sign out, deactivate) and have their own tests.
        if role not in route["required_roles"] or route["method"] != "GET":
            continue
        opened += 1
        response = _request(client, route)
        location = urlsplit(response.headers.get("Location", "")).path
        if response.status_code in (401, 403) or location == "/accounts/login":
            problems.append(_describe(route, response, "the page, not a refusal"))
        elif response.status_code >= 500:
            problems.append(_describe(route, response, "no server error"))
    assert opened, f"no GET page is meant for a {role}"
    assert not problems, f"Pages refused to a {role}:\n" + "\n".join(problems)
