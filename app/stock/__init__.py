"""Store stock pages: stock lists, lot ledgers, receiving, counts and write-offs, expiry reports."""

from flask import Blueprint

from app.inventory import reasons

bp = Blueprint("stock", __name__, url_prefix="/stock")


@bp.context_processor
def stock_helpers() -> dict:
    # Only the stock pages read ledger notes; the shared helpers live in app.templating.
    return {"stock_note": reasons.note}


# Globals, not context helpers: the macros of stock/_labels.html are imported without context.
bp.add_app_template_global(reasons.movement_kind, "movement_kind_label")
bp.add_app_template_global(reasons.reference_type, "reference_type_label")
bp.add_app_template_global(reasons.transfer_status, "transfer_status_label")


from app.stock import transfer_views, views  # noqa: E402,F401
