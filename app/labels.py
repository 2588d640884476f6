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


def badge(names: dict, value) -> tuple[str, str]:
    """(name in the reader's language, badge colour) of a state in `names` (state → (lazy name,
    colour)), built once per module rather than per row; an unknown state is shown as its code."""
    name, colour = names.get(value, (value, "secondary"))
    return str(name), colour
