"""Twilio's webhooks: a patient's reply (answered with TwiML) and a message's delivery status.

Both are signed by Twilio with the account's auth token over the public URL and the form fields; a
request whose X-Twilio-Signature does not match is refused with 403 and changes nothing.
"""

import logging

from flask import Response, abort, request

from app.extensions import csrf, db, limiter
from app.integrations import sms
from app.notifications.services import apply_status_callback
from app.policy import public
from app.sms import bp, inbound

log = logging.getLogger(__name__)


def _require_signature() -> None:
    if not sms.signature_is_valid(request.full_path.rstrip("?"), request.form,
                                  request.headers.get("X-Twilio-Signature", "")):
        log.warning("Twilio webhook %s with a bad signature from %s", request.path, request.remote_addr)
        abort(403)


@bp.route("/inbound", methods=["POST"])
@csrf.exempt  # Twilio signs the request instead
@limiter.exempt
@public
def inbound_message():
    _require_signature()
    reply = inbound.handle(request.form.get("From", ""), request.form.get("Body", ""))
    db.session.commit()
    return Response(sms.twiml(reply), mimetype="application/xml")


@bp.route("/status", methods=["POST"])
@csrf.exempt
@limiter.exempt
@public
def status_callback():
    _require_signature()
    error_code = request.form.get("ErrorCode", "")
    found = apply_status_callback(request.form.get("MessageSid", ""), request.form.get("MessageStatus", ""),
                                  int(error_code) if error_code.isascii() and error_code.isdigit() else None)
    db.session.commit()
    if not found:
        log.warning("status callback for unknown message %s", request.form.get("MessageSid", ""))
    return Response(status=204)
