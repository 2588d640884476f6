"""Keyset pagination: a page of rows after a cursor holding the last shown row's sort key and id."""

# Why keyset and not OFFSET: OFFSET reads and throws away every earlier row, so page 500 of the audit
# trail costs 500 pages; a cursor seeks straight to the next row through the sort's index. The cursor
# is opaque to users but not secret: it only narrows a query the view has already limited to what the
# user may see, so a crafted cursor can skip rows, never reveal other ones. Anything that does not
# decode to the expected key (garbage, a key of another page, an id out of range) is the first page.

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import literal, tuple_

from app.extensions import db
from app.limits import MAX_ID

MAX_CURSOR_LENGTH = 600  # a few keys of bounded size, base64-encoded
MAX_TEXT_KEY = 200  # a sort key that is text (a drug's name): longer than any stored one


@dataclass(frozen=True)
class Sort:
    """The columns a list is ordered by, the last one unique (an id); `kinds` says how each travels
    in a cursor (int, str, date or datetime); every column runs in the same direction."""

    columns: Sequence
    kinds: Sequence[type]
    descending: bool = False


@dataclass
class Page:
    """The rows shown, and the cursor of the page after them (None on the last page)."""

    rows: list
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def encode(values: Sequence) -> str:
    plain = [value.isoformat() if isinstance(value, date) else value for value in values]
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _value(raw, kind: type):
    """One decoded key, or a ValueError when it is not a well-formed value of `kind`."""
    if kind is int:
        if type(raw) is not int or not -MAX_ID <= raw <= MAX_ID:
            raise ValueError
        return raw
    if not isinstance(raw, str) or len(raw) > MAX_TEXT_KEY:
        raise ValueError
    if kind is str:
        return raw
    if kind is datetime:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError  # every stored time is aware UTC
        return moment
    if kind is date:
        return date.fromisoformat(raw)
    raise TypeError(f"no cursor form for {kind!r}")


def decode(cursor: str | None, kinds: Sequence[type]) -> list | None:
    """The key values in `cursor`, or None for a missing or malformed one (the first page)."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(raw, list) or len(raw) != len(kinds):
            return None
        return [_value(value, kind) for value, kind in zip(raw, kinds, strict=True)]
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        return None


def paginate(statement, sort: Sort, *, after: str | None, size: int,
             key: Callable[[object], Sequence], entities: bool = True, params: dict | None = None) -> Page:
    """Run `statement` (filtered, with its eager loads) for the `size` rows after the cursor in `sort`
    order. One query: it fetches size + 1 rows, and the extra one only says whether a next page exists.
    `key(row)` gives a row's values of the sort's columns, for the next page's cursor. `entities=False`
    for a statement of several columns: the page holds its rows rather than their first column; `params`
    fill a prebuilt statement's bound parameters."""
    order = [column.desc() if sort.descending else column for column in sort.columns]
    statement = statement.order_by(None).order_by(*order)
    if (values := decode(after, sort.kinds)) is not None:
        seek = tuple_(*sort.columns)
        bound = tuple_(*[literal(value, type_=column.type)
                         for value, column in zip(values, sort.columns, strict=True)])
        statement = statement.where(seek < bound if sort.descending else seek > bound)
    result = db.session.execute(statement.limit(size + 1), params)
    rows = list(result.scalars() if entities else result)
    shown = rows[:size]
    return Page(shown, encode(key(shown[-1])) if len(rows) > size else None)
