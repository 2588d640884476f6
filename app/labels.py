"""Names in both languages of the reference data admins type: clinical departments and cities.

Departments are a controlled list: the admin's staff form offers only these, and a doctor's profile
stores the English name (the value that was stored before the list existed, so the booking page's
department filter and existing rows keep working). Cities stay free text on a store (a store may be in
a city this list does not know, and delivery areas match on the text as typed); the list only gives a
known city's name in the reader's language. A value the list does not know is shown as it was typed:
no stored row needs rewriting, so there is no migration.
"""

from typing import NamedTuple

from app.i18n import current_language


class Name(NamedTuple):
    en: str
    zh: str


DEPARTMENTS = (
    Name("Cardiology", "心内科"),
    Name("Endocrinology", "内分泌科"),
    Name("Respiratory Medicine", "呼吸内科"),
    Name("Gastroenterology", "消化内科"),
    Name("Nephrology", "肾内科"),
    Name("Neurology", "神经内科"),
    Name("Rheumatology", "风湿免疫科"),
    Name("Haematology", "血液科"),
    Name("Oncology", "肿瘤科"),
    Name("Infectious Diseases", "感染科"),
    Name("Dermatology", "皮肤科"),
    Name("Psychiatry", "精神科"),
    Name("Geriatrics", "老年医学科"),
    Name("General Practice", "全科医学科"),
    Name("Paediatrics", "儿科"),
    Name("Obstetrics and Gynaecology", "妇产科"),
    Name("Urology", "泌尿外科"),
    Name("Orthopaedics", "骨科"),
    Name("Ophthalmology", "眼科"),
)

CITIES = (
    Name("Shanghai", "上海"),
    Name("Beijing", "北京"),
    Name("Guangzhou", "广州"),
    Name("Shenzhen", "深圳"),
    Name("Tianjin", "天津"),
    Name("Chongqing", "重庆"),
    Name("Hangzhou", "杭州"),
    Name("Nanjing", "南京"),
    Name("Suzhou", "苏州"),
    Name("Wuxi", "无锡"),
    Name("Ningbo", "宁波"),
    Name("Hefei", "合肥"),
    Name("Wuhan", "武汉"),
    Name("Changsha", "长沙"),
    Name("Zhengzhou", "郑州"),
    Name("Jinan", "济南"),
    Name("Qingdao", "青岛"),
    Name("Chengdu", "成都"),
    Name("Xi'an", "西安"),
    Name("Kunming", "昆明"),
    Name("Fuzhou", "福州"),
    Name("Xiamen", "厦门"),
    Name("Shenyang", "沈阳"),
    Name("Dalian", "大连"),
    Name("Harbin", "哈尔滨"),
)


def _key(text: str) -> str:
    # "上海市" and "shanghai " are Shanghai; the "city" suffix is not part of the name.
    text = " ".join(str(text).split()).casefold()
    return text.removesuffix("市") if len(text) > 2 else text


def _index(names: tuple[Name, ...]) -> dict[str, Name]:
    return {_key(text): name for name in names for text in name}


_DEPARTMENTS, _CITIES = _index(DEPARTMENTS), _index(CITIES)


def _in_language(found: Name | None, typed: str | None, language: str | None) -> str:
    if found is None:
        return typed or ""
    return found.zh if (language or current_language()) == "zh" else found.en


def department(value: str | None) -> Name | None:
    """The listed department a stored value names (in either language), or None."""
    return _DEPARTMENTS.get(_key(value)) if value else None


def department_name(value: str | None, language: str | None = None) -> str:
    """A doctor's department as the reader reads it; a value typed before the list, as typed."""
    return _in_language(department(value), value, language)


def city_name(value: str | None, language: str | None = None) -> str:
    """A city as the reader reads it; a city the list does not know, as typed."""
    return _in_language(_CITIES.get(_key(value)) if value else None, value, language)


# (a table's id, a language) → the table with its lazy names as text. The tables are module constants,
# so their ids stay theirs for the life of the process.
_TRANSLATED: dict[tuple[int, str], dict] = {}


def in_language(table: dict, language: str) -> dict:
    """`table` with every lazy name (a value, or the first item of a tuple value) as text in
    `language`, made once per process and language: lists print a state, a form or a unit on every
    row, and each lazy name went through Flask-Babel's context lookups again. Pass the language of the
    current locale, the catalogue str() translates with."""
    key = (id(table), language)
    translated = _TRANSLATED.get(key)
    if translated is None:
        translated = _TRANSLATED[key] = {code: _as_text(value) for code, value in table.items()}
    return translated


def _as_text(value):
    if isinstance(value, tuple):
        return (str(value[0]), *value[1:])
    return str(value)


def same_city(one: str | None, other: str | None) -> bool:
    """Whether two typed cities are the same place: "上海市", "Shanghai" and " shanghai" are; a city
    the list does not know matches what is typed the same way (case, spaces and the 市 suffix aside)."""
    if not one or not other:
        return False
    first, second = _key(one), _key(other)
    known = _CITIES.get(first)
    return (known is not None and known == _CITIES.get(second)) or first == second


def badge(names: dict, value, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour) of a state in `names` (state → (lazy name,
    colour)); an unknown state is shown as its code."""
    found = in_language(names, language or current_language()).get(value)
    return found if found is not None else (str(value), "secondary")
