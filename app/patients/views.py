"""Patient pages: own profile and time zone, health measurements, addresses, consents and allergies."""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.accounts.phones import mask
from app.audit.services import record
from app.extensions import db
from app.i18n import current_language
from app.patients import bp, identity, queries
from app.patients import facts as patient_facts
from app.patients import services as patients
from app.patients.forms import ActionForm, AddressForm, AllergyForm, ConsentForm, FactForm, ProfileForm
from app.patients.labels import fact_rows
from app.patients.models import Address, Allergy, ConsentKind
from app.policy import patient_data, roles_required
from app.transaction import perform


def signed_in_patient():
    return current_user._get_current_object()


def owned(model, object_id: int):
    """The patient's own row, or 404: another patient's row must look like a missing one."""
    row = db.session.get(model, object_id)
    if row is None or row.patient_id != current_user.id:
        abort(404)
    return row


def audit_refusal(action: str, **where):
    """The `refused` callback of `perform`: a refused button press still leaves its audit row."""
    return lambda _error: record(action, **where)


# ---- profile, addresses, consents --------------------------------------------------------------

def _profile_form(patient) -> ProfileForm:
    profile = patient.patient_profile
    data = {"time_zone": patient.time_zone}
    if profile is not None:
        data.update(legal_name=profile.legal_name, sex=profile.sex.value,
                    date_of_birth=profile.date_of_birth)
    # The ID number is never put back into the input: the page only ever shows it masked.
    return ProfileForm(formdata=None, data=data, language=current_language())


def _address_form(patient) -> AddressForm:
    profile = patient.patient_profile
    return AddressForm(formdata=None, data={
        "recipient": profile.legal_name if profile else patient.display_name,
        "phone": patient.phone or ""})


def _consents(patient) -> list[dict]:
    rows = []
    for kind in ConsentKind:
        current = queries.active_consent(patient, kind)
        version = patients.CONSENT_VERSIONS[kind.value]
        rows.append({"kind": kind.value, "current": current, "version": version,
                     "outdated": current is not None and current.version != version})
    return rows


def _facts(patient, profile) -> list:
    """The facts in force as the patient reads them, each marked when it may be out of date."""
    facts = patient_facts.facts_in_force(patient.id)
    stale = patient_facts.stale(facts, date_of_birth=profile.date_of_birth if profile else None,
                                on=patient_facts.today())
    return fact_rows([(fact, fact.recorded_by.display_name) for fact in facts], stale, reader="patient")


def _profile_page(patient, profile_form=None, address_form=None, fact_form=None):
    profile_form = profile_form or _profile_form(patient)
    address_form = address_form or _address_form(patient)
    profile = patient.patient_profile
    if profile is not None and profile.id_document_number:
        profile_form.id_document_number.description = _(
            "On file: %(number)s. Leave empty to keep it.",
            number=identity.mask_id_number(profile.id_document_number))
    record("patient.profile.viewed", object_type="patient_profiles", object_id=patient.id, patient=patient)
    record("fact.listed", object_type="patient_facts", patient=patient)
    page = render_template(
        "patients/profile.html", patient=patient, profile=profile, phone=mask(patient.phone),
        form=profile_form, address_form=address_form, addresses=queries.active_addresses(patient),
        consents=_consents(patient), history=queries.consent_history(patient),
        facts=_facts(patient, profile), fact_form=fact_form or FactForm(formdata=None),
        action_form=ActionForm(formdata=None))
    db.session.commit()
    return page


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def profile():
    patient = signed_in_patient()
    form = ProfileForm(language=current_language()) if request.method == "POST" else None
    if form is not None and form.validate_on_submit() and perform(
            lambda: patients.save_profile(
                patient, legal_name=form.legal_name.data, sex=form.sex.data,
                date_of_birth=form.date_of_birth.data,
                id_document_number=form.id_document_number.data, time_zone=form.time_zone.data),
            success=_("Your profile has been saved."), form=form):
        return redirect(url_for("patients.profile"))
    return _profile_page(patient, profile_form=form)


@bp.route("/facts", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def record_fact():
    """The patient reports a measurement; the Child-Pugh class is left to their doctor."""
    patient = signed_in_patient()
    form = FactForm()
    if form.validate_on_submit() and perform(
            lambda: patient_facts.record_fact(patient, *form.fact(), form.measured_on.data, by=patient),
            success=_("The measurement has been saved."), form=form):
        return redirect(url_for("patients.profile", _anchor="measurements"))
    return _profile_page(patient, fact_form=form)


@bp.route("/addresses", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def add_address():
    patient = signed_in_patient()
    form = AddressForm()
    if form.validate_on_submit() and perform(
            lambda: patients.add_address(
                patient, recipient=form.recipient.data, phone=form.phone.data,
                province=form.province.data, city=form.city.data, district=form.district.data,
                street=form.street.data, postal_code=form.postal_code.data,
                make_default=form.is_default.data),
            success=_("The address has been added."), form=form):
        return redirect(url_for("patients.profile", _anchor="addresses"))
    return _profile_page(patient, address_form=form)


@bp.route("/addresses/<int:address_id>/default", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def default_address(address_id: int):
    patient = signed_in_patient()
    address = owned(Address, address_id)
    perform(lambda: patients.set_default_address(patient, address),
            success=_("This is now your default delivery address."),
            refused=audit_refusal("address.default_refused", obj=address, patient=patient))
    return redirect(url_for("patients.profile", _anchor="addresses"))


@bp.route("/addresses/<int:address_id>/remove", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def remove_address(address_id: int):
    patient = signed_in_patient()
    address = owned(Address, address_id)
    perform(lambda: patients.remove_address(patient, address), success=_("The address has been removed."),
            refused=audit_refusal("address.remove_refused", obj=address, patient=patient))
    return redirect(url_for("patients.profile", _anchor="addresses"))


def _consent_kind() -> str:
    form = ConsentForm()
    if not form.validate_on_submit():
        abort(400)
    return form.kind.data


@bp.route("/consents/grant", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def grant_consent():
    patient = signed_in_patient()
    kind = _consent_kind()
    perform(lambda: patients.grant_consent(patient, kind, ip=request.remote_addr),
            success=_("Thank you. Your consent has been recorded."),
            refused=audit_refusal("consent.grant_refused", patient=patient))
    return redirect(url_for("patients.profile", _anchor="consents"))


@bp.route("/consents/revoke", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def revoke_consent():
    patient = signed_in_patient()
    kind = _consent_kind()
    perform(lambda: patients.revoke_consent(patient, kind), success=_("Your consent has been withdrawn."),
            refused=audit_refusal("consent.revoke_refused", patient=patient))
    return redirect(url_for("patients.profile", _anchor="consents"))


# ---- allergies ---------------------------------------------------------------------------------

@bp.route("/allergies", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def allergies():
    patient = signed_in_patient()
    form = AllergyForm(language=current_language())
    if form.validate_on_submit() and perform(
            lambda: patients.add_allergy(
                patient, kind=form.kind.data, substance=form.substance.data,
                allergy_class=form.allergy_class.data, reaction=form.reaction.data,
                severity=form.severity.data, recorded_by=patient),
            success=_("The allergy has been added."), form=form):
        return redirect(url_for("patients.allergies"))
    record("allergy.listed", object_type="allergies", patient=patient)
    # Imported here: the checks read the patient record, not the other way round; only the form's
    # suggestions (the names the checks understand) come from their knowledge base.
    from app.checks.allergens import suggestions

    page = render_template("patients/allergies.html", form=form,
                           allergies=queries.active_allergies(patient),
                           action_form=ActionForm(formdata=None),
                           suggestions=suggestions(current_language()))
    db.session.commit()
    return page


@bp.route("/allergies/<int:allergy_id>/withdraw", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def withdraw_allergy(allergy_id: int):
    patient = signed_in_patient()
    allergy = owned(Allergy, allergy_id)
    perform(lambda: patients.withdraw_allergy(patient, allergy), success=_("The allergy has been withdrawn."),
            refused=audit_refusal("allergy.withdraw_refused", obj=allergy, patient=patient))
    return redirect(url_for("patients.allergies"))

