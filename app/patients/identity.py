"""Identity details of the profile: ID numbers (check digit, masking) and the time zone with its names."""

import re
import zoneinfo
from datetime import date, datetime
from functools import lru_cache

from babel.dates import get_timezone_location
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from app.errors import DomainError


def age_on(born: date, today: date) -> int:
    """Whole years of age on `today` (a birthday on 29 February counts from 1 March in other years)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# The zones the chain's patients and stores live in: first in every list, under the names people use.
ZONES_IN_USE = {
    "Asia/Shanghai": _l("China Standard Time (Shanghai)"),
    "Asia/Urumqi": _l("Xinjiang Time (Urumqi)"),
    "Asia/Hong_Kong": _l("Hong Kong Time"),
    "Asia/Macau": _l("Macau Time"),
    "Asia/Taipei": _l("Taipei Time"),
    "UTC": _l("Coordinated Universal Time (UTC)"),
}
BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
ZONE_REGIONS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
ID_DOCUMENT = re.compile(r"^[A-Z0-9]{5,40}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Geographic IANA zones (no legacy aliases such as 'PRC' or 'Etc/GMT+8'), plus UTC."""
    zones = {z for z in zoneinfo.available_timezones() if z.split("/")[0] in ZONE_REGIONS}
    return ("UTC", *sorted(zones))


@lru_cache(maxsize=4)
def _other_zone_labels(language: str) -> dict[str, str]:
    """Every other zone as 'America/New_York · United States (New York) Time', in the reader's language
    (CLDR's names, via Babel); computed once per language, sorted by zone id so regions stay together."""
    locale = BABEL_LOCALES.get(language, "en")
    return {zone: f"{zone} · {get_timezone_location(zone, locale=locale)}"
            for zone in time_zones() if zone not in ZONES_IN_USE}


def time_zone_name(zone: str | None, language: str) -> str:
    """What a page shows for a stored zone id; an id the list does not know is shown as stored."""
    if zone in ZONES_IN_USE:
        return str(ZONES_IN_USE[zone])
    return _other_zone_labels(language).get(zone, zone or "")


def time_zone_choices(language: str) -> list[SelectChoice]:
    """The select's options: the zones in use first, then the rest; the submitted value is the zone id."""
    in_use, others = _("Time zones in use"), _("Other time zones")
    return ([SelectChoice(zone, str(label), optgroup=in_use) for zone, label in ZONES_IN_USE.items()]
            + [SelectChoice(zone, label, optgroup=others)
               for zone, label in _other_zone_labels(language).items()])


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
