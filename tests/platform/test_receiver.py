"""The reference receiver, driven by the real PlatformClient over HTTP on 127.0.0.1."""

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.integrations.data_platform import CONTENT_TYPE, SIGNATURE_HEADER, PlatformClient, PushError, sign
from app.platform.receiver import MAX_BODY_BYTES, MAX_ENTRIES, make_receiver, start_in_thread
from app.platform.receiver_store import received_resources
from config import normalise_database_url

SECRET = "receiver-test-secret"
SYSTEM = "https://platform.example/event-key"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_PG = PG_URL.startswith(("postgres://", "postgresql"))
REPO = Path(__file__).resolve().parents[2]


# --- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_receiver_url():
    """A PostgreSQL database of this run's own, so parallel runs and the app's tables are not touched."""
    base = sa.engine.make_url(normalise_database_url(PG_URL))
    name = f"receiver_test_{os.getpid()}"
    server = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"] if IS_PG else ["sqlite"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'receiver.sqlite3'}"
    url = request.getfixturevalue("postgres_receiver_url")
    engine = sa.create_engine(url)
    received_resources.drop(engine, checkfirst=True)  # each test starts with no rows
    engine.dispose()
    return url


@pytest.fixture
def make(database):
    """make(**faults) → a receiver served on 127.0.0.1; all are stopped and closed after the test."""
    started = []

    def start(**faults):
        receiver = make_receiver(database, SECRET, **faults)
        started.append((receiver, start_in_thread(receiver)))
        return receiver, started[-1][1]

    yield start
    for receiver, server in started:
        server.stop()
        receiver.close()


@pytest.fixture
def receiver(make):
    return make()


@pytest.fixture
def senders():
    """senders(url) → a real PlatformClient, closed after the test."""
    made = []

    def sender(url: str) -> PlatformClient:
        made.append(PlatformClient(url, SECRET, timeout=30))
        return made[-1]

    yield sender
    for client in made:
        client.close()


# --- helpers ---------------------------------------------------------------------------------------

def dispense(key: str, **fields) -> dict:
    nifedipine = {"coding": [{"system": "http://www.whocc.no/atc", "code": "C08CA01"}]}
    return {"resourceType": "MedicationDispense", "identifier": [{"system": SYSTEM, "value": key}],
            "status": "completed", "medicationCodeableConcept": nifedipine, **fields}


def entry(key: str | None = None, resource: dict | None = None, **request) -> dict:
    key = key or str(uuid.uuid4())
    resource = resource or dispense(key)
    return {"fullUrl": f"urn:uuid:{key}", "resource": resource,
            "request": {"method": "POST", "url": resource.get("resourceType"),
                        "ifNoneExist": f"identifier={SYSTEM}|{key}", **request}}


def bundle(entries: list[dict], kind: str = "batch") -> bytes:
    return json.dumps({"resourceType": "Bundle", "type": kind, "entry": entries}).encode()


def keys_of(entries: list[dict]) -> list[str]:
    return [item["fullUrl"].removeprefix("urn:uuid:") for item in entries]


def statuses(reply) -> list[str]:
    assert reply.body["resourceType"] == "Bundle" and reply.body["type"] == "batch-response"
    return [item["response"]["status"] for item in reply.body["entry"]]


def raw_post(url: str, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": str(uuid.uuid4())}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return requests.post(url, data=body, headers=headers, timeout=30)


def stored_keys(receiver) -> list[str]:
    return [row["event_key"] for row in receiver.store.rows()]


# --- storing once ----------------------------------------------------------------------------------

def test_a_valid_batch_is_stored_once_and_a_resend_gets_200_ok_for_each(receiver, senders):
    app, server = receiver
    entries = [entry() for _ in range(3)]
    body = bundle(entries)

    first = senders(server.url).post(body, "batch-1")

    assert first.status == 200
    assert statuses(first) == ["201 Created"] * 3
    assert [item["response"]["location"] for item in first.body["entry"]] == [
        f"MedicationDispense/{key}" for key in keys_of(entries)]
    rows = {row["event_key"]: row for row in app.store.rows()}
    assert sorted(rows) == sorted(keys_of(entries))
    for item in entries:
        row = rows[keys_of([item])[0]]
        assert row["resource_type"] == "MedicationDispense"
        assert json.loads(row["resource"]) == item["resource"]

    again = senders(server.url).post(body, "batch-1")

    assert statuses(again) == ["200 OK"] * 3
    assert [item["response"]["location"] for item in again.body["entry"]] == [
        f"MedicationDispense/{key}" for key in keys_of(entries)]
    assert app.store.count() == 3


def test_a_stored_resource_is_not_overwritten_by_a_later_one_with_the_same_key(receiver, senders):
    app, server = receiver
    key = str(uuid.uuid4())
    senders(server.url).post(bundle([entry(key)]), "b1")

    reply = senders(server.url).post(bundle([entry(key, dispense(key, status="in-progress"))]), "b2")

    assert statuses(reply) == ["200 OK"]
    assert json.loads(app.store.rows()[0]["resource"])["status"] == "completed"


def test_the_same_key_twice_in_one_batch_is_stored_once(receiver, senders):
    app, server = receiver
    key = str(uuid.uuid4())

    reply = senders(server.url).post(bundle([entry(key), entry(key)]), "b")

    assert statuses(reply) == ["201 Created", "200 OK"]
    assert stored_keys(app) == [key]


def test_decimals_are_stored_as_written(receiver, senders):
    app, server = receiver
    key = str(uuid.uuid4())
    observation = {"resourceType": "Observation", "identifier": [{"system": SYSTEM, "value": key}],
                   "status": "final", "code": {"text": "dose"}, "valueQuantity": {"value": 0, "unit": "mg"}}
    # json.dumps would write 1.5: the precision FHIR reads from "1.50" must survive the receiver.
    body = bundle([entry(key, observation)]).replace(b'"value": 0', b'"value": 1.50')

    reply = senders(server.url).post(body, "b")

    assert statuses(reply) == ["201 Created"]
    assert reply.body["entry"][0]["response"]["location"] == f"Observation/{key}"
    assert '"value":1.50' in app.store.rows()[0]["resource"]


# --- refusing the request --------------------------------------------------------------------------

def _signature(kind: str, body: bytes) -> tuple[bytes, str | None]:
    """(body sent, signature header) for each way of getting the signature wrong."""
    if kind == "forged":
        return body, sign("not-the-secret", body)
    if kind == "missing":
        return body, None
    if kind == "malformed":
        return body, "v1=deadbeef"
    if kind == "stale":
        return body, sign(SECRET, body, int(time.time()) - 301)
    return body.replace(b"completed", b"cancelled"), sign(SECRET, body)  # tampered after signing


@pytest.mark.parametrize("kind", ["forged", "missing", "malformed", "stale", "tampered"])
def test_a_batch_without_a_good_signature_gets_401_and_stores_nothing(receiver, kind):
    app, server = receiver
    body, signature = _signature(kind, bundle([entry(), entry()]))

    response = raw_post(server.url, body, signature)

    assert response.status_code == 401
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    assert app.store.count() == 0
    assert app.stats()["refused"] == 1


def test_the_sender_is_told_a_wrong_secret_will_not_pass_on_retry(receiver):
    _app, server = receiver
    client = PlatformClient(server.url, "not-the-secret", timeout=30)
    try:
        with pytest.raises(PushError) as raised:
            client.post(bundle([entry()]), "b")
    finally:
        client.close()
    assert raised.value.http_status == 401
    assert raised.value.retryable is False


@pytest.mark.parametrize("body", [
    b"not json at all",
    b'{"resourceType": "Bundle", "type": "transaction", "entry": []}',
    b'{"resourceType": "Patient"}',
    b'[1, 2, 3]',
    b'{"resourceType": "Bundle", "type": "batch", "entry": {}}',
    b'{"resourceType": "Bundle", "type": "batch", "entry": [], "n": 1' + b"0" * 100 + b"}",
], ids=["not-json", "transaction", "not-a-bundle", "array", "entry-not-a-list", "endless-number"])
def test_a_signed_body_that_is_not_a_batch_bundle_gets_400(receiver, body):
    app, server = receiver

    response = raw_post(server.url, body, sign(SECRET, body))

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert app.stats()["refused"] == 1


def test_a_batch_of_more_than_1000_entries_gets_400_and_stores_nothing(receiver):
    app, server = receiver
    body = bundle([entry() for _ in range(MAX_ENTRIES + 1)])

    response = raw_post(server.url, body, sign(SECRET, body))

    assert response.status_code == 400
    assert app.store.count() == 0


def test_a_body_over_10_mb_gets_400_and_stores_nothing(receiver):
    app, server = receiver
    good = json.loads(bundle([entry()]))
    good["padding"] = "x" * MAX_BODY_BYTES
    body = json.dumps(good).encode()

    response = raw_post(server.url, body, sign(SECRET, body))

    assert response.status_code == 400
    assert "larger" in response.json()["issue"][0]["diagnostics"]
    assert app.store.count() == 0


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/fhir", 405), ("PUT", "/", 405), ("DELETE", "/fhir", 405), ("POST", "/stats", 405),
    ("GET", "/faults", 405), ("POST", "/elsewhere", 404),
])
def test_other_methods_and_paths_are_refused(receiver, method, path, status):
    _app, server = receiver
    response = requests.request(method, f"http://127.0.0.1:{server.port}{path}", timeout=30)
    assert response.status_code == status


def test_the_root_path_takes_batches_too(receiver, senders):
    app, server = receiver
    reply = senders(f"http://127.0.0.1:{server.port}/").post(bundle([entry()]), "b")
    assert statuses(reply) == ["201 Created"]
    assert app.store.count() == 1


# --- refusing single entries -----------------------------------------------------------------------

def _malformed_entries() -> dict[str, dict]:
    key = str(uuid.uuid4())
    other = str(uuid.uuid4())
    observation_type = entry(key)
    observation_type["request"]["url"] = "Observation"
    no_condition = entry()
    del no_condition["request"]["ifNoneExist"]
    return {
        "fullUrl not a urn:uuid": {**entry(), "fullUrl": "http://example.org/MedicationDispense/1"},
        "fullUrl not a uuid": entry("not-a-uuid-" + "x" * 25),
        "fullUrl upper-case uuid": entry(key.upper()),
        "ifNoneExist missing": no_condition,
        "ifNoneExist names another key": entry(key, ifNoneExist=f"identifier={SYSTEM}|{other}"),
        "ifNoneExist not an identifier": entry(key, ifNoneExist=f"patient={key}"),
        "request.url not the resourceType": observation_type,
        "method not POST": entry(key, method="PUT"),
        "resourceType not allowed": entry(key, {"resourceType": "Patient", "id": "p1"}),
        "no resource": {**entry(), "resource": None},
        "not an object": "entry",
        "status missing": entry(key, {k: v for k, v in dispense(key).items() if k != "status"}),
        "unknown element": entry(key, dispense(key, secretNote="x")),
    }


def test_malformed_entries_get_400_each_while_the_good_ones_in_the_batch_are_stored(receiver, senders):
    app, server = receiver
    good = [entry(), entry()]
    bad = _malformed_entries()
    entries = [good[0], *bad.values(), good[1]]

    reply = senders(server.url).post(bundle(entries), "b")

    assert statuses(reply) == ["201 Created", *["400 Bad Request"] * len(bad), "201 Created"], bad.keys()
    for item in reply.body["entry"][1:-1]:
        outcome = item["response"]["outcome"]
        assert outcome["resourceType"] == "OperationOutcome"
        [issue] = outcome["issue"]
        assert (issue["severity"], issue["code"]) == ("error", "invalid")
        assert issue["diagnostics"]
        assert "location" not in item["response"]
    assert sorted(stored_keys(app)) == sorted(keys_of(good))
    assert app.stats()["refused"] == len(bad)


def test_a_resource_fhir_resources_refuses_gets_400_naming_the_element(receiver, senders):
    app, server = receiver
    key = str(uuid.uuid4())
    invalid = {k: v for k, v in dispense(key).items() if k != "status"}

    reply = senders(server.url).post(bundle([entry(key, invalid)]), "b")

    assert statuses(reply) == ["400 Bad Request"]
    assert "status" in reply.body["entry"][0]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert app.store.count() == 0


# --- faults ----------------------------------------------------------------------------------------

def test_fail_first_answers_503_retryable_and_stores_nothing(make, senders):
    app, server = make(fail_first=2)
    sender, body = senders(server.url), bundle([entry()])

    for _ in range(2):
        with pytest.raises(PushError) as raised:
            sender.post(body, "b")
        assert (raised.value.http_status, raised.value.retryable) == (503, True)
        assert app.store.count() == 0

    assert statuses(sender.post(body, "b")) == ["201 Created"]


def test_drop_first_closes_the_connection_unanswered_and_stores_nothing(make, senders):
    app, server = make(drop_first=1)
    sender, body = senders(server.url), bundle([entry(), entry()])

    with pytest.raises(PushError) as raised:
        sender.post(body, "b")

    # No status at all: the sender saw a broken connection, not an error page.
    assert (raised.value.http_status, raised.value.retryable) == (None, True)
    assert "ConnectionError" in str(raised.value) or "ChunkedEncodingError" in str(raised.value)
    assert app.store.count() == 0
    assert statuses(sender.post(body, "b")) == ["201 Created"] * 2


def test_drop_after_store_keeps_the_rows_and_the_retry_gets_200_ok(make, senders):
    app, server = make(drop_after_store=1)
    entries = [entry(), entry(), entry()]
    sender, body = senders(server.url), bundle(entries)

    with pytest.raises(PushError) as raised:
        sender.post(body, "b")

    assert (raised.value.http_status, raised.value.retryable) == (None, True)
    assert sorted(stored_keys(app)) == sorted(keys_of(entries))
    assert statuses(sender.post(body, "b")) == ["200 OK"] * 3
    assert app.store.count() == 3


def test_faults_are_consumed_in_order_and_can_be_changed_at_run_time(make, senders):
    app, server = make(fail_first=1, drop_first=1, drop_after_store=1)
    sender = senders(server.url)
    first, second, third = (bundle([entry()]) for _ in range(3))

    with pytest.raises(PushError) as failed:
        sender.post(first, "1")
    with pytest.raises(PushError) as dropped:
        sender.post(second, "2")
    assert app.store.count() == 0
    with pytest.raises(PushError) as dropped_after_store:
        sender.post(third, "3")
    assert [failed.value.http_status, dropped.value.http_status,
            dropped_after_store.value.http_status] == [503, None, None]
    assert app.store.count() == 1
    assert statuses(sender.post(third, "3")) == ["200 OK"]

    faults_url = f"http://127.0.0.1:{server.port}/faults"
    changed = requests.post(faults_url, json={"drop_first": 1}, timeout=30)
    assert changed.status_code == 200
    assert changed.json() == {"fail_first": 0, "drop_first": 1, "drop_after_store": 0}
    with pytest.raises(PushError):
        sender.post(first, "1")
    assert statuses(sender.post(first, "1")) == ["201 Created"]

    for wrong in ({"drop_first": -1}, {"drop_first": "1"}, {"explode": 1}, [1]):
        assert requests.post(faults_url, json=wrong, timeout=30).status_code == 400
    assert app.faults() == {"fail_first": 0, "drop_first": 0, "drop_after_store": 0}


# --- concurrency -----------------------------------------------------------------------------------

def test_eight_senders_posting_the_same_batch_at_once_store_each_key_once(receiver):
    app, server = receiver
    entries = [entry() for _ in range(25)]
    body = bundle(entries)
    start = threading.Barrier(8)
    replies, errors = [], []

    def push():
        client = PlatformClient(server.url, SECRET, timeout=60)
        try:
            start.wait()
            replies.append(client.post(body, "same-batch"))
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=push) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(replies) == 8
    created = dict.fromkeys(keys_of(entries), 0)
    for reply in replies:
        for key, status in zip(keys_of(entries), statuses(reply), strict=True):
            assert status in ("201 Created", "200 OK")
            created[key] += status == "201 Created"
    assert set(created.values()) == {1}
    assert sorted(stored_keys(app)) == sorted(keys_of(entries))
    stats = app.stats()
    assert (stats["stored"], stats["duplicates"]) == (25, 25 * 7)


# --- stats -----------------------------------------------------------------------------------------

def test_stats_count_what_happened(make, senders):
    app, server = make(fail_first=1, drop_first=1)
    sender = senders(server.url)
    body = bundle([entry(), entry(), entry(key=None, resource={"resourceType": "Patient"})])
    for _ in range(2):
        with pytest.raises(PushError):
            sender.post(body, "b")
    sender.post(body, "b")  # 2 stored, 1 refused
    sender.post(body, "b")  # 2 duplicates, 1 refused
    raw_post(server.url, body, None)  # refused whole

    response = requests.get(f"http://127.0.0.1:{server.port}/stats", timeout=30)

    assert response.status_code == 200
    assert response.json() == {"requests": 5, "stored": 2, "duplicates": 2, "refused": 3,
                               "failed": 1, "dropped": 1}
    assert response.json() == app.stats()


# --- the command -----------------------------------------------------------------------------------

def test_the_receive_command_says_where_it_listens_and_stores_what_it_gets(tmp_path):
    database = tmp_path / "command.sqlite3"
    command = [sys.executable, "-c",
               "from app.platform.receiver import receive_command; receive_command(prog_name='receive')",
               "--port", "0", "--secret", SECRET, "--database", f"sqlite:///{database}", "--fail-first", "1"]
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603  (a fixed argv, no shell)
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), (tmp_path / "stderr.log").read_text()
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, (tmp_path / "stderr.log").read_text()
        assert str(database) in line
        url = line.split("listening on ", 1)[1].split(",", 1)[0]
        client = PlatformClient(url, SECRET, timeout=30)
        try:
            with pytest.raises(PushError) as raised:
                client.post(bundle([entry()]), "b")
            assert raised.value.http_status == 503
            assert statuses(client.post(bundle([entry()]), "b")) == ["201 Created"]
        finally:
            client.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(received_resources)).scalar() == 1
    engine.dispose()
