"""The largest and smallest numbers any form, query string, CSV row or JSON body may carry."""

# Each bound is what a pharmacy chain could ever need, with room to spare, and far inside the column
# that stores it: a value outside is a typing slip or an attack, refused with a message naming the
# range. Pure data (no Flask imports) so forms, services and tests share the same numbers.

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Bound:
    """An inclusive range and how many decimal places a value may have (0: whole numbers)."""

    low: int | Decimal
    high: int | Decimal
    places: int = 0

    @property
    def max_length(self) -> int:
        """Characters a well-formed value can need: sign, digits, point, decimals, a few spare zeros."""
        digits = max(len(str(abs(int(self.low)))), len(str(abs(int(self.high)))))
        return 1 + digits + (1 + self.places if self.places else 0) + 4


# Ids: every primary key is a 32-bit INTEGER column; PostgreSQL refuses a larger parameter.
MAX_ID = 2**31 - 1
ID = Bound(1, MAX_ID)

# Stock, counted in whole packs: one receipt, transfer, write-off, adjustment or reorder level
# (app.inventory.inputs and reorder word their own messages around it).
MAX_PACKS = 100_000
DAYS_SUPPLY = Bound(0, 366)  # days an order's packs are reserved for
TEMPERATURE_C = Bound(Decimal(-50), Decimal(60), places=6)  # a reading on arrival, kept to 0.1 °C
NEAR_EXPIRY_DAYS = Bound(1, 3_650)  # the stock pages' "expiring within" filter

# Money in fen (1 yuan = 100 fen).
MAX_FEN = 100_000_000  # ¥1,000,000 for one pack (also a lot's unit cost)
PRICE_FEN = Bound(1, MAX_FEN)
PRICE_YUAN = Bound(Decimal("0.01"), Decimal(MAX_FEN) / 100, places=2)

# Catalogue: strength and maximum daily dose (NUMERIC(12, 4)); packs hold whole units.
STRENGTH = Bound(Decimal("0.0001"), Decimal(10_000_000), places=4)
PACK_SIZE = Bound(1, 10_000)

# Prescribing: a dose fits NUMERIC(12, 4); its largest single amount depends on the unit: a hundred
# grams of a powder, ten million µg or IU, a litre of a solution, a handful of tablets, puffs or patches.
DOSE = Bound(Decimal("0.0001"), Decimal(10_000_000), places=4)
MAX_DOSE_BY_UNIT = {
    "mg": Decimal(100_000),
    "µg": Decimal(10_000_000),
    "g": Decimal(100),
    "IU": Decimal(10_000_000),
    "mL": Decimal(1_000),
    "tablet": Decimal(20),
    "capsule": Decimal(20),
    "dose": Decimal(20),
    "patch": Decimal(10),
}
DURATION_DAYS = Bound(1, 84)  # the longest supply the rules allow (a 12-week long prescription)
DOSES_PER_DAY = Bound(1, 24)  # "at most … a day" of an as-needed line
MAX_PACKS_PER_LINE = 1_000  # what one prescription line may come to

# Lists.
PAGE = Bound(1, 100_000)
# A work queue shows its oldest this many entries and counts the rest: nobody works past the top of
# a queue, and a page that lists every waiting entry grows with the chain. Twenty fill a phone screen
# a few times over; fifty cost the doctor's queue page four times its budget of CPU.
QUEUE_SHOWN = 20
# Date filters on lists: a day outside is taken as the nearest end (the calendar's first and last days
# have no day before or after them); every event falls between.
FILTER_DAYS = (date(1900, 1, 1), date(2999, 12, 31))
