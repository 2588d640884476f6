"""The one transaction helper: all or nothing, the refusal kept, the reasons shown."""

from flask import get_flashed_messages
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.errors import DomainError
from app.extensions import db
from app.transaction import perform
from tests.factories import make_patient


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


class _Form:
    def __init__(self):
        self.note = type("Field", (), {"errors": []})()


def test_success_commits_and_flashes(app):
    with app.test_request_context():
        patient = make_patient()
        done = perform(lambda: setattr(patient, "display_name", "Renamed"), success="Saved.")
        assert done is True
        db.session.rollback()  # nothing left to roll back: it was committed
        assert db.session.get(type(patient), patient.id).display_name == "Renamed"
        assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]


def test_refusal_rolls_back_keeps_the_refusal_and_puts_reasons_on_the_form(app):
    with app.test_request_context():
        patient = make_patient()
        db.session.commit()
        before = _audit_count()
        form = _Form()

        def change_then_refuse():
            patient.display_name = "Half-written"
            db.session.flush()
            raise DomainError({"note": "Say why.", "": "Not now."})

        def keep_refusal(error):
            from app.audit.services import record
            record("test.refused", patient=patient.id, detail=str(error))

        done = perform(change_then_refuse, success="Saved.", form=form, refused=keep_refusal)
        assert done is False
        db.session.expire_all()
        assert db.session.get(type(patient), patient.id).display_name != "Half-written"
        assert _audit_count() == before + 1
        assert form.note.errors == ["Say why."]
        assert get_flashed_messages(with_categories=True) == [("danger", "Not now.")]
