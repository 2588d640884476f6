"""Every template filter, global and helper the pages share, registered once on the app."""

from flask import Flask, url_for
from flask_login import current_user

from app.drugs import labels as drug_labels
from app.drugs.models import Drug
from app.i18n import current_language
from app.inventory import reasons as stock_reasons
from app.labels import city_name, department_name
from app.prescribing import directions
from app.review import reasons as review_reasons


def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals, e.g. 3000 → ¥30.00 (integer arithmetic, no floats)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def drug_name(drug: Drug) -> str:
    return drug.generic_name_zh if current_language() == "zh" else drug.generic_name_en


def upload_url(upload_id: int) -> str:
    """The patient record serves every upload after its own access check."""
    return url_for("patients.upload", upload_id=upload_id)


def queue_counts() -> dict[str, int]:
    """What waits for the signed-in user, for the badges in the navigation (called lazily)."""
    from app.main.queues import counts_for  # the queues read several features' tables

    return counts_for(current_user) if current_user.is_authenticated else {}


def init_app(app: Flask) -> None:
    app.add_template_filter(yuan, "yuan")
    app.add_template_filter(duration, "duration")
    app.add_template_global(upload_url, "upload_url")
    app.add_template_global(queue_counts, "queue_counts")
    # A global, not a context helper: macros imported without context (stock/_labels.html) see globals.
    app.add_template_global(stock_reasons.lot_status, "lot_status_label")

    @app.context_processor
    def helpers() -> dict:
        return {
            **drug_labels.TEMPLATE_HELPERS,
            "drug_name": drug_name,
            "sig_directions": directions.directions,
            "sig_supply": directions.supply,
            "sig_code": directions.code,
            "reason_label": review_reasons.label,
            "stock_reason": stock_reasons.label,
            "department_name": department_name,
            "city_name": city_name,
        }
