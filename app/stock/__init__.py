"""Store stock pages: stock lists, lot ledgers, receiving, counts and write-offs, expiry reports."""

from flask import Blueprint

from app.inventory import reasons

bp = Blueprint("stock", __name__, url_prefix="/stock")


@bp.context_processor
def stock_helpers() -> dict:
    # Only the stock pages read ledger notes; the shared helpers live in app.templating.
    return {"stock_note": reasons.note}


from app.stock import transfer_views, views  # noqa: E402,F401
