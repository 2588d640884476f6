"""Prescription pages: the doctor drafts, signs, extends and revises; the patient reads and confirms."""

from datetime import date

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import limits, numbers
from app.accounts.models import Role
from app.audit.services import record, record_read
from app.consultations import services as consultations
from app.consultations.models import Consultation
from app.drugs import services as drug_catalogue
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.number_fields import arg_int
from app.patients import catalog
from app.patients.queries import active_allergies
from app.policy import patient_data, roles_required
from app.prescribing import bp, directions, listing, quantity, queries, sig_input
from app.prescribing import services as rx
from app.prescribing.forms import (
    CancelForm,
    ConfirmLongForm,
    ExtendForm,
    ItemForm,
    RemoveItemForm,
    ReviseForm,
    SignForm,
    StartForm,
    SupplyForm,
)
from app.prescribing.models import Frequency, PrescribedUnit, Prescription, PrescriptionItem
from app.prescribing.rules import MAX_ITEMS
from app.prescribing.states import CANCELLABLE, REVISABLE, PrescriptionStatus
from app.review import services as review
from app.security import per_user_limit
from app.transaction import perform

S = PrescriptionStatus
SEARCH_LIMIT = 20
PARTICIPANTS = (Role.DOCTOR, Role.PATIENT)


def load(prescription_id: int) -> Prescription:
    """The prescription, if the signed-in user may see it; 404 otherwise (no hint that it exists)."""
    prescription = db.session.get(Prescription, prescription_id)
    if prescription is None or not queries.visible_to(prescription, current_user):
        abort(404)
    return prescription


def _viewed(prescription: Prescription, action: str = "prescription.viewed") -> None:
    record(action, obj=prescription, patient=prescription.patient_id)


def render_detail(prescription: Prescription, code: int = 200, **forms):
    """The prescription page; forms carrying errors from a refused action are passed in."""
    is_doctor = current_user.role == Role.DOCTOR
    context = dict(prescription=prescription, is_doctor=is_doctor, today=queries.today(),
                   is_valid=rx.is_valid(prescription), signature_ok=rx.verify_signature(prescription),
                   newer=queries.newer_version(prescription), language=current_language())
    if is_doctor and prescription.status == S.DRAFT:
        item_form = forms.get("item_form") or ItemForm(formdata=None)
        context.update(
            item_form=item_form, results=_search_results(item_form),
            supply_form=forms.get("supply_form") or SupplyForm(formdata=None, obj=prescription),
            sign_form=forms.get("sign_form") or SignForm(formdata=None), remove_form=RemoveItemForm(),
            allergies=active_allergies(prescription.patient), taking=_taking(prescription, context["today"]),
            max_items=MAX_ITEMS, cancel_form=CancelForm(), preview_findings=_preview_findings(prescription))
        context["unchecked_allergies"] = _unchecked(context["allergies"])
        context["needs_reason"] = bool(context["sign_form"].prescriber_reason.errors) or any(
            finding.severity in review.NEEDS_PRESCRIBER_REASON for finding in context["preview_findings"])
    elif is_doctor:
        extend_form = forms.get("extend_form") or ExtendForm(formdata=None)
        extend_form.valid_until.choices = [SelectChoice(day.isoformat(), day.isoformat())
                                           for day in queries.extension_days(prescription)]
        consultation_open = prescription.consultation.status in (
            rx.ANSWERING_RETURN if prescription.status == S.RETURNED else ("in_progress",))
        context.update(extend_form=extend_form, revise_form=ReviseForm(), cancel_form=CancelForm(),
                       can_revise=prescription.status in REVISABLE and context["newer"] is None
                       and consultation_open,
                       can_cancel=prescription.status in CANCELLABLE and context["newer"] is None)
    else:
        from app.orders.queries import holding_order  # orders build on prescriptions, not the reverse

        context.update(confirm_form=ConfirmLongForm(),
                       order=holding_order(prescription.id) if prescription.status == S.APPROVED else None)
    return render_template("prescribing/detail.html", **context), code


def _preview_findings(prescription: Prescription) -> list:
    """What the automatic checks would say if it were signed now: the doctor sees it before the
    pharmacist does. Nothing is stored; signing runs the checks again and keeps that result."""
    if not prescription.items:
        return []
    from app.checks import adapters  # the checks build on prescribing, not the other way round

    return sorted(adapters.check_prescription(prescription), key=lambda f: -f.severity.rank)


def _unchecked(allergies) -> frozenset[str]:
    """The allergies the automatic checks cannot match by name: the doctor checks those by hand."""
    from app.checks import allergens  # the checks build on prescribing, not the other way round

    return allergens.unchecked(allergies)


def _taking(prescription: Prescription, today: date) -> list:
    """What the patient takes now, as the checks count it: neither this draft nor the versions it
    replaces."""
    from app.checks import taking  # the checks build on prescribing, not the other way round

    return taking.taking_now(prescription.patient_id, today, taking.version_chain(prescription))


def _search_results(form: ItemForm) -> list[Drug]:
    """Server-side search for the drug list (the typeahead script fills the same list as you type)."""
    chosen = db.session.get(Drug, form.drug_id.data) if form.drug_id.data else None
    query = (form.query.data or "").strip()
    found = list(db.session.scalars(drug_catalogue.search(query).limit(SEARCH_LIMIT))) if query else []
    if chosen is not None and chosen not in found:
        found.insert(0, chosen)
    return found


def _refusal(prescription: Prescription):
    """What a refused change leaves on record (perform() commits it after rolling the change back)."""
    def write(error: DomainError) -> None:
        if isinstance(error, rx.WrongPassword):  # its audit row was rolled back with the rest
            record("prescription.sign_refused", obj=prescription, patient=prescription.patient_id,
                   detail="wrong password")
        _viewed(prescription, "prescription.action_refused")
    return write


def _invalid(prescription: Prescription, form, name: str):
    _viewed(prescription, "prescription.action_refused")
    db.session.commit()
    return render_detail(prescription, 400, **{name: form})


def _back(prescription: Prescription, anchor: str | None = None):
    return redirect(url_for("prescribing.detail", prescription_id=prescription.id, _anchor=anchor), code=303)


# ---- patient ------------------------------------------------------------------------------------

@bp.route("/")
@roles_required(Role.PATIENT)
@patient_data
def index():
    patient = current_user._get_current_object()
    after = request.args.get("after", "")
    listed = listing.for_patient(patient, after=after)
    record_read("prescription.list_viewed", patient=patient,
                detail="prescriptions=" + (",".join(str(p.id) for p in listed.rows) or "-"))
    rows = listed.rows
    lines, earlier = listing.details_for(patient, rows)
    page = render_template("prescribing/index.html", prescriptions=rows, lines=lines, earlier=earlier,
                           page=listed, after=after, today=queries.today())
    db.session.commit()
    return page


@bp.route("/<int:prescription_id>/confirm", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def confirm(prescription_id: int):
    prescription = load(prescription_id)
    if not ConfirmLongForm().validate_on_submit():
        abort(400)
    patient = current_user._get_current_object()
    perform(lambda: rx.confirm_long(prescription, patient), refused=_refusal(prescription),
            success=_("Thank you. Your doctor can now sign the long prescription."))
    return _back(prescription)


# ---- both ---------------------------------------------------------------------------------------

@bp.route("/<int:prescription_id>")
@roles_required(*PARTICIPANTS)
@patient_data
def detail(prescription_id: int):
    prescription = load(prescription_id)
    _viewed(prescription)
    db.session.commit()
    return render_detail(prescription)


# ---- doctor -------------------------------------------------------------------------------------

@bp.route("/start/<int:consultation_id>", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def start(consultation_id: int):
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or not consultations.visible_to(consultation, current_user):
        abort(404)
    form = StartForm()
    doctor, started = current_user._get_current_object(), []

    def begin() -> None:
        if not form.validate_on_submit():
            raise DomainError({"condition_id": _("Choose a diagnosis the patient has on file.")})
        started.append(rx.start(consultation, doctor, condition_id=form.condition_id.data))

    if perform(begin, refused=lambda error: record("consultation.action_refused", obj=consultation,
                                                   patient=consultation.patient_id)):
        return _back(started[0], "add-item")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id, _anchor="prescriptions"),
                    code=303)


@bp.route("/<int:prescription_id>/items", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def add_item(prescription_id: int):
    prescription = load(prescription_id)
    form = ItemForm()
    if form.search.data:  # the no-script search button: show the matches, keep what was typed
        _viewed(prescription)
        db.session.commit()
        form.drug_id.errors = []
        return render_detail(prescription, item_form=form)
    if not form.validate_on_submit():
        return _invalid(prescription, form, "item_form")
    doctor = current_user._get_current_object()
    if perform(lambda: rx.add_item(
            prescription, doctor, drug_id=form.drug_id.data, dose=form.dose.data,
            dose_unit=form.dose_unit.data, frequency=form.frequency.data,
            duration_days=form.duration_days.data,
            route=form.route.data or None, max_doses_per_day=form.max_doses_per_day.data,
            times_of_day=form.times_of_day.data, instructions=form.instructions.data),
            success=_("Added to the prescription."), form=form, refused=_refusal(prescription)):
        return _back(prescription, "items")
    if len(prescription.items) >= MAX_ITEMS:
        # A full draft's page has no add-drug form to carry the reason (a sixth drug sent from an older
        # page or by a double click), so it is said at the top of the page instead.
        for error in form.drug_id.errors:
            flash(str(error), "danger")
    return render_detail(prescription, 400, item_form=form)


@bp.route("/<int:prescription_id>/items/<int:item_id>/remove", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def remove_item(prescription_id: int, item_id: int):
    prescription = load(prescription_id)
    line = db.session.get(PrescriptionItem, item_id)
    if line is None or line.prescription_id != prescription.id or not RemoveItemForm().validate_on_submit():
        abort(404)
    doctor = current_user._get_current_object()
    perform(lambda: rx.remove_item(prescription, doctor, line), success=_("Removed from the prescription."),
            refused=_refusal(prescription))
    return _back(prescription, "items")


@bp.route("/<int:prescription_id>/supply", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def supply(prescription_id: int):
    prescription = load(prescription_id)
    form = SupplyForm()
    if not form.validate_on_submit():
        return _invalid(prescription, form, "supply_form")
    doctor = current_user._get_current_object()
    if perform(lambda: rx.set_supply(prescription, doctor, form.supply_category.data,
                                     reason=form.chronic_reason.data, assessment=form.long_assessment.data),
               success=_("Supply saved."), form=form, refused=_refusal(prescription)):
        return _back(prescription, "supply")
    return render_detail(prescription, 400, supply_form=form)


@bp.route("/<int:prescription_id>/sign", methods=["POST"])
@per_user_limit("SIGN_RATE_LIMIT")  # refused attempts per doctor: the password cannot be guessed here
@roles_required(Role.DOCTOR)
@patient_data
def sign(prescription_id: int):
    prescription = load(prescription_id)
    form = SignForm()
    if not form.validate_on_submit():
        return _invalid(prescription, form, "sign_form")
    doctor = current_user._get_current_object()
    # Signing and submitting for review are one step for the doctor, so one transaction: a finding
    # that needs a reason refuses the signature too.
    if perform(lambda: review.submit(rx.sign(prescription, doctor, form.password.data),
                                     form.prescriber_reason.data),
               success=_("Prescription signed and sent for pharmacist review."), form=form,
               refused=_refusal(prescription)):
        return _back(prescription)
    return render_detail(prescription, 400, sign_form=form)


@bp.route("/<int:prescription_id>/extend", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def extend(prescription_id: int):
    prescription = load(prescription_id)
    form = ExtendForm()
    form.valid_until.choices = [SelectChoice(d.isoformat(), d.isoformat())
                                for d in queries.extension_days(prescription)]
    if not form.validate_on_submit():
        return _invalid(prescription, form, "extend_form")
    try:
        until = date.fromisoformat(form.valid_until.data)
    except ValueError:
        form.valid_until.errors = [_("Choose the new last valid day.")]
        return _invalid(prescription, form, "extend_form")
    doctor = current_user._get_current_object()
    if perform(lambda: rx.extend_validity(prescription, doctor, until), success=_("Validity extended."),
               form=form, refused=_refusal(prescription)):
        return _back(prescription)
    return render_detail(prescription, 400, extend_form=form)


@bp.route("/<int:prescription_id>/revise", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def revise(prescription_id: int):
    prescription = load(prescription_id)
    if not ReviseForm().validate_on_submit():
        abort(400)
    doctor = current_user._get_current_object()
    created = []
    if perform(lambda: created.append(rx.revise(prescription, doctor)), refused=_refusal(prescription),
               success=_("A new version was started. Change it and sign it to replace the signed one.")):
        return _back(created[0], "items")
    return _back(prescription)


@bp.route("/<int:prescription_id>/cancel", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def cancel(prescription_id: int):
    prescription = load(prescription_id)
    if not CancelForm().validate_on_submit():
        abort(400)
    doctor = current_user._get_current_object()
    perform(lambda: rx.cancel(prescription, doctor), success=_("Prescription cancelled."),
            refused=_refusal(prescription))
    return _back(prescription)


@bp.route("/quantity.json")
@roles_required(Role.DOCTOR)
def quantity_preview():
    """Packs and days' supply for the sig being typed; catalogue arithmetic only, no patient data."""
    args = request.args
    drug = db.session.get(Drug, numbers.id_or_none(args.get("drug_id")) or 0)
    duration = arg_int("duration_days", limits.DURATION_DAYS)
    frequency = args.get("frequency", "")
    max_per_day = arg_int("max_doses_per_day", limits.DOSES_PER_DAY)
    if drug is None or not duration or duration < 1 or frequency not in set(Frequency):
        return jsonify(text=None)
    if frequency == Frequency.PRN and not max_per_day:
        return jsonify(text=None)
    try:
        unit = sig_input.choice_of(PrescribedUnit, args.get("dose_unit", ""), "dose_unit")
        dose = sig_input.parse_dose(args.get("dose", ""), unit)
        amount = sig_input.check_amount(quantity.compute(drug, dose, unit, Frequency(frequency), duration,
                                                  max_per_day))
    except DomainError as error:
        return jsonify(text=None, error=" ".join(str(m) for m in error.reasons.values()))
    return jsonify(packs=amount.packs, days_supply=amount.days_supply,
                   text=directions.supply_text(drug, amount.packs, amount.days_supply))


def start_form_for(consultation: Consultation, verified: list | None = None) -> StartForm:
    """The consultation page's 'write a prescription' form, listing the patient's verified diagnoses
    (`verified`, newest diagnosis first, when the page has already loaded them for the record)."""
    form = StartForm(formdata=None, condition_id=consultation.condition_id)
    language = current_language()
    if verified is None:
        verified = consultations.verified_conditions(consultation.patient)
    form.condition_id.choices = [
        SelectChoice(c.id, f"{catalog.icd10_name(c.icd10_code, language, c.name)} ({c.icd10_code})")
        for c in verified]
    return form

