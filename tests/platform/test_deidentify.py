"""The de-identifier's rules, pure: birth year with ages from 90 pooled, provinces only from the fixed
list, and the linkage token as the platform computes it from the same ID number and birth date."""

import hashlib
import hmac
from datetime import date

import pytest

from app.platform import deidentify

KEY = "shared-linkage-key"


@pytest.mark.parametrize(("born", "on", "expected"), [
    (date(1936, 12, 1), date(2026, 11, 30), "1936"),  # 89, the day before turning 90
    (date(1936, 12, 1), date(2026, 12, 1), "90+"),  # 90 on the day
    (date(1936, 12, 1), date(2026, 12, 2), "90+"),
    (date(1937, 1, 1), date(2026, 12, 31), "1937"),  # 89 all year
    (date(1936, 2, 29), date(2026, 2, 28), "1936"),  # leap-day birthday: still 89 on 28 February
    (date(1936, 2, 29), date(2026, 3, 1), "90+"),
    (date(2020, 6, 1), date(2026, 11, 30), "2020"),
])
def test_the_birth_year_is_kept_below_ninety_and_pooled_from_ninety(born, on, expected):
    assert deidentify.birth_year(born, on) == expected


def test_no_birth_date_gives_no_year():
    assert deidentify.birth_year(None, date(2026, 1, 1)) is None


@pytest.mark.parametrize(("typed", "code"), [
    ("Zhejiang", "33"), ("浙江省", "33"), ("浙江", "33"), (" zhejiang province ", "33"),
    ("ＺＨＥＪＩＡＮＧ", "33"), ("上海市", "31"), ("Shanghai", "31"), ("广西壮族自治区", "45"),
    ("Inner Mongolia", "15"), ("新疆维吾尔自治区", "65"), ("香港特别行政区", "81"), ("Macau", "82"),
    ("inner   mongolia\tautonomous region", "15"), ("Hong\u3000Kong  SAR", "81"),
])
def test_a_typed_province_becomes_its_division_code(typed, code):
    assert deidentify.province_code(typed) == code


@pytest.mark.parametrize("typed", ["Hangzhou", "17 Plum Blossom Road", "浙江省杭州市西湖区", "", None,
                                   "Zhejiang 310000"])
def test_anything_else_typed_as_a_province_is_left_out(typed):
    assert deidentify.province_code(typed) is None


def _expected(number: str, born: date) -> str:
    return hmac.new(KEY.encode(), f"{number}|{born.isoformat()}".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("typed", ["11010519491231002X", "11010519491231002x", "110105 19491231 002X",
                                   "110105-19491231-002X", "１１０１０５１９４９１２３１００２Ｘ"])
def test_the_linkage_token_is_the_keyed_hash_of_the_normalised_number_and_birth_date(typed):
    born = date(1949, 12, 31)
    assert deidentify.linkage_token(KEY, typed, born) == _expected("11010519491231002X", born)


def test_the_linkage_token_changes_with_the_key_the_birth_date_and_the_number():
    born = date(1949, 12, 31)
    token = deidentify.linkage_token(KEY, "11010519491231002X", born)
    assert deidentify.linkage_token("another-key", "11010519491231002X", born) != token
    assert deidentify.linkage_token(KEY, "11010519491231002X", date(1949, 12, 30)) != token
    assert deidentify.linkage_token(KEY, "110105194912310038", born) != token


@pytest.mark.parametrize(("key", "number", "born"), [
    ("", "11010519491231002X", date(1949, 12, 31)), (KEY, None, date(1949, 12, 31)),
    (KEY, "", date(1949, 1, 1)), (KEY, "  ", date(1949, 1, 1)), (KEY, "11010519491231002X", None)])
def test_no_linkage_token_without_a_key_a_number_or_a_birth_date(key, number, born):
    assert deidentify.linkage_token(key, number, born) is None


def test_the_facts_keep_only_what_is_allowed_and_link_only_with_consent():
    common = dict(research_token="t" * 32, sex="female", date_of_birth=date(1949, 12, 31), province="浙江省",
                  on=date(2026, 12, 1), linkage_key=KEY, id_number="11010519491231002X")
    linked = deidentify.patient_facts(**common, links=True)
    assert linked == deidentify.PatientFacts("t" * 32, "female", "1949", "33",
                                             _expected("11010519491231002X", date(1949, 12, 31)))
    assert deidentify.patient_facts(**common, links=False).linkage_token is None
    assert deidentify.patient_facts(**{**common, "sex": "unknown"}, links=False).sex is None


def test_without_consent_or_without_the_shared_key_no_linkage_token_leaves():
    common = dict(research_token="t" * 32, sex=None, date_of_birth=date(1949, 12, 31), province=None,
                  on=date(2026, 12, 1), id_number="11010519491231002X")
    # Consent is not assumed: the key and the ID number alone make no token.
    assert deidentify.patient_facts(**common, linkage_key=KEY).linkage_token is None
    # Consent without the key shared with the platform makes none either.
    assert deidentify.patient_facts(**common, links=True).linkage_token is None
    expected = deidentify.PatientFacts("t" * 32, None, "1949", None, None)
    assert deidentify.patient_facts(**common, links=True) == expected
