"""Domain errors with reasons per field, and the HTML/JSON error pages."""

import logging
import math

from flask import Flask, flash, g, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. `reasons` maps form field names (or "" for the form) to messages."""

    def __init__(self, reasons: dict[str, str] | str):
        if not isinstance(reasons, dict):  # a plain or lazily translated message
            reasons = {"": reasons}
        self.reasons = reasons
        super().__init__("; ".join(str(m) for m in reasons.values()))

    def apply_to(self, form) -> None:
        """Put each reason on its form field; form-wide reasons go to flash()."""
        for field_name, message in self.reasons.items():
            field = getattr(form, field_name, None) if field_name else None
            if field is not None:
                field.errors = [*field.errors, str(message)]
            else:
                flash(str(message), "danger")


class InvalidTransition(DomainError):
    """A status change that the state table does not allow."""


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check and try again.")),
    403: (_l("Access denied"), _l("Your account does not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist.")),
    405: (_l("Not allowed"), _l("This action is not allowed here.")),
    413: (_l("File too large"), _l("The file you sent is larger than allowed.")),
    429: (
        _l("Too many attempts"),
        _l("You have tried too many times. Please wait and try again later."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was saved. Please try again later."),
    ),
}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def wait_message(seconds: int) -> str:
    """'Please wait 15 minutes' from the limit that was hit, rounded up to whole minutes."""
    minutes = max(math.ceil(seconds / 60), 1)
    return ngettext(
        "You have tried too many times. Please wait %(num)d minute and try again.",
        "You have tried too many times. Please wait %(num)d minutes and try again.",
        minutes,
    )


def error_response(code: int, message: str | None = None):
    title, default_message = ERROR_TEXT.get(code, ERROR_TEXT[500])
    message = message or default_message
    if wants_json():
        return jsonify(error=str(title), message=str(message)), code
    template = f"errors/{code}.html" if code in (400, 403, 404, 429, 500) else "errors/generic.html"
    return render_template(template, code=code, title=title, message=message), code


def audit_refusal(code: int) -> None:
    """One audit row when a signed-in user is refused a page or an object (403/404 on a route of the
    app), so probing other patients' ids leaves a trace. Unknown URLs and missing static files are
    not probes of anyone's record and are not written."""
    if code not in (403, 404) or request.url_rule is None or request.endpoint == "static":
        return
    if not current_user.is_authenticated:
        return
    # Imported here, not at the top: app.audit loads its views, which load modules importing this one.
    from app.audit.services import record

    ids = [str(value) for value in (request.view_args or {}).values()]
    try:
        record("access.refused", object_type=(request.endpoint or "")[:60],
               object_id=",".join(ids)[:60] or None, patient=g.get("refused_patient_id"),
               detail=f"{code} {request.method} {request.path}")
        db.session.commit()
    except Exception:  # an audit failure must not turn a refusal into a 500
        db.session.rollback()
        log.exception("could not audit a refused request to %s", request.path)


def register_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        db.session.rollback()
        # An expired or tampered form: send the user back to a fresh copy of it.
        if wants_json():
            return error_response(400)
        flash(_("This form has expired or was not valid. Please try again."), "warning")
        rule = request.url_rule
        target = request.url if rule is not None and "GET" in rule.methods else url_for("main.index")
        return redirect(target, code=303)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        message = None
        if isinstance(error, RateLimitExceeded):
            message = wait_message(error.limit.limit.get_expiry())
        audit_refusal(error.code or 500)
        response = make_response(error_response(error.code or 500, message))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # HTTP requires a 405 to list the methods the URL does accept.
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
