"""De-identification for the data platform: pure functions, no database and no Flask.

Every field that leaves is chosen here from an allow-list: a random research token instead of the
patient, the birth year (ages over 89 pooled as "90+"), sex, the province from a fixed list (a typed
address never leaves), and, only with the linkage consent, a keyed hash for joining hospital records.
"""

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Ages from 90 up are one group: a single birth year of a very old patient can point at a person
# (HIPAA Safe Harbor pools them the same way).
TOP_CODED_AGE = 90
TOP_CODED = "90+"

# The province-level divisions (GB/T 2260 codes), by every name a patient may type for them. The
# platform gets the code and English name; anything typed that is not one of these is left out.
PROVINCES = {
    "11": ("Beijing", "北京"), "12": ("Tianjin", "天津"), "13": ("Hebei", "河北"), "14": ("Shanxi", "山西"),
    "15": ("Inner Mongolia", "内蒙古"), "21": ("Liaoning", "辽宁"), "22": ("Jilin", "吉林"),
    "23": ("Heilongjiang", "黑龙江"), "31": ("Shanghai", "上海"), "32": ("Jiangsu", "江苏"),
    "33": ("Zhejiang", "浙江"), "34": ("Anhui", "安徽"), "35": ("Fujian", "福建"), "36": ("Jiangxi", "江西"),
    "37": ("Shandong", "山东"), "41": ("Henan", "河南"), "42": ("Hubei", "湖北"), "43": ("Hunan", "湖南"),
    "44": ("Guangdong", "广东"), "45": ("Guangxi", "广西"), "46": ("Hainan", "海南"),
    "50": ("Chongqing", "重庆"), "51": ("Sichuan", "四川"), "52": ("Guizhou", "贵州"),
    "53": ("Yunnan", "云南"), "54": ("Tibet", "西藏"), "61": ("Shaanxi", "陕西"), "62": ("Gansu", "甘肃"),
    "63": ("Qinghai", "青海"), "64": ("Ningxia", "宁夏"), "65": ("Xinjiang", "新疆"),
    "71": ("Taiwan", "台湾"), "81": ("Hong Kong", "香港"), "82": ("Macao", "澳门"),
}
# What a typed province may end with beyond its name ("浙江省", "Zhejiang Province", "广西壮族自治区").
_PROVINCE_SUFFIXES = re.compile(r"(province|municipality|autonomous region|sar|省|市"
                                r"|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_BY_NAME = {alias.casefold(): code for code, names in PROVINCES.items() for alias in names}
_BY_NAME.update({"xizang": "54", "macau": "82", "nei mongol": "15"})

SEXES = {"female": "female", "male": "male", "other": "other"}


def birth_year(date_of_birth: date | None, on: date) -> str | None:
    """The birth year as text, or "90+" for a patient 90 or older on `on` (the event's date)."""
    if date_of_birth is None:
        return None
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return TOP_CODED if age >= TOP_CODED_AGE else f"{date_of_birth.year:04d}"


def province_code(typed: str | None) -> str | None:
    """The GB/T 2260 code of a typed province name, or None when it is not one."""
    if not typed:
        return None
    text = unicodedata.normalize("NFKC", typed).strip().casefold()
    text = re.sub(r"\s+", " ", text)
    return _BY_NAME.get(_PROVINCE_SUFFIXES.sub("", text).strip())  # no name itself ends with a suffix


def normalise_id_number(number: str) -> str:
    """The form both sides hash: full-width folded, spaces and dashes out, the check letter upper-case."""
    folded = unicodedata.normalize("NFKC", number)
    return re.sub(r"[\s\-]", "", folded).upper()


def linkage_token(key: str, id_number: str | None, date_of_birth: date | None) -> str | None:
    """HMAC-SHA256 of the normalised ID number and the birth date under the key shared with the platform.

    The platform computes the same from the hospital's own records to join them; without the key the
    token cannot be recomputed from a guessed ID number. None when either value or the key is missing.
    """
    if not key or not id_number or date_of_birth is None:
        return None
    normalised = normalise_id_number(id_number)
    if not normalised:
        return None
    message = f"{normalised}|{date_of_birth.isoformat()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PatientFacts:
    """What the platform may know about a patient, already de-identified."""

    research_token: str
    sex: str | None  # female | male | other
    birth_year: str | None  # "1958" or "90+"
    province: str | None  # GB/T 2260 code
    linkage_token: str | None  # only with the linkage consent


def patient_facts(*, research_token: str, sex: str | None, date_of_birth: date | None, province: str | None,
                  on: date, linkage_key: str = "", id_number: str | None = None,
                  links: bool = False) -> PatientFacts:
    """Reduce a patient's profile to the allowed facts; the identifying inputs go no further."""
    return PatientFacts(
        research_token=research_token,
        sex=SEXES.get(str(sex)),  # None ("None") and anything unknown are left out
        birth_year=birth_year(date_of_birth, on),
        province=province_code(province),
        linkage_token=linkage_token(linkage_key, id_number, date_of_birth) if links else None,
    )
