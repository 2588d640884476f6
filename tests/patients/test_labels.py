"""What a Chinese reader sees for stored codes: allergy classes, severities and time zones."""

import re

import pytest
from flask import render_template_string

from app.accounts.models import User
from app.patients.models import Allergy, AllergyKind, Severity
from tests.patients.conftest import VALID_ID

ZONES_IN_USE = {
    "en": ["China Standard Time (Shanghai)", "Xinjiang Time (Urumqi)", "Hong Kong Time", "Macau Time",
           "Taipei Time", "Coordinated Universal Time (UTC)"],
    "zh": ["中国标准时间（上海）", "新疆时间（乌鲁木齐）", "香港时间", "澳门时间", "台北时间",
           "协调世界时（UTC）"],
}
GROUPS = {"en": ("Time zones in use", "Other time zones"), "zh": ("常用时区", "其他时区")}
NEW_YORK = {"en": "America/New_York · United States (New York) Time",
            "zh": "America/New_York · 美国（纽约）时间"}


def time_zone_select(page: str) -> str:
    return re.search(r'<select[^>]*id="time_zone".*?</select>', page, re.S).group()


def options(select: str) -> list[tuple[str, str]]:
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def profile_form(time_zone: str) -> dict:
    return dict(legal_name="Wang Fang", sex="female", date_of_birth="1970-03-14",
                id_document_number=VALID_ID, time_zone=time_zone)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_time_zone_list_starts_with_the_zones_in_use_named_in_the_readers_language(person, language):
    web, _patient = person("patient", language=language, locale=language)
    select = time_zone_select(web.page("/patients/profile"))
    listed = options(select)
    first = listed[:len(ZONES_IN_USE[language])]
    assert [label for _value, label in first] == ZONES_IN_USE[language]
    assert [value for value, _label in first] == ["Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong",
                                                  "Asia/Macau", "Asia/Taipei", "UTC"]
    in_use, others = GROUPS[language]
    assert select.index(f'label="{in_use}"') < select.index(f'label="{others}"')
    assert ("America/New_York", NEW_YORK[language]) in listed
    assert len(listed) > 300 and len({value for value, _label in listed}) == len(listed)  # each zone once
    assert 'value="Asia/Shanghai" selected' in select or 'selected value="Asia/Shanghai"' in select


@pytest.mark.parametrize(("typed", "saved"), [
    ("Asia/Urumqi", True),                       # a zone in use
    ("America/New_York", True),                  # one of the rest
    ("新疆时间（乌鲁木齐）", False),                # the label is not the value
    ("asia/urumqi", False),                      # zone ids are exact
])
def test_the_profile_stores_the_zone_id_and_shows_its_name(db, person, typed, saved):
    web, patient = person("patient", language="zh", locale="zh")
    page = web.post("/patients/profile", profile_form(typed), follow=True).get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(User, patient.id).time_zone
    if saved:
        assert stored == typed
        assert "个人信息已保存。" in page
        account = re.search(r'<section[^>]*id="account".*?</section>', page, re.S).group()
        assert ("新疆时间（乌鲁木齐）" if typed == "Asia/Urumqi" else "美国（纽约）时间") in account
    else:
        assert stored == "Asia/Shanghai"
        assert "请从列表中选择时区。" in page


def test_other_pages_name_a_patients_allergies_in_the_readers_language(app):
    statins = Allergy(kind=AllergyKind.CLASS, substance="statins", severity=Severity.SEVERE)
    typed = Allergy(kind=AllergyKind.DRUG, substance="阿莫西林", severity=Severity.MILD)
    template = ("{% for a in allergies %}{{ allergy_name(a) }} ({{ allergy_severity_name(a.severity) }})"
                "{% if not loop.last %}; {% endif %}{% endfor %}")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        shown = render_template_string(template, allergies=[statins, typed])
        assert shown == "他汀类 (重度); 阿莫西林 (轻度)"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        shown = render_template_string(template, allergies=[statins, typed])
        assert shown == "Statins (Severe); 阿莫西林 (Mild)"


def test_the_chinese_allergy_page_names_classes_and_severities_in_chinese(db, person):
    web, patient = person("patient", language="zh", locale="zh")
    db.session.add(Allergy(patient_id=patient.id, kind=AllergyKind.CLASS, substance="statins",
                           severity=Severity.ANAPHYLAXIS, recorded_by_id=patient.id))
    db.session.commit()
    page = web.page("/patients/allergies")
    listed = re.search(r'<ul class="list-group mb-4">.*?</ul>', page, re.S).group()
    assert "他汀类" in listed and "statins" not in listed.lower().replace('value="', "")
    assert "Anaphylaxis" not in listed
