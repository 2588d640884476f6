"""Reason codes for stock adjustments, write-offs and lot status changes (the codes are stored)."""

from flask_babel import lazy_gettext as _l

# A count or a correction: the ledger moves the lot to what is really on the shelf.
ADJUSTMENT_REASONS = {
    "count": _l("Stock count difference"),
    "receiving_error": _l("Receiving error corrected"),
    "found": _l("Stock found"),
    "other": _l("Other (explain in the note)"),
}

# Stock that leaves the shelf for good and is destroyed or returned to the supplier.
WRITE_OFF_REASONS = {
    "damaged": _l("Damaged"),
    "expired": _l("Expired"),
    "temperature_excursion": _l("Temperature excursion"),
    "recalled": _l("Recalled"),
    "lost": _l("Lost or stolen"),
    "other": _l("Other (explain in the note)"),
}

# Why an order gave reserved stock back (optional on a release).
RELEASE_REASONS = {
    "cancelled": _l("Order cancelled"),
    "reservation_expired": _l("Reservation expired"),
    "lot_unusable": _l("Lot can no longer be dispensed"),
    "other": _l("Other (explain in the note)"),
}

# Why a lot's status changed; written by the services themselves, not chosen by a user.
STATUS_REASONS = {
    "temperature_excursion": _l("Temperature excursion"),
    "expired": _l("Expired"),
    "recalled": _l("Recalled"),
}


def label(code: str | None) -> str:
    for table in (ADJUSTMENT_REASONS, WRITE_OFF_REASONS, RELEASE_REASONS, STATUS_REASONS):
        if code in table:
            return str(table[code])
    return code or ""
