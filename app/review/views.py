"""Review pages: the pharmacists' queue, one prescription with its findings, claim, release, decide."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, or_, select

from app import limits
from app.accounts.models import Role
from app.audit.services import record, record_many
from app.consultations.services import verified_conditions
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.policy import patient_access_rules, patient_data, roles_required
from app.prescribing.models import Prescription
from app.prescribing.services import is_valid
from app.prescribing.states import PrescriptionStatus
from app.review import bp, queries, summary
from app.review import services as review
from app.review.forms import ClaimForm, DecisionForm, ReleaseForm
from app.review.models import PrescriptionReview
from app.transaction import perform

S = PrescriptionStatus


def pharmacist_sees_patient(user, patient_id: int) -> bool:
    """Access rule: a pharmacist sees a patient while one of their prescriptions waits for review,
    and keeps seeing the ones they decided (their own decisions stay explainable)."""
    if user.role != Role.PHARMACIST:
        return False
    return bool(db.session.scalar(select(exists().where(
        PrescriptionReview.prescription_id == Prescription.id, Prescription.patient_id == patient_id,
        or_(PrescriptionReview.decision.is_(None), PrescriptionReview.decided_by_id == user.id)))))


patient_access_rules.append(pharmacist_sees_patient)


def load(prescription_id: int, *, for_page: bool = False) -> Prescription:
    """Open for review, decided by this pharmacist, or an earlier version of one; 404 otherwise.
    `for_page` loads what the review page shows with it, in bulk."""
    prescription = queries.for_page(prescription_id) if for_page \
        else db.session.get(Prescription, prescription_id)
    if prescription is None or prescription.review is None \
            or not queries.reviewable_by(prescription, current_user):
        abort(404)
    return prescription


def render_review(prescription: Prescription, code: int = 200, form: DecisionForm | None = None):
    found = prescription.review
    now = utcnow()
    held_by = review.holder(found, now)
    earlier = queries.earlier_versions(prescription)
    return render_template(
        "review/detail.html", prescription=prescription, review=found, holder=held_by,
        earlier_returns=queries.returns(earlier), consultation=prescription.consultation,
        findings=sorted(prescription.findings, key=lambda f: (-f.severity.rank, f.line, f.id)),
        patient_context=summary.for_review(prescription, earlier),
        conditions=verified_conditions(prescription.patient),
        is_valid=is_valid(prescription, now), language=current_language(),
        claim_form=ClaimForm(), release_form=ReleaseForm(), form=form or DecisionForm(formdata=None),
        mine=held_by is not None and held_by.id == current_user.id), code


@bp.route("/")
@roles_required(Role.PHARMACIST)
@patient_data
def queue():
    from app.main.queues import counts_for  # the badges' counts read several features' tables

    now = utcnow()
    waiting = queries.queue(limits.QUEUE_SHOWN, language=current_language(), now=now)
    # A full page means more may wait: the navigation badge's count (read once per request) says how
    # many, rather than a second count of the same rows.
    total = len(waiting)
    if total == limits.QUEUE_SHOWN:
        total = max(counts_for(current_user).get("review", 0), total)
    # The queue names patients: one audit row per prescription shown, all in one INSERT.
    record_many("prescription.queue_viewed", waiting, object_type="prescriptions")
    # Rendered before the commit, which would expire the signed-in user the navigation reads again.
    page = render_template("review/queue.html", waiting=waiting, total=total)
    db.session.commit()
    return page


@bp.route("/<int:prescription_id>")
@roles_required(Role.PHARMACIST)
@patient_data
def detail(prescription_id: int):
    prescription = load(prescription_id, for_page=True)
    # The row record() would write, as one cached INSERT with no ORM flush.
    record_many("prescription.review_viewed", [prescription])
    # Rendered before the commit: committing first would expire the prescription and everything
    # loaded with it, and the template would read it all again row by row.
    page = render_review(prescription)
    db.session.commit()
    return page


def _refusal(prescription: Prescription):
    """The audit row a refused claim, release or decision leaves (committed after the rollback)."""
    return lambda error: record("prescription.review_refused", obj=prescription,
                                patient=prescription.patient_id)


def _back(prescription: Prescription):
    return redirect(url_for("review.detail", prescription_id=prescription.id), code=303)


@bp.route("/<int:prescription_id>/claim", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def claim(prescription_id: int):
    prescription = load(prescription_id)
    if not ClaimForm().validate_on_submit():
        abort(400)
    pharmacist = current_user._get_current_object()
    perform(lambda: review.claim(prescription, pharmacist), refused=_refusal(prescription),
            success=_("The prescription is yours to review for %(minutes)d minutes.",
                      minutes=review.CLAIM_MINUTES))
    return _back(prescription)


@bp.route("/<int:prescription_id>/release", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def release(prescription_id: int):
    prescription = load(prescription_id)
    if not ReleaseForm().validate_on_submit():
        abort(400)
    pharmacist = current_user._get_current_object()
    perform(lambda: review.release(prescription, pharmacist), refused=_refusal(prescription),
            success=_("The prescription is back in the queue."))
    return _back(prescription)


@bp.route("/<int:prescription_id>/decide", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def decide(prescription_id: int):
    prescription = load(prescription_id)
    form = DecisionForm()
    pharmacist = current_user._get_current_object()

    def decide_now() -> None:
        if not form.validate_on_submit():
            raise DomainError({})  # the form's own errors are already on its fields
        review.decide(prescription, pharmacist, form.decision.data, reason_codes=form.reason_codes.data,
                      note=form.note.data, justification=form.justification.data)

    if not perform(decide_now, form=form, refused=_refusal(prescription)):
        return render_review(prescription, 400, form)
    if prescription.status == S.APPROVED:
        flash(_("Approved. The patient can now order the medicines, for pickup or delivery, until "
                "%(date)s.", date=prescription.valid_until.isoformat()), "success")
    else:
        flash(_("Returned to the doctor with your reasons."), "success")
    return redirect(url_for("review.queue"), code=303)
