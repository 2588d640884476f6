"""The prescription rules both prescribing and the automatic checks apply: plain values, no Flask."""

# Kept free of Flask and the database so the checks engine (pure functions) and the prescribing
# services can both import it without importing each other.

from datetime import date, timedelta
from enum import StrEnum


class SupplyCategory(StrEnum):
    NORMAL = "normal"  # up to 7 days
    CHRONIC = "chronic"  # up to 4 weeks, with a stated reason
    LONG = "long"  # up to 12 weeks: doctor's assessment and patient's confirmation


# 处方管理办法 art. 6: at most 5 drugs on one prescription.
MAX_ITEMS = 5
SUPPLY_LIMIT_DAYS = {SupplyCategory.NORMAL: 7, SupplyCategory.CHRONIC: 28, SupplyCategory.LONG: 84}
# 处方管理办法 art. 18: valid on the day written; extended, at most 3 days in all.
MAX_VALID_DAYS = 3
# Controlled classes (app.drugs.models.ControlledClass values) a long prescription may never carry,
# besides antimicrobials and cold-chain drugs (长期处方管理规范).
NEVER_LONG = frozenset({"narcotic", "psychotropic_1", "psychotropic_2", "toxic", "radioactive", "precursor"})


def supply_last_day(first_day: date, days_supply: int) -> date:
    """The last day a supply is taken: N days' supply begun on day D lasts through D + N − 1 (the first
    day counts). The checks, the pages that list what a patient takes now and the refill offer all
    count a supply with this one rule."""
    return first_day + timedelta(days=days_supply - 1)
