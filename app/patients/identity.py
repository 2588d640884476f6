"""Identity details of the profile: ID numbers (check digit, masking) and the patient's time zone."""

import re
import zoneinfo
from datetime import date, datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from app.errors import DomainError

ZONE_REGIONS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
ID_DOCUMENT = re.compile(r"^[A-Z0-9]{5,40}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Geographic IANA zones (no legacy aliases such as 'PRC' or 'Etc/GMT+8'), plus UTC."""
    zones = {z for z in zoneinfo.available_timezones() if z.split("/")[0] in ZONE_REGIONS}
    return ("UTC", *sorted(zones))


def today_for(user) -> date:
    """The calendar date where the patient lives: Shanghai is already 'tomorrow' for 8 hours of UTC."""
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    return datetime.now(zone).date()


def mask_id_number(value: str | None) -> str:
    """'110105194912310021' → '110***********0021'; short numbers keep only their last 2 characters."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * (len(value) - 2) + value[-2:]
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _resident_id_valid(number: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def normalise_id_number(raw: str | None) -> str | None:
    number = re.sub(r"[\s-]", "", raw or "").upper()
    if not number:
        return None
    if not ID_DOCUMENT.match(number):
        raise DomainError({"id_document_number": _l(
            "Enter the ID number with letters and digits only (5 to 40 characters).")})
    # 18 characters of digits (last may be X) is a mainland resident ID card: its check digit must match.
    if RESIDENT_ID.match(number) and not _resident_id_valid(number):
        raise DomainError({"id_document_number": _l(
            "This resident ID card number is not valid. Please check it.")})
    return number
