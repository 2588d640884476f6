"""The audit log names every action and object in the reader's language, and code records no action
the log cannot name."""

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import event

from app import create_app
from app.audit.labels import ACTIONS, OBJECTS
from app.audit.services import record
from app.extensions import db as _db
from app.orders.states import OrderStatus
from app.patients.models import ConditionStatus
from app.payments.models import OperationKind, PaymentStatus
from app.review.models import Decision
from tests import factories

APP = Path(__file__).resolve().parents[2] / "app"
CODE = re.compile(r"^[a-z_]+(?:\.[a-z_]+)+$")
# Dotted strings in app/ that are not actions: a module, a Stripe event type, a data file.
# Dotted strings that are not audit actions: a module, the data platform's event types (outbox rows)
# and Stripe's.
# Data-platform event types, and the WSGI environ key the reference receiver drops a connection by.
NOT_ACTIONS = {"alembic.runtime.plugins", "medication.dispensed", "medication.returned", "adherence.summary",
               "werkzeug.socket"}
# Stripe's event types, and the field paths a checks case file's problems name ("expect.min_severity").
NOT_ACTION_PREFIXES = ("payment_intent.", "charge.", "expect.")
FILE_SUFFIXES = (".csv", ".txt", ".json")
# Actions recorded from an f-string, and every value the f-string can take.
FORMED = {
    "condition.{}": [str(ConditionStatus.VERIFIED), str(ConditionStatus.REJECTED)],  # a review's outcomes
    "payment.{}": [str(status) for status in PaymentStatus],
    "payment.{}_requested": [str(kind) for kind in OperationKind],
    "payment.{}_done": [str(kind) for kind in OperationKind],
    "prescription.{}": [str(decision) for decision in Decision],
    "order.{}": [str(OrderStatus.CANCELLED), str(OrderStatus.REFUNDED)],  # how an order is closed
}


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _is_record(call: ast.Call) -> bool:
    name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
    return name == "record" and bool(call.args)


def recorded_codes() -> set[str]:
    """Every dotted string in app/ that is not an endpoint, a table column, a file or a module: the
    actions passed to record(), whether directly or through a helper that records what it is given."""
    app = create_app("testing")
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    columns = {f"{table.name}.{column.name}" for table in _db.metadata.sorted_tables
               for column in table.columns}
    codes = set()
    for _path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
                codes.add(node.value)
    return {code for code in codes - endpoints - columns - NOT_ACTIONS
            if not code.startswith(NOT_ACTION_PREFIXES) and not code.endswith(FILE_SUFFIXES)}


def formed_codes() -> set[str]:
    """The shapes of the f-strings record() is called with, e.g. "payment.{}_done"."""
    shapes = set()
    for _path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_record(node) and isinstance(node.args[0], ast.JoinedStr):
                shapes.add("".join(part.value if isinstance(part, ast.Constant) else "{}"
                                   for part in node.args[0].values))
    return shapes


def test_every_action_code_recorded_has_a_name():
    codes = recorded_codes()
    assert {"login.succeeded", "stock.reserved", "address.remove_refused"} <= codes  # the walk finds them
    assert not sorted(codes - set(ACTIONS)), "give each new action a name in app/audit/labels.py"


def test_every_action_recorded_from_an_f_string_has_a_name_for_each_value():
    assert formed_codes() == set(FORMED), "list the values of a new f-string action in FORMED"
    missing = [shape.format(value) for shape, values in FORMED.items() for value in values
               if shape.format(value) not in ACTIONS]
    assert not missing


def test_every_table_has_a_name_as_an_audited_object():
    assert not sorted(set(_db.metadata.tables) - set(OBJECTS))


@pytest.fixture
def audit_page(client, login_as, db):
    def read(language: str) -> str:
        patient = factories.make_patient(display_name="王芳")
        record("prescription.signed", object_type="prescriptions", object_id=42, patient=patient)
        record("access.refused", object_type="stock.dashboard")
        record("probe.unknown_action")
        login_as("admin", locale=language)
        page = client.get("/audit/")
        assert page.status_code == 200
        return page.get_data(as_text=True), patient

    return read


def test_the_audit_log_names_actions_objects_and_patients_in_chinese(audit_page):
    page, patient = audit_page("zh")
    assert "处方已签名" in page and "处方 #42" in page
    assert f"王芳 #{patient.id}" in page
    assert ">prescription.signed<" not in page and "prescriptions 42" not in page
    # An action or object the list does not know is shown as recorded, marked as not for translation.
    assert '<code translate="no">probe.unknown_action</code>' in page
    assert '<code translate="no">stock.dashboard</code>' in page


def test_the_audit_log_names_actions_in_english(audit_page):
    page, _patient = audit_page("en")
    assert "Prescription signed" in page and "Prescription #42" in page
    assert "处方已签名" not in page


def test_the_action_filter_offers_named_actions(client, login_as, db):
    login_as("admin", locale="zh")
    page = client.get("/audit/?action=prescription.signed").get_data(as_text=True)
    assert '<option value="prescription.signed" selected>处方已签名</option>' in page
    # A prefix typed into the address is kept as the chosen filter.
    page = client.get("/audit/?action=payment.").get_data(as_text=True)
    assert '<option value="payment." selected translate="no">payment.</option>' in page


class _Statements:
    """Counts the SQL statements run while it is open."""

    def __init__(self):
        self.count = 0

    def __enter__(self):
        event.listen(_db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(_db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1


def test_naming_actors_and_patients_costs_the_same_few_statements_for_many_rows(client, login_as, db):
    login_as("admin", locale="zh")

    def statements_for(rows: int) -> int:
        for _ in range(rows):
            record("patient.profile.viewed", object_type="patient_profiles",
                   patient=factories.make_patient(), actor=factories.make_user("doctor"))
        db.session.commit()
        with _Statements() as seen:
            assert client.get("/audit/").status_code == 200
        return seen.count

    assert statements_for(3) == statements_for(40)
