"""Pure stock rules shared by receiving, transfers and availability: no Flask, no database."""

import re
from decimal import Decimal

# Cold-chain medicines are received, stored and moved at 2–8 °C.
COLD_CHAIN_MIN_C = Decimal("2")
COLD_CHAIN_MAX_C = Decimal("8")

# A lot expiring within this many days stays where it is: it is the sender's near-expiry stock
# (on its near-expiry report), not something another store should receive and try to sell.
TRANSFER_MIN_SHELF_DAYS = 30
# Planning margin for a transfer between two stores: picked, shipped and received within this many days.
TRANSFER_TRANSIT_DAYS = 3

# The lot_number columns are String(40).
LOT_NUMBER_MAX = 40
_SPACES = re.compile(r"\s+")


def normal_lot_number(value) -> str:
    """A lot number as the chain stores and searches it: trimmed, upper-case, inner runs of white space
    as one space. Labels print "sh01-0107", "SH01-0107 " and "SH01  0107" for the same manufacturer's
    lot; typed any way, it must find (and recall) the one lot."""
    return _SPACES.sub(" ", str(value or "")).strip().upper()


def within_cold_chain(reading: Decimal) -> bool:
    return COLD_CHAIN_MIN_C <= reading <= COLD_CHAIN_MAX_C
