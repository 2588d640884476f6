"""The one parser for numbers from outside: length and shape checked before any arithmetic, then range."""

# int(Decimal("1e999999")) builds a million-digit integer (a minute of CPU) and Decimal.quantize on it
# raises; int("١٢") is 12 and int("1_000") is 1000. So nothing from a form, a query string, a CSV row
# or a JSON body reaches int()/Decimal() until it is short, plain ASCII digits with an optional sign
# and decimal point (no exponent), and the value is then checked against its field's Bound.

import math
import re
from decimal import Decimal

from app.limits import ID, Bound

# Full-width forms typed by a Chinese input method in full-width mode mean the ASCII ones.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,")
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", re.ASCII)


def N_(text: str) -> str:
    """Marks a message for translation; it is translated where it is shown (app.number_fields)."""
    return text


NOT_WHOLE = N_("Enter a whole number using the digits 0–9.")
NOT_DECIMAL = N_("Enter a number using the digits 0–9 and a decimal point, e.g. 2.5.")
OUT_OF_RANGE = N_("Enter a number from %(low)s to %(high)s.")
TOO_PRECISE = N_("Too many digits after the decimal point (at most %(places)s).")


# What was wrong, for callers that word their own message: not a plain number at all, below the
# bound, above it, or more decimals than the field keeps.
SHAPE, TOO_SMALL, TOO_LARGE, PLACES = "shape", "too_small", "too_large", "places"


class NumberError(ValueError):
    """A refused number: `message` is an untranslated text with %(name)s placeholders for `params`."""

    def __init__(self, kind: str, message: str, **params):
        self.kind, self.message, self.params = kind, message, params
        super().__init__(message % params if params else message)


def _plain(value: Decimal) -> str:
    """A bound as people write it: 100000, 0.01, -50 (never 1E+5)."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def _out_of_range(bound: Bound, kind: str) -> NumberError:
    return NumberError(kind, OUT_OF_RANGE, low=_plain(bound.low), high=_plain(bound.high))


def _shape(bound: Bound) -> NumberError:
    return NumberError(SHAPE, NOT_DECIMAL if bound.places else NOT_WHOLE)


def _text(value, bound: Bound, grouping: bool) -> str:
    text = str(value)
    # Length first, so a 100,000-character value costs nothing more; spaces at the ends are forgiven.
    if len(text) > bound.max_length + 16:
        raise _too_long(text, bound)
    text = text.strip().translate(_FULL_WIDTH)
    if grouping and _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if len(text) > bound.max_length:
        raise _too_long(text, bound)
    return text


def _too_long(text: str, bound: Bound) -> NumberError:
    """Many digits are a number too large (or too small); anything else is not a number."""
    head = text.strip()[:64].translate(_FULL_WIDTH)
    if not _DECIMAL.fullmatch(head):
        return _shape(bound)
    return _out_of_range(bound, TOO_SMALL if head.startswith("-") else TOO_LARGE)


def _checked(number: Decimal, bound: Bound) -> Decimal:
    # Comparisons stay cheap whatever the exponent; only then is quantize/int() safe.
    if number.is_nan():
        raise _shape(bound)
    if number < bound.low:
        raise _out_of_range(bound, TOO_SMALL)
    if number > bound.high:
        raise _out_of_range(bound, TOO_LARGE)
    if number != number.quantize(Decimal(1).scaleb(-bound.places)):
        if bound.places == 0:
            raise NumberError(PLACES, NOT_WHOLE)
        raise NumberError(PLACES, TOO_PRECISE, places=bound.places)
    return number


def parse_decimal(value, bound: Bound, *, grouping: bool = False) -> Decimal:
    """A Decimal within `bound` with at most `bound.places` decimals; NumberError otherwise.

    `grouping` accepts thousands separators (1,234.50), for money typed as it is printed.
    """
    if isinstance(value, bool) or value is None:
        raise _shape(bound)
    if isinstance(value, int):
        return _checked(Decimal(value), bound)
    if isinstance(value, float):
        return _checked(Decimal(repr(value)) if math.isfinite(value) else Decimal(value), bound)
    if isinstance(value, Decimal):
        return _checked(value, bound)
    text = _text(value, bound, grouping)
    if not _DECIMAL.fullmatch(text):
        raise _shape(bound)
    return _checked(Decimal(text), bound)


def parse_int(value, bound: Bound) -> int:
    """An int within `bound`; '5', 5 and Decimal('5.0') are 5; '5.5', '1e3', '²' and '١' are refused."""
    if isinstance(value, bool) or value is None:
        raise NumberError(SHAPE, NOT_WHOLE)
    if isinstance(value, int):
        return int(_checked(Decimal(value), bound))
    if isinstance(value, str):
        text = _text(value, bound, grouping=False)
        if _INTEGER.fullmatch(text):
            return int(_checked(Decimal(int(text)), bound))  # at most max_length ASCII digits: cheap
        value = text
    whole = Bound(bound.low, bound.high, places=0)
    return int(parse_decimal(value, whole))


def int_or_none(value, bound: Bound) -> int | None:
    """parse_int, or None for anything refused (a filter that is simply not applied)."""
    try:
        return parse_int(value, bound)
    except NumberError:
        return None


def parse_decimal_or_none(value, bound: Bound) -> Decimal | None:
    """parse_decimal, or None for anything refused (the caller words its own message)."""
    try:
        return parse_decimal(value, bound)
    except NumberError:
        return None


def id_or_none(value) -> int | None:
    """A row id from outside, or None: ids beyond the INTEGER column would make the database raise."""
    return int_or_none(value, ID)
