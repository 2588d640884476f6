"""The Stripe webhook: verified, recorded once, applied; anything else is refused with 400."""

import logging

from flask import jsonify, request

from app.extensions import csrf, db, limiter
from app.integrations.stripe_gateway import BadSignature, MalformedEvent, gateway
from app.payments import bp
from app.payments.services import handle_event
from app.policy import public

log = logging.getLogger(__name__)


@bp.route("/webhooks/stripe", methods=["POST"])
@csrf.exempt  # Stripe signs the body instead; see parse_event
@limiter.exempt
@public
def stripe_webhook():
    try:
        event = gateway().parse_event(request.get_data(), request.headers.get("Stripe-Signature", ""))
    except BadSignature:
        log.warning("Stripe webhook with a bad signature from %s", request.remote_addr)
        return jsonify(error="invalid signature"), 400
    except MalformedEvent as error:
        # Signed with our secret yet not an event: answer so Stripe (or whoever) sees it was refused.
        log.warning("signed Stripe webhook that is not an event: %s", error)
        return jsonify(error="malformed event"), 400
    outcome = handle_event(event)
    db.session.commit()
    return jsonify(received=True, outcome=outcome)
