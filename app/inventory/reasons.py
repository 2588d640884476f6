"""Stock reason codes (stored as codes) and the system's own ledger notes, in the reader's language."""

import re

from flask_babel import lazy_gettext as _l

from app.labels import badge

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

# A pharmacist's decision on a quarantined lot (app.inventory.quarantine), with their reason in the note.
ASSESSMENT_REASONS = {
    "quarantine_released": _l("Released after assessment"),
    "quarantine_rejected": _l("Rejected after assessment"),
}


# Written by the services only: packs a pharmacist took back from a patient's order (app.orders.returns).
RETURN_REASONS = {
    "returned": _l("Taken back from a patient's order"),
}


def label(code: str | None) -> str:
    for table in (ADJUSTMENT_REASONS, WRITE_OFF_REASONS, RELEASE_REASONS, STATUS_REASONS, ASSESSMENT_REASONS,
                  RETURN_REASONS):
        if code in table:
            return str(table[code])
    return code or ""


# Notes the services write themselves (always in these English shapes, rows old and new), read back in
# the reader's language. A person's own words on any other row are shown as typed.
SYSTEM_NOTES = {
    "temperature_excursion": [
        (re.compile(r"(-?\d+(?:\.\d+)?) °C on arrival"), _l("%(temperature)s °C on arrival")),
        (re.compile(r"(-?\d+(?:\.\d+)?) °C on receipt of transfer (\d+)"),
         _l("%(temperature)s °C on receipt of transfer %(transfer)s")),
    ],
    "expired": [(re.compile(r"expiry date (\d{4}-\d{2}-\d{2})"), _l("Expiry date %(date)s"))],
}
_FIELDS = {"temperature_excursion": ("temperature", "transfer"), "expired": ("date",)}


def note(kind: str | None, code: str | None, text: str | None) -> str:
    """A ledger row's note in the reader's language when the system wrote it, else as typed."""
    text = text or ""
    if kind != "status_change":  # system notes are only written on status changes
        return text
    for pattern, message in SYSTEM_NOTES.get(code or "", ()):
        found = pattern.fullmatch(text)
        if found:
            return str(message) % dict(zip(_FIELDS[code], found.groups(), strict=False))
    return text


# A lot's state as a badge: its name and the badge colour. Built once at import (lazy strings are
# translated when shown), not per row: the store page shows hundreds of lots.
LOT_STATUSES = {
    "available": (_l("Available"), "success"),
    "quarantined": (_l("Quarantined"), "warning"),
    "recalled": (_l("Recalled"), "danger"),
    "expired": (_l("Expired"), "secondary"),
}


def lot_status(status, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown state is shown as its code."""
    return badge(LOT_STATUSES, status, language)


# The ledger's movement kinds, the objects a movement refers to and a transfer's states, named once at
# import (lazy strings) for the lot and transfer pages, not as a dict of translations per macro call.
MOVEMENT_KINDS = {
    "receipt": _l("Goods received"), "reservation": _l("Reserved"), "release": _l("Released"),
    "dispense": _l("Dispensed"), "transfer_out": _l("Transferred out"), "transfer_in": _l("Transferred in"),
    "adjustment": _l("Adjustment"), "write_off": _l("Write-off"), "status_change": _l("Status change"),
}
REFERENCE_TYPES = {"order": _l("Order"), "transfer": _l("Transfer"), "recall": _l("Recall")}
TRANSFER_STATUSES = {
    "requested": (_l("Requested"), "info"), "picked": (_l("Picked"), "info"),
    "shipped": (_l("In transit"), "primary"), "received": (_l("Received"), "success"),
    "lost": (_l("Lost"), "danger"), "cancelled": (_l("Cancelled"), "secondary"),
}


def movement_kind(kind) -> str:
    """A ledger row's kind in the reader's language; an unknown kind is shown as its code."""
    return str(MOVEMENT_KINDS.get(kind, kind))


def reference_type(kind) -> str:
    return str(REFERENCE_TYPES.get(kind, kind))


def transfer_status(status) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown state is shown as its code."""
    name, colour = TRANSFER_STATUSES.get(status, (status, "secondary"))
    return str(name), colour
