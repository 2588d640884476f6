"""Consent decides what leaves: withdrawing data sharing stops the patient's pushes, queued ones
included; withdrawing linkage takes the linkage token out of what still waits; a dead event of a
patient who no longer shares is never replayed."""

import json

from app.extensions import db as _db
from app.outbox.models import OutboxStatus
from app.patients.models import ConsentKind
from app.patients.services import revoke_consent
from app.platform import backfill, fhir, push
from tests.platform.conftest import LINKAGE_KEY, events, give_identity, share


def _identifiers(event) -> set[str]:
    patient = next(one for one in json.loads(event.payload)["contained"] if one["resourceType"] == "Patient")
    return {identifier["system"] for identifier in patient["identifier"]}


def test_withdrawing_data_sharing_withdraws_queued_events_and_stops_new_ones(sharing, receive, receiver):
    receive()
    [queued] = events()
    revoke_consent(sharing, ConsentKind.DATA_SHARING)
    _db.session.commit()
    _db.session.refresh(queued)
    assert queued.status == OutboxStatus.WITHDRAWN
    assert push.push_due(0) == 0 and receiver.stats()["requests"] == 0
    receive()  # medicines handed over after the withdrawal: nothing is written
    assert len(events()) == 1
    assert receiver.store.rows() == []


def test_withdrawing_linkage_takes_the_linkage_token_out_of_waiting_events(sharing, receive, receiver):
    receive()
    [waiting] = events()
    assert _identifiers(waiting) == {fhir.RESEARCH_SYSTEM, fhir.LINKAGE_SYSTEM}
    revoke_consent(sharing, ConsentKind.RECORD_LINKAGE)
    _db.session.commit()
    _db.session.refresh(waiting)
    assert _identifiers(waiting) == {fhir.RESEARCH_SYSTEM}
    assert fhir.validate(json.loads(waiting.payload)) is None
    receive()
    assert _identifiers(events()[-1]) == {fhir.RESEARCH_SYSTEM}
    push.push_due(0)
    assert all(fhir.LINKAGE_SYSTEM not in row["resource"] for row in receiver.store.rows())


def test_sharing_without_linkage_sends_no_linkage_token(visit, app, monkeypatch, receive):
    monkeypatch.setitem(app.config, "PLATFORM_LINKAGE_KEY", LINKAGE_KEY)
    give_identity(visit.patient)
    share(visit.patient, linkage=False)
    receive()
    [event] = events()
    assert _identifiers(event) == {fhir.RESEARCH_SYSTEM}


def test_a_dead_event_is_not_replayed_once_the_patient_stopped_sharing(sharing, receive):
    receive()
    [event] = events()
    event.status = OutboxStatus.DEAD  # as a refused push would leave it
    _db.session.commit()
    assert backfill.replay_dead() == 1  # still sharing: queued again
    _db.session.refresh(event)
    assert event.status == OutboxStatus.PENDING and event.attempts == 0
    event.status = OutboxStatus.DEAD
    _db.session.commit()
    revoke_consent(sharing, ConsentKind.DATA_SHARING)
    _db.session.commit()
    assert backfill.replay_dead() == 0
    _db.session.refresh(event)
    assert event.status == OutboxStatus.DEAD
