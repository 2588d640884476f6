"""Cancelling asks first (on a page of its own, no script needed); the stars, the chat thread and its
input are built for phones and screen readers."""

import re

from app.consultations import services as consultations
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from tests import factories

S = ConsultationStatus


def text(response) -> str:
    return response.get_data(as_text=True)


def status_of(db, consultation) -> ConsultationStatus:
    db.session.expire_all()
    return db.session.get(Consultation, consultation.id).status


def test_the_cancel_button_on_the_page_only_asks_and_cancels_nothing(db, flow, as_user):
    consultation = flow.book()
    browser = as_user(consultation.patient)
    page = text(browser.get(f"/consultations/{consultation.id}"))
    # No form on the consultation page posts the cancellation: one tap cannot cancel.
    assert not re.search(r'<form[^>]*action="[^"]*/cancel"', page)
    assert f'href="/consultations/{consultation.id}/cancel"' in page

    question = browser.get(f"/consultations/{consultation.id}/cancel")
    assert question.status_code == 200
    assert "Cancel this consultation?" in text(question)
    assert "Yes, cancel the consultation" in text(question) and "No, keep it" in text(question)
    assert status_of(db, consultation) == S.AWAITING_PAYMENT


def test_confirming_cancels_and_says_so(db, flow, as_user):
    consultation = flow.paid()
    browser = as_user(consultation.patient)
    question = text(browser.get(f"/consultations/{consultation.id}/cancel"))
    assert "the amount held on your card is released" in question
    done = browser.post(f"/consultations/{consultation.id}/cancel", follow_redirects=True)
    assert "Your consultation is cancelled." in text(done)
    assert status_of(db, consultation) == S.CANCELLED


def test_the_question_in_chinese_and_none_once_a_doctor_accepted(db, flow, as_user):
    patient = factories.make_patient(locale="zh")
    consultation = flow.book(patient=patient)
    page = text(as_user(patient).get(f"/consultations/{consultation.id}/cancel"))
    assert "取消本次复诊？" in page and "是的，取消复诊" in page and "Cancel this consultation?" not in page

    accepted = flow.accepted()
    browser = as_user(accepted.patient)
    response = browser.get(f"/consultations/{accepted.id}/cancel", follow_redirects=True)
    assert "A consultation can only be cancelled before a doctor accepts it." in text(response)
    assert "Yes, cancel the consultation" not in text(response)
    assert status_of(db, accepted) == S.IN_PROGRESS


def test_a_doctor_cannot_open_the_question(db, flow, as_user):
    consultation = flow.paid()
    assert as_user(consultation.doctor).get(f"/consultations/{consultation.id}/cancel").status_code == 403


def test_rating_stars_are_large_buttons_with_their_number_spoken(db, flow, as_user):
    consultation = flow.accepted()
    consultation.complaint = consultation.findings = consultation.assessment = consultation.plan = "x"
    db.session.commit()
    consultations.complete(consultation, consultation.doctor)
    db.session.commit()
    page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    stars = re.findall(r'<label class="btn btn-lg[^"]*rating-star" for="rating-(\d)">', page)
    assert sorted(stars) == ["0", "1", "2", "3", "4"]
    assert page.count('class="btn-check"') == 5
    assert page.count('<span class="visually-hidden"> stars</span>') == 5


def test_the_thread_is_announced_and_its_input_stays_at_the_bottom(db, flow, as_user):
    consultation = flow.accepted()
    page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    thread = re.search(r'<ol[^>]*id="message-thread"[^>]*>', page).group(0)
    assert 'aria-live="polite"' in thread
    form = re.search(r'<form[^>]*id="message-form"[^>]*>', page).group(0)
    assert "sticky-bottom" in form and "bg-body" in form
