"""Every template filter, global and helper the pages share, registered once on the app."""

from datetime import UTC
from functools import cache, partial

from flask import Flask, g, url_for
from flask_babel import get_timezone
from flask_login import current_user

from app.accounts.models import Role
from app.consultations import labels as consultation_labels
from app.delivery import labels as delivery_labels
from app.drugs import labels as drug_labels
from app.drugs.models import Drug
from app.i18n import current_language
from app.inventory import reasons as stock_reasons
from app.labels import city_name, department_name, in_language
from app.notifications import labels as sms_labels
from app.orders import labels as order_labels
from app.patients import catalog, identity
from app.patients import labels as patient_labels
from app.platform import labels as platform_labels
from app.prescribing import directions
from app.prescribing import labels as prescription_labels
from app.review import labels as review_labels
from app.review import reasons as review_reasons


def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals, e.g. 3000 → ¥30.00 (integer arithmetic, no floats)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def local_time(value) -> str:
    """A stored UTC time in the reader's zone as 2026-03-01 14:05 ("—" for none): the same digits in
    both languages, so strftime does what Babel's pattern formatting did at a fifth of the cost on
    pages that show hundreds of times."""
    if not value:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # The reader's zone once per request: a thread of fifty messages asked Flask-Babel fifty times.
    zone = g.get("reader_zone")
    if zone is None:
        zone = g.reader_zone = get_timezone()
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_day(value) -> str:
    """A stored UTC time's day in the reader's zone, as 2026-03-01."""
    return local_time(value)[:10]


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def drug_name(drug: Drug, language: str | None = None) -> str:
    return drug.generic_name_zh if (language or current_language()) == "zh" else drug.generic_name_en


def drug_title(drug, language: str | None = None) -> str:
    """'Metformin 500 mg · Tablet' in the reader's language; a function, not a macro, because lists
    print it for every line. Anything with a Drug's name, strength and form columns will do."""
    language = language or current_language()
    form = in_language(drug_labels.DOSAGE_FORMS, language)[drug.dosage_form]
    return f"{drug_name(drug, language)} {drug_labels.strength(drug, language)} · {form}"


def upload_url(upload_id: int) -> str:
    """The patient record serves every upload after its own access check."""
    return url_for("patients.upload", upload_id=upload_id)


def queue_counts() -> dict[str, int]:
    """What waits for the signed-in user, for the badges in the navigation (called lazily)."""
    from app.main.queues import counts_for  # the queues read several features' tables

    return counts_for(current_user) if current_user.is_authenticated else {}


def icd10_name(code: str, fallback: str = "", language: str | None = None) -> str:
    return catalog.icd10_name(code, language or current_language(), fallback)


def allergy_class_name(code: str) -> str:
    return catalog.allergy_class_name(code, current_language())


def allergy_name(allergy) -> str:
    return patient_labels.allergy_name(allergy, current_language())


def allergy_severity_name(value) -> str:
    return patient_labels.severity_name(value)


def time_zone_name(zone: str | None) -> str:
    return identity.time_zone_name(zone, current_language())


def masked_id_number(value: str | None) -> str:
    return identity.mask_id_number(value)


def returned_by_pharmacist() -> list:
    """The signed-in doctor's prescriptions waiting for revision after a pharmacist returned them."""
    from app.main.queues import returned_prescriptions  # the queues read several features' tables

    if not current_user.is_authenticated or current_user.role != Role.DOCTOR:
        return []
    if not queue_counts().get("returned"):
        return []
    return returned_prescriptions(current_user)


def queue_version() -> str:
    """The version a queue page was rendered at, so its first poll already notices a change."""
    from app.main.queues import counts_and_version

    return counts_and_version(current_user)[1] if current_user.is_authenticated else ""


GLOBALS = (local_time, local_day, drug_title, upload_url, queue_counts, icd10_name, allergy_class_name,
           allergy_name, allergy_severity_name, time_zone_name, masked_id_number, returned_by_pharmacist,
           queue_version)


@cache
def in_render_language(language: str) -> dict:
    """The helpers lists call on every row, bound to the language of the render (the context processor
    asks once): each call otherwise asked Flask-Babel for the locale again, several context lookups
    apiece. In a template's context they shadow the globals of the same names; macros imported without
    context use the globals, which ask for the language themselves."""
    return {
        "drug_name": partial(drug_name, language=language),
        "drug_title": partial(drug_title, language=language),
        "icd10_name": partial(icd10_name, language=language),
        "rx_status_label": partial(prescription_labels.status, language=language),
        "rx_status": partial(prescription_labels.status_badge, language=language),
        "consultation_status_label": partial(consultation_labels.status, language=language),
        "finding_severity_label": partial(review_labels.severity, language=language),
        "lot_status_label": partial(stock_reasons.lot_status, language=language),
        "order_status_label": partial(order_labels.status, language=language),
    }


def init_app(app: Flask) -> None:
    app.add_template_filter(yuan, "yuan")
    app.add_template_filter(duration, "duration")
    for function in GLOBALS:
        app.add_template_global(function, function.__name__)
    # A global, not a context helper: macros imported without context (stock/_labels.html) see globals.
    app.add_template_global(stock_reasons.lot_status, "lot_status_label")
    app.add_template_global(prescription_labels.status, "rx_status_label")
    app.add_template_global(prescription_labels.status_badge, "rx_status")
    app.add_template_global(consultation_labels.status, "consultation_status_label")
    app.add_template_global(order_labels.status, "order_status_label")
    app.add_template_global(sms_labels.status, "sms_status_label")
    app.add_template_global(platform_labels.status, "platform_status_label")

    @app.context_processor
    def helpers() -> dict:
        return {
            **in_render_language(current_language()),
            **drug_labels.TEMPLATE_HELPERS,
            "sig_directions": directions.directions,
            "frequency_label": directions.frequency_label,
            "sig_supply": directions.supply,
            "sig_code": directions.code,
            "reason_label": review_reasons.label,
            "stock_reason": stock_reasons.label,
            "department_name": department_name,
            "city_name": city_name,
            "fulfilment_names": order_labels.FULFILMENTS,
            "delivery_status_names": delivery_labels.STATUSES,
            "delivery_step_names": delivery_labels.STEPS,
        }
