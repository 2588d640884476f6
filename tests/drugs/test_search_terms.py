"""Drug search as pharmacists and doctors type: pinyin initials, name + strength, other common names of a
product (co-trimoxazole, SMX-TMP, 复方新诺明) and "A/B" combinations; the initials kept current."""

import csv
import time

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.drugs import search_names, services
from app.drugs.catalogue import row_of
from app.drugs.initials import name_initials
from app.drugs.models import Drug
from tests.consultations.conftest import as_user, flow  # noqa: F401  (fixtures)
from tests.drugs.conftest import csv_text, drug_row
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import catalogue_drugs, draft, visit  # noqa: F401  (fixtures)
from tests.query_budget import count_statements

SMX_TMP = "SMZ-TMP-400-80MG-TAB"
AMLODIPINE = "AMLODIPINE-5MG-TAB"


def found(db, query: str, **filters) -> set[str]:
    return {drug.code for drug in db.session.scalars(services.search(query, **filters))}


def wrong(db, cases: dict[str, set[str]]) -> dict[str, set[str]]:
    """The queries that found something other than expected, with what they found (one catalogue load
    serves the whole table)."""
    return {query: got for query, expected in cases.items() if (got := found(db, query)) != expected}


@pytest.fixture
def amlodipine_10(make_drug):
    """A second strength of amlodipine next to the shipped 5 mg tablet."""
    return make_drug(code="TEST-AMLODIPINE-10MG", strength="10", max_daily_dose="10")


# Pinyin initials.

INITIALS = {
    "aldp": {AMLODIPINE},             # 氨氯地平; not 左氨氯地平 (zaldp), whose spelling starts otherwise
    "ALDP": {AMLODIPINE},
    "ald": {AMLODIPINE},              # the start of the spelling is enough
    "ａｌｄｐ": {AMLODIPINE},           # full-width letters from a Chinese keyboard
    "zaldp": {"LEVAMLODIPINE-2.5MG-TAB"},
    "atftt": {"ATORVASTATIN-20MG-TAB"},  # 阿托伐他汀
    "ejsg": {"METFORMIN-500MG-TAB", "METFORMIN-500MG-SRTAB"},  # 二甲双胍
    "ejsh": {"METFORMIN-500MG-TAB", "METFORMIN-500MG-SRTAB"},  # 胍 has other readings too (hù)
    "xqzw": set(),
    "aldpx": set(),
    "ldp": set(),                      # inside a spelling, not at its start
}


def test_pinyin_initials_of_the_chinese_name(db, catalogue):
    assert wrong(db, INITIALS) == {}


def test_initials_of_a_salt_name_and_a_second_reading(db, catalogue, make_drug):
    calcium = make_drug(code="TEST-ATORVASTATIN-CA-10MG", generic_name_en="Atorvastatin calcium",
                        generic_name_zh="阿托伐他汀钙", ingredients_en="atorvastatin",
                        ingredients_zh="阿托伐他汀", atc_code="C10AA05", strength="10", max_daily_dose="80")
    assert calcium.name_initials.split()[0] == "atfttg"
    assert found(db, "atfttg") == {calcium.code}
    assert found(db, "atftt") == {calcium.code, "ATORVASTATIN-20MG-TAB"}
    assert found(db, "etfttg") == {calcium.code}  # 阿 also read ē: kept as a second spelling


# Keeping the initials current.

def test_every_shipped_drug_has_its_initials(db, catalogue):
    drugs = db.session.scalars(select(Drug)).all()
    assert drugs and all(drug.name_initials == name_initials(drug.generic_name_zh) for drug in drugs)
    assert all(drug.name_initials for drug in drugs)


def test_the_form_sets_and_updates_the_initials(db, make_drug):
    drug = make_drug()
    assert drug.name_initials == "aldp"
    changed = services.update_drug(drug, {**row_of(drug), "generic_name_zh": "左氨氯地平"})
    db.session.commit()
    assert changed == ["generic_name_zh", "name_initials"]
    assert drug.name_initials == "zaldp"
    assert found(db, "zaldp") == {drug.code} and found(db, "aldp") == set()
    assert services.update_drug(drug, row_of(drug)) == []


def test_an_import_sets_renames_and_repairs_the_initials(db):
    services.load_csv_text(csv_text([drug_row(code="TEST-IMPORT-1")]))
    db.session.commit()
    drug = db.session.scalar(select(Drug).where(Drug.code == "TEST-IMPORT-1"))
    assert drug.name_initials == "aldp"

    summary = services.load_csv_text(csv_text([drug_row(code="TEST-IMPORT-1", generic_name_zh="二甲双胍")]))
    assert summary.updated == ["TEST-IMPORT-1"] and drug.name_initials == name_initials("二甲双胍") != ""

    drug.name_initials = ""  # stale, e.g. written by something other than the catalogue verbs
    db.session.commit()
    summary = services.load_csv_text(csv_text([drug_row(code="TEST-IMPORT-1", generic_name_zh="二甲双胍")]))
    assert summary.updated == ["TEST-IMPORT-1"] and drug.name_initials == name_initials("二甲双胍")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "drug.updated")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.detail == "source=import; fields=name_initials"
    again = services.load_csv_text(csv_text([drug_row(code="TEST-IMPORT-1", generic_name_zh="二甲双胍")]))
    assert not again.changed


def test_loading_the_shipped_catalogue_twice_changes_nothing(db, catalogue):
    assert not services.load_shipped_catalogue().changed


# Name + strength.

FIVE_MG = ["amlodipine 5", "amlodipine 5mg", "amlodipine 5 mg", "Amlodipine 5 MG", "氨氯地平 5", "氨氯地平5",
           "氨氯地平 5mg", "氨氯地平5毫克", "aldp 5", "amlodipine 0.005 g", "amlodipine 5000 µg",
           "amlodipine 5000 mcg", "amlodipine ５", "Norvasc 5", "C08CA01 5", "amlodipine 5.0"]


def test_name_and_strength_find_only_that_strength(db, catalogue, amlodipine_10):
    assert found(db, "amlodipine") == {AMLODIPINE, "LEVAMLODIPINE-2.5MG-TAB", amlodipine_10.code}
    assert wrong(db, {query: {AMLODIPINE} for query in FIVE_MG}) == {}


OTHER_STRENGTHS = {
    "amlodipine 10": {"TEST-AMLODIPINE-10MG"},
    "amlodipine 10 mg": {"TEST-AMLODIPINE-10MG"},
    "amlodipine 2.5": {"LEVAMLODIPINE-2.5MG-TAB"},  # levamlodipine is found by "amlodipine" too
    "amlodipine 7": set(),
    "amlodipine 5 g": set(),
    "amlodipine 5 IU": set(),
    "amlodipine 5 tablets": set(),  # not a unit: the whole text is a name, and no name has it
    "amlodipine 0": set(),
}


def test_another_strength_or_unit_finds_another_product_or_none(db, catalogue, amlodipine_10):
    assert wrong(db, OTHER_STRENGTHS) == {}


METFORMIN = {"METFORMIN-500MG-TAB", "METFORMIN-500MG-SRTAB"}
CONVERTED = {
    "metformin 0.5 g": METFORMIN,
    "metformin 0.5g": METFORMIN,
    "二甲双胍 0.5克": METFORMIN,
    "metformin 500": METFORMIN,
    "metformin 0.5": set(),  # no unit: the number in the drug's own unit (mg)
    "salbutamol 100": {"SALBUTAMOL-100UG-INH"},
    "salbutamol 100 ug": {"SALBUTAMOL-100UG-INH"},
    "salbutamol 0.1 mg": {"SALBUTAMOL-100UG-INH"},
    "insulin glargine 300 IU": {"INSULIN-GLARGINE-300IU-PEN"},
    "fentanyl 25 µg": {"FENTANYL-25UGH-PATCH"},  # 25 µg/h
    "fentanyl 25 µg/h": {"FENTANYL-25UGH-PATCH"},
}


def test_a_unit_is_converted_to_the_drugs_own(db, catalogue):
    assert wrong(db, CONVERTED) == {}


IMPOSSIBLE = ["1e999999", "9" * 90, "1" + "0" * 30, "0.00000000001", "1.2.3", "-5", "١٢", "5e3", "NaN",
              "Infinity"]


def test_a_strength_no_product_can_have_finds_nothing_quickly(db, catalogue):
    for number in IMPOSSIBLE:
        start = time.perf_counter()
        queries = [f"amlodipine {number}", f"amlodipine {number} mg", f"amlodipine {number} g"]
        assert wrong(db, {query: set() for query in queries}) == {}
        assert time.perf_counter() - start < 1, number


def test_a_name_ending_in_digits_is_still_a_name(db, catalogue, make_drug):
    b12 = make_drug(code="TEST-B12", generic_name_en="Vitamin B12", generic_name_zh="维生素B12",
                    ingredients_en="cyanocobalamin", ingredients_zh="氰钴胺", atc_code="B03BA01",
                    strength="25", strength_unit="µg", max_daily_dose="", max_daily_dose_unit="")
    assert b12.name_initials == "wssb12"
    assert found(db, "维生素B12") == {b12.code}
    assert found(db, "vitamin b12") == {b12.code}
    assert found(db, "维生素B12 25") == {b12.code}
    assert found(db, "wssb12") == {b12.code}


def test_filters_and_the_active_flag_still_apply(db, catalogue, amlodipine_10):
    services.set_active(amlodipine_10, False)
    db.session.commit()
    assert found(db, "amlodipine 10") == set()
    assert found(db, "amlodipine 10", active=None) == {amlodipine_10.code}
    assert found(db, "amlodipine 10", active=False) == {amlodipine_10.code}
    assert found(db, "aldp", cold_chain=True) == set()
    assert found(db, "co-trimoxazole", not_deliverable=True) == set()


# Other common names and combinations.

def _listed() -> list[tuple[str, str]]:
    with search_names.DATA_FILE.open(encoding="utf-8", newline="") as file:
        return [(row["name"], row["target_code_or_ingredients"]) for row in csv.DictReader(file)]


def test_the_search_names_file_reads_cleanly():
    rows = _listed()
    assert rows and len(search_names.search_names()) == len({search_names.normalise(n) for n, _t in rows})
    assert all(search_names.normalise(name) for name, _target in rows)


def test_every_listed_name_finds_its_product(db, catalogue):
    """Generated over app/drugs/data/search_names.csv: each name, as listed and in capitals, finds every
    product with exactly the listed ingredients (or the listed code); reference entries too, on the
    catalogue pages that list inactive drugs."""
    products = {drug.code: frozenset(i.name for i in drug.ingredients)
                for drug in db.session.scalars(select(Drug))}
    misses = []
    for name, target_text in _listed():
        target = search_names.parse_target(target_text)
        wanted = ({target.code} if target.code else
                  {code for code, ingredients in products.items() if ingredients == target.ingredients})
        for query in (name, name.upper()):
            if not wanted or not wanted <= found(db, query, active=None):
                misses.append(f"{query} → {target_text}")
    assert misses == []


CO_TRIMOXAZOLE = [
    "co-trimoxazole", "Co-Trimoxazole", "cotrimoxazole", "sulfamethoxazole-trimethoprim",
    "sulfamethoxazole/trimethoprim", "trimethoprim/sulfamethoxazole", "sulfamethoxazole + trimethoprim",
    "SMX-TMP", "SMX/TMP", "smx / tmp", "TMP-SMX", "复方新诺明", "复方磺胺甲噁唑", "磺胺甲噁唑/甲氧苄啶",
    "co-trim",  # the start of a listed name
    "co-trimoxazole 400", "SMX-TMP 400 mg", "复方新诺明 0.4g",
]


def test_co_trimoxazole_by_any_of_its_names(db, catalogue):
    assert wrong(db, {query: {SMX_TMP} for query in CO_TRIMOXAZOLE}) == {}


AUGMENTIN, KALETRA = {"AMOXICILLIN-CLAVULANATE-500-125MG-TAB"}, {"LOPINAVIR-RITONAVIR-200-50MG-TAB"}
OTHER_NAMES = {
    "co-amoxiclav": AUGMENTIN,
    "amoxicillin-clavulanate": AUGMENTIN,
    "阿莫西林克拉维酸": AUGMENTIN,
    "Augmentin": AUGMENTIN,
    "lopinavir/ritonavir": KALETRA,
    "克力芝": KALETRA,
    "LPV/r": KALETRA,
    "沙库巴曲 + 缬沙坦": {"SACUBITRIL-VALSARTAN-100MG-TAB"},
    "valsartan/sacubitril": {"SACUBITRIL-VALSARTAN-100MG-TAB"},
    "B/F/TAF": {"BICTEGRAVIR-FTC-TAF-TAB"},
    "emtricitabine/bictegravir": {"BICTEGRAVIR-FTC-TAF-TAB"},
    "acetaminophen": {"PARACETAMOL-500MG-TAB"},
    "acetaminophen 500 mg": {"PARACETAMOL-500MG-TAB"},
    "albuterol": {"SALBUTAMOL-100UG-INH"},
    "smx/amoxicillin": set(),  # a part that is no ingredient
    "amoxicillin/trimethoprim": set(),  # two ingredients no one product has
}


def test_other_names_and_ingredient_pairs(db, catalogue):
    assert wrong(db, OTHER_NAMES) == {}


def test_an_ingredient_set_target_finds_a_new_product_of_that_combination(db, catalogue, make_drug):
    generic = make_drug(code="TEST-SMX-TMP-800-160", generic_name_en="Sulfamethoxazole/trimethoprim",
                        generic_name_zh="复方磺胺甲噁唑", brand_name="",
                        ingredients_en="sulfamethoxazole; trimethoprim",
                        ingredients_zh="磺胺甲噁唑; 甲氧苄啶", atc_code="J01EE01", strength="800",
                        max_daily_dose="3200", is_antimicrobial="yes")
    assert found(db, "Bactrim") == {SMX_TMP, generic.code}
    assert found(db, "SMX-TMP 800") == {generic.code}


def test_wildcards_in_the_query_are_taken_literally(db, catalogue):
    assert found(db, "100%") == set()
    assert found(db, "a_d_") == set()
    assert found(db, "%/%") == set()
    assert found(db, "__") == set()


def test_the_search_is_one_statement(db, catalogue):
    for query in ("co-trimoxazole 400 mg", "aldp 5", "sulfamethoxazole/trimethoprim"):
        db.session.expunge_all()
        with count_statements(db) as ran:
            assert [d.code for d in db.session.scalars(services.search(query))] in ([SMX_TMP], [AMLODIPINE])
        assert [sql for sql in ran.statements if sql.startswith("SELECT")] == ran.statements[-1:], str(ran)


# Through the pages.

def test_the_catalogue_page_and_typeahead_find_by_initials_and_strength(client, login_as, catalogue,
                                                                        amlodipine_10):
    login_as("pharmacist")
    page = client.get("/drugs/", query_string={"q": "aldp 10"}).get_data(as_text=True)
    assert "1 drug found." in page and f"/drugs/{amlodipine_10.id}\"" in page
    results = client.get("/drugs/search.json", query_string={"q": "SMX-TMP"}).get_json()["results"]
    assert [r["code"] for r in results] == [SMX_TMP]
    start = time.perf_counter()
    response = client.get("/drugs/search.json", query_string={"q": "amlodipine 1e999999"})
    assert response.status_code == 200 and response.get_json() == {"results": []}
    assert time.perf_counter() - start < 1


def test_the_prescribing_picker_finds_a_drug_by_initials(visit, draft, as_user):  # noqa: F811
    doctor = as_user(visit.doctor)
    amlodipine = visit.drugs[AMLODIPINE]
    response = doctor.post(f"/prescriptions/{draft.id}/items",
                           data={"query": "aldp", "search": "Search", "dose": "", "duration_days": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'value="{amlodipine.id}"' in page and "Amlodipine 5 mg" in page
    assert f'value="{visit.drugs["NIFEDIPINE-30MG-CRTAB"].id}"' not in page
    typeahead = doctor.get("/drugs/search.json", query_string={"q": "ALDP 5"}).get_json()["results"]
    assert [r["code"] for r in typeahead] == [AMLODIPINE]
