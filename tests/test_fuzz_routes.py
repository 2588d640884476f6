"""Generated over the URL map: every route, as each role that may use it, given hostile values in its
URL, query string and form fields, answers without a server error, and a refused POST changes nothing.

Which inputs a route reads is found by watching it: a probe request records every name the view (its
WTForms form, or request.args/request.form directly) looks up. Then each name in turn carries a hostile
value while the others carry good ones, so that a value the form lets through reaches the service; each
name gets one value of every kind (GROUPS), and every value goes into all names at once as well. The
cases of a route are dealt out over the roles that may use it and the routes sharing its form, so every
role runs every route it may use without the run taking the whole cross product.
"""

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import g, request, request_started
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app import create_app
from app.accounts import passwords
from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.extensions import limiter
from app.request_guard import CleanMultiDict, CleanRequest
from tests import factories
from tests.consultations.conftest import flow  # noqa: F401  (fixture)
from tests.fuzz_world import World
from tests.payments.conftest import deliver, sign, stripe_client  # noqa: F401  (fixtures)

ANONYMOUS = "anonymous"
ROLES = [ANONYMOUS, *(str(role) for role in Role)]

HOSTILE = {
    "superscript": "²",
    "arabic_digits": "١٢",
    "full_width": "９",
    "huge_exponent": "1e999999",
    "exponent": "1e30",
    "negative": "-1",
    "int64": str(2**63),
    "huge": "9" * 30,
    "nul": "1\x00",
    "long": "7" * 100_000,
    "first_day": "0001-01-01",
    "last_day": "9999-12-31",
    "crlf": "/x\r\nLocation: //evil.example",
}
# Values that probe the same weakness: each input gets one of each group.
GROUPS = (("superscript", "arabic_digits", "full_width"), ("huge_exponent", "exponent"),
          ("int64", "huge", "negative"), ("nul",), ("long",), ("first_day", "last_day"), ("crlf",))
# Routes that take the same form: their cases are dealt out between them.
SAME_FORM = (("drugs.new", "drugs.edit"), ("admin.new_store", "admin.edit_store"),
             ("stock.transfer_pick", "stock.transfer_ship", "stock.transfer_lost", "stock.transfer_cancel"))
HOSTILE_IDS = ["0", str(2**31), str(2**63), "9" * 30, quote("²"), quote("١٢"), quote("９"), "-1", "1e3"]
HOSTILE_PATHS = [quote("²"), "%00", "..%2F..%2Fconfig.py", "x" * 5000, "a%0D%0Ab"]
HOSTILE_JSON = ['[]', '[1, 2]', '"x"', '1e999999', '{"id": []}', '{"id": "evt_1", "type": ["a"]}',
                '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": []}}',
                "[" * 50_000 + "]" * 50_000]
# What a refused request may rightly change: counters of failed attempts, a verification code burnt
# by too many wrong tries (its unsent SMS is redacted with it), and the audit trail.
COUNTERS = ("attempt", "failed", "locked")
UNWATCHED_COLUMNS = {"verification_codes.status", "outbound_sms.status", "outbound_sms.body",
                     "outbound_sms.redacted_at", "outbound_sms.last_error"}
UNWATCHED_TABLES = {AuditEvent.__tablename__, "alembic_version"}
# The one POST that ends the session for the rest of a run goes last.
LAST = {"accounts.logout"}


# ---- the plan, from the URL map ------------------------------------------------------------------

def _plan() -> list[dict]:
    app = create_app("testing")
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        allowed = [str(role) for role in roles] if roles else [ANONYMOUS]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append({"endpoint": rule.endpoint, "rule": rule.rule, "method": method,
                           "arguments": dict(_arguments(rule)), "roles": sorted(allowed)})
    return routes


ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^>]*\))?:)?(?P<name>\w+)>")


def _arguments(rule) -> list[tuple[str, str]]:
    """(name, converter) of each URL parameter: ("lot_id", "int"), ("filename", "path")."""
    return [(m.group("name"), m.group("converter") or "default") for m in ARGUMENT.finditer(rule.rule)]


PLAN = _plan()


def test_every_route_and_method_in_the_url_map_is_fuzzed_by_some_role():
    app = create_app("testing")
    in_map = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    planned = {(route["endpoint"], route["method"]) for route in PLAN if set(route["roles"]) <= set(ROLES)}
    assert in_map == planned
    # A walker that found nothing would pass everything below.
    assert {"stock.adjust", "prescribing.add_item", "audit.events", "static"} <= {e for e, _ in planned}


# ---- watching which inputs a view reads --------------------------------------------------------------

class _Watched(CleanMultiDict):
    """request.args / request.form (as the app builds them) that note every name looked up."""

    seen: set = set()

    def __contains__(self, key):
        _Watched.seen.add(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        _Watched.seen.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        _Watched.seen.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        _Watched.seen.add(key)
        return super().__getitem__(key)


class WatchedRequest(CleanRequest):
    parameter_storage_class = _Watched  # the class of request.args, request.form and request.files


# ---- the world every role works in (tests/fuzz_world.py) ---------------------------------------------

@pytest.fixture
def world(db, flow, monkeypatch):  # noqa: F811
    # argon2 at production cost takes a good part of a second a try, and the fuzz signs in and signs
    # prescriptions hundreds of times: the world's users get cheap hashes, checked the same way.
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)  # the unknown-account dummy follows the hasher's costs
    made = World(db, flow)
    for user in (*made.users.values(), made.bystander, made.unverified_doctor):
        user.password_hash = cheap.hash(factories.PASSWORD)
    db.session.commit()
    return made


# ---- what "nothing changed" means ---------------------------------------------------------------------

def _fingerprint_statement():
    """One SELECT summing every table's rows, numbers, flags, enums and set/unset columns: per table one
    text of comma-separated sums (one scalar subquery each, which both databases plan cheaply)."""
    tables = []
    for table in _db.metadata.sorted_tables:
        if table.name in UNWATCHED_TABLES:
            continue
        keys = list(table.primary_key.columns)
        weight = (keys[0] % 9973 + 1) if len(keys) == 1 and isinstance(keys[0].type, sa.Integer) else 1
        terms = {"rows": func.count()}
        for column in table.columns:
            if any(word in column.name for word in COUNTERS) or f"{table}.{column.name}" in UNWATCHED_COLUMNS:
                continue
            kind = column.type
            if isinstance(kind, sa.Enum):
                term = func.sum(sa.case({v: i + 1 for i, v in enumerate(kind.enums)}, value=column,
                                        else_=0) * weight)
            elif isinstance(kind, sa.Boolean):
                term = func.sum(sa.case((column, weight), else_=0))
            elif isinstance(kind, (sa.Integer, sa.Numeric)):
                term = func.sum(column)
            elif isinstance(kind, (sa.String, sa.Text)):
                term = func.sum(func.length(column) * weight)
            else:
                term = func.sum(sa.case((column.is_(None), 0), else_=weight))
            terms[column.name] = term
        text = None
        for term in terms.values():
            piece = sa.cast(func.coalesce(term, 0), sa.String)
            text = piece if text is None else text + "," + piece
        COLUMNS_OF[table.name] = list(terms)
        tables.append(select(text).select_from(table).scalar_subquery().label(table.name))
    return select(*tables)


COLUMNS_OF: dict[str, list[str]] = {}


def fingerprint(statement) -> dict:
    """The sums now. On PostgreSQL as a prepared statement: planning 40 kB of SQL each time would be
    most of this test's run time."""
    connection = _db.session.connection()
    if connection.dialect.name != "postgresql":
        return dict(connection.execute(statement).one()._mapping)
    if statement not in _COMPILED:  # compiling it takes longer than running it
        sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        # Without parameters psycopg sends the text as it is: undo the compiler's escaping of %.
        _COMPILED[statement] = str(sql).replace("%%", "%")
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(_COMPILED[statement], prepare=True)
    return dict(zip([column.name for column in statement.selected_columns], cursor.fetchone(), strict=True))


_COMPILED: dict = {}


def changed(before: dict, after: dict) -> list[str]:
    """table.column of every sum that differs."""
    found = []
    for table, value in after.items():
        if before.get(table) != value:
            old, new = (before.get(table) or "").split(","), value.split(",")
            found += [f"{table}.{name}" for name, a, b in zip(COLUMNS_OF[table], old, new, strict=False)
                      if a != b]
    return found


def refused(client, response) -> bool:
    """A 4xx, a form shown again with errors, or a redirect carrying an error message ("warning" is
    not one: a lot received into quarantine is received, with a warning)."""
    if response.status_code >= 400:
        return True
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    if any(category in ("danger", "error") for category, _ in flashes):
        return True
    return response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)


# ---- the run ------------------------------------------------------------------------------------

def _path(rule: str, ids: dict, replace: tuple[str, str] | None = None) -> str:
    path = rule
    for part in rule.split("<")[1:]:
        argument = part.split(">")[0]
        name = argument.split(":")[-1]
        value = replace[1] if replace and replace[0] == name else str(ids.get(name, "x"))
        path = path.replace(f"<{argument}>", value)
    return path


class Runner:
    def __init__(self, app, world, role, monkeypatch):
        self.app, self.world, self.role = app, world, role
        self.problems: list[str] = []
        self.reached: set[tuple[str, str]] = set()
        self.statement = _fingerprint_statement()
        self.requests = 0
        self.unchanged = None
        assert app.request_class is CleanRequest  # the watched one must build requests the same way
        monkeypatch.setattr(app, "request_class", WatchedRequest)
        self.client = self._client()
        request_started.connect(self._started, app)

    def close(self):
        request_started.disconnect(self._started, self.app)

    def _started(self, _sender, **_extra):
        g.__dict__.clear()  # as conftest's client does: production has a new `g` per request
        if request.url_rule is not None:
            self.reached.add((request.url_rule.endpoint, request.method))

    def _client(self):
        client = self.app.test_client()
        user = self.world.users.get(self.role)
        if user is not None:
            _db.session.commit()
            response = client.post("/accounts/login", data={"identifier": user.login_name,
                                                            "password": factories.PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    def send(self, route, path, values: list[tuple[str, str]], label: str, body=None, headers=None):
        with self.app.app_context():
            limiter.reset()  # a 429 would hide whatever the request would have done
        client = self.client if self.role != ANONYMOUS else self.app.test_client()
        post = route["method"] != "GET"
        # After a refused POST nothing changed, so its fingerprint is the next one's "before".
        before = (self.unchanged or fingerprint(self.statement)) if post else None
        self.unchanged = None
        _Watched.seen = set()
        if body is not None:
            response = client.open(path, method=route["method"], data=body, headers=headers or {})
        elif post:  # the names a view reads may be in the body or the query string (login's next)
            response = client.open(path, method=route["method"], data=MultiDict(values), query_string=values)
        else:
            response = client.open(path, method=route["method"], query_string=values)
        self.requests += 1
        where = f"{self.role} {route['method']} {route['endpoint']} [{label}]"
        if response.status_code >= 500:
            self.problems.append(f"{where}: {response.status_code}")
        elif post and refused(client, response):
            after = fingerprint(self.statement)
            if after != before:
                self.problems.append(f"{where}: refused ({response.status_code}) but changed "
                                     f"{', '.join(changed(before, after))}")
            self.unchanged = after
        return set(_Watched.seen)

    def inputs(self, route, path) -> list[str]:
        """The names the view reads: probe empty, then with good values, until nothing new turns up."""
        good = self.world.good(route["endpoint"])
        names: set[str] = set()
        for _ in range(3):
            # Flask-WTF reads no form at all from an empty body: send one unrelated field.
            values = [("probe", "1")] + [(n, good.get(n, "1")) for n in sorted(names)]
            found = self.send(route, path, values, "probe")
            if found <= names:
                break
            names |= found
        # A submit button's value is never read; the rest are inputs.
        return sorted(names - {"_flashes", "probe", "submit"})


def _my_share(route, role: str, items: list) -> list:
    """Deal the route's items out, in turn, over the roles that may use it and the routes that share
    its form (they parse the same fields the same way)."""
    siblings = next((group for group in SAME_FORM if route["endpoint"] in group), (route["endpoint"],))
    slots = [(endpoint, name) for endpoint in siblings for name in route["roles"]]
    return [item for i, item in enumerate(items) if slots[i % len(slots)] == (route["endpoint"], role)]


def _ordered(routes: list[dict]) -> list[dict]:
    return sorted(routes, key=lambda r: (r["endpoint"] in LAST, r["method"] != "GET", r["endpoint"]))


@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_never_breaks_a_page_and_a_refusal_changes_nothing(app, world, role, monkeypatch):
    runner = Runner(app, world, role, monkeypatch)
    mine = _ordered([route for route in PLAN if role in route["roles"]])
    assert mine, f"no route for {role}"
    try:
        for route in mine:
            _fuzz_route(runner, route)
    finally:
        runner.close()
    missed = {(route["endpoint"], route["method"]) for route in mine} - runner.reached
    assert not runner.problems, f"{len(runner.problems)} problems in {runner.requests} requests:\n" + \
        "\n".join(runner.problems[:200])
    assert not missed, f"routes never reached as {role}: {sorted(missed)}"


def _fuzz_route(runner: Runner, route: dict) -> None:
    world = runner.world
    ids = world.ids(route["endpoint"])
    path = _path(route["rule"], ids)
    # URL parameters.
    for name, converter in route["arguments"].items():
        hostile = HOSTILE_PATHS if converter == "path" else HOSTILE_IDS
        for value in _my_share(route, runner.role, hostile):
            runner.send(route, _path(route["rule"], ids, (name, value)), [], f"url {name}={value[:12]}")
    if "path" in route["arguments"].values():
        return
    names = runner.inputs(route, path)
    good = world.good(route["endpoint"])
    # One input hostile, the others good (so that the value gets past the form to the service): one
    # value of each group per input, a different one from input to input.
    cases = [(name, group[(i + g) % len(group)]) for i, name in enumerate(names)
             for g, group in enumerate(GROUPS)]
    # Every value in every input at once, and every key repeated (an array where one value is expected).
    cases += [("*", label) for label in HOSTILE] + [("*", "repeated")]
    for name, label in _my_share(route, runner.role, cases):
        if name != "*":
            values = [(n, HOSTILE[label] if n == name else good.get(n, "1")) for n in names]
        elif label == "repeated":
            values = [pair for n in names for pair in ((n, good.get(n, "1")), (n, "²"))]
        else:
            values = [(n, HOSTILE[label]) for n in names]
        runner.send(route, path, values, f"{name}={label}")
    if route["method"] == "POST":
        for body in _my_share(route, runner.role, HOSTILE_JSON):
            headers = {"Content-Type": "application/json"}
            if route["endpoint"] == "payments.stripe_webhook":
                headers["Stripe-Signature"] = sign(body, runner.app.config["STRIPE_WEBHOOK_SECRET"])
            runner.send(route, path, [], f"json {body[:20]}", body=body, headers=headers)

