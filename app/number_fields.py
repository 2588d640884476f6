"""The bounded number parser for the web: a form field, a query-string reader, the URL id converter."""

from flask import request
from flask_babel import gettext
from werkzeug.routing import IntegerConverter
from wtforms import StringField
from wtforms.widgets import NumberInput

from app import numbers
from app.limits import MAX_ID, Bound


def coerce_id(value) -> int | None:
    """Coerce a submitted id for a choice field; None for anything else, so the service answers.

    Bounded (app.numbers): int() would take "١٢" and ids the database cannot compare with.
    """
    return numbers.id_or_none(value)


def message(error: numbers.NumberError) -> str:
    """The refusal in the reader's language."""
    return gettext(error.message, **error.params)


def arg_int(name: str, bound: Bound, default=None):
    """A whole number from the query string; `default` when it is missing or refused (a filter the
    page then does not apply, as for any other value it does not understand)."""
    value = request.args.get(name)
    if value is None:
        return default
    found = numbers.int_or_none(value, bound)
    return default if found is None else found


class WholeNumberField(StringField):
    """A number input read by app.numbers.parse_int within `bound`; the refusal is the field's error.

    Replaces IntegerField, whose int() takes "١٢", "1_000" and a number of any size.
    """

    widget = NumberInput()

    def __init__(self, label=None, validators=None, *, bound: Bound, **kwargs):
        self.bound = bound
        render_kw = {"min": str(bound.low), "max": str(bound.high), "step": "1",
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        # One value only: a repeated key is not a list of numbers.
        text = valuelist[0] if valuelist else ""
        if not str(text).strip():
            self.data = None
            return
        try:
            self.data = numbers.parse_int(text, self.bound)
        except numbers.NumberError as error:
            self.data = None
            raise ValueError(message(error)) from None

    def _value(self):
        if self.raw_data:  # shown again as typed, but never 100,000 characters of it
            return str(self.raw_data[0])[:64]
        return "" if self.data is None else str(self.data)


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits up to the largest id a column holds, else 404.

    Werkzeug's own matches any Unicode digit and any size, which the database then refuses with an error.
    """

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
