"""Domain errors with reasons per field, and the HTML/JSON error pages."""

import logging

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. `reasons` maps form field names (or "" for the form) to messages."""

    def __init__(self, reasons: dict[str, str] | str):
        if isinstance(reasons, str):
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
        _l("You have tried too many times. Please wait a minute and try again."),
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


def error_response(code: int):
    title, message = ERROR_TEXT.get(code, ERROR_TEXT[500])
    if wants_json():
        return jsonify(error=str(title), message=str(message)), code
    template = f"errors/{code}.html" if code in (400, 403, 404, 429, 500) else "errors/generic.html"
    return render_template(template, code=code, title=title, message=message), code


def register_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        db.session.rollback()
        # An expired or tampered form: send the user back to a fresh copy of it.
        if wants_json():
            return error_response(400)
        flash(_l("This form has expired or was not valid. Please try again."), "warning")
        rule = request.url_rule
        target = request.url if rule is not None and "GET" in rule.methods else url_for("main.index")
        return redirect(target, code=303)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        return error_response(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
