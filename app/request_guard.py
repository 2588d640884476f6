"""What every request must look like before a view sees it: bounded ids in URLs, forms not JSON, no NUL."""

from flask import Flask, Request, abort, request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items

from app.number_fields import IdConverter

# Views that read a JSON body themselves (the signed webhook reads the raw bytes).
JSON_ENDPOINTS = frozenset({"payments.stripe_webhook"})


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanMultiDict(ImmutableMultiDict):
    """request.args / form / files without NUL characters: no one types one, and PostgreSQL refuses to
    store or even compare text holding one, so whichever column it reached would end in a server error."""

    def __init__(self, mapping=None):
        super().__init__([(_without_nul(key), _without_nul(value))
                          for key, value in iter_multi_items(mapping or ())])


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict


def refuse_json_where_a_form_is_expected():
    # Flask-WTF takes a JSON body as the form's data when no form fields came: an array, a number or a
    # list where a text is expected crashes the form instead of failing its validation.
    if request.is_json and request.endpoint not in JSON_ENDPOINTS and request.method not in ("GET", "HEAD"):
        abort(400)


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered: the id converter applies to rules as they are added."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = CleanRequest
    app.before_request(refuse_json_where_a_form_is_expected)
