"""A one-time code that dies before its SMS left (replaced by a new one, or guessed at too often)
is never sent: its outbox row is blanked and closed."""

import pytest

from app.accounts import services as accounts
from app.accounts.models import CodePurpose
from app.errors import DomainError
from app.notifications.models import OutboundSms, SmsStatus
from tests import factories


def unsent_rows(db, user):
    return db.session.query(OutboundSms).filter_by(user_id=user.id).order_by(OutboundSms.id).all()


def test_a_replaced_code_that_was_never_sent_is_redacted_and_never_sent(db):
    user = factories.make_patient()
    accounts.issue_code(user, CodePurpose.PHONE_VERIFICATION)
    first_body = unsent_rows(db, user)[0].body
    accounts.issue_code(user, CodePurpose.PHONE_VERIFICATION)
    first, second = unsent_rows(db, user)
    assert first.status == SmsStatus.FAILED and first.body != first_body
    assert not any(character.isdigit() for character in first.body)
    assert second.status == SmsStatus.QUEUED and any(character.isdigit() for character in second.body)


def test_a_code_exhausted_by_wrong_guesses_is_redacted_before_it_is_sent(app, db):
    user = factories.make_patient()
    accounts.issue_code(user, CodePurpose.PHONE_VERIFICATION)
    for _ in range(app.config["VERIFICATION_CODE_MAX_ATTEMPTS"] - 1):
        with pytest.raises(DomainError):
            accounts.match_code(user, CodePurpose.PHONE_VERIFICATION, "not-it")
    assert unsent_rows(db, user)[0].status == SmsStatus.QUEUED  # one guess left: still on its way
    with pytest.raises(DomainError):
        accounts.match_code(user, CodePurpose.PHONE_VERIFICATION, "not-it")
    message = unsent_rows(db, user)[0]
    assert message.status == SmsStatus.FAILED and not any(character.isdigit() for character in message.body)
