"""The data platform: de-identified FHIR events pushed from the outbox, and operations' view of the push."""

from flask import Blueprint

bp = Blueprint("platform", __name__, url_prefix="/platform")
# The pages are imported by create_app, not here: orders, deliveries and consents write this package's
# events, and importing them must not pull in the pages (and through them every other feature).
