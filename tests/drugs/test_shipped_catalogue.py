"""The shipped catalogue loads cleanly and carries the facts the prescribing checks depend on."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.drugs import catalogue as fmt
from app.drugs import services
from app.drugs.models import ControlledClass, Drug, DrugIngredient

# Generic name → WHO ATC code, checked against the WHO ATC index (see app/drugs/data/README.md).
KEY_ATC_CODES = {
    "Amlodipine": "C08CA01", "Metformin": "A10BA02", "Capecitabine": "L01BC06", "Imatinib": "L01EA01",
    "Gefitinib": "L01EB01", "Erlotinib": "L01EB02", "Osimertinib": "L01EB04", "Icotinib": "L01EB08",
    "Tamoxifen": "L02BA01", "Letrozole": "L02BG04", "Anastrozole": "L02BG03",
    "Abiraterone acetate": "L02BX03", "Enzalutamide": "L02BB04", "Olaparib": "L01XK01",
    "Palbociclib": "L01EF01", "Lenalidomide": "L04AX04", "Trastuzumab": "L01FD01", "Warfarin": "B01AA03",
    "Clopidogrel": "B01AC04", "Simvastatin": "C10AA01", "Atorvastatin": "C10AA05",
    "Rosuvastatin": "C10AA07", "Clarithromycin": "J01FA09", "Sildenafil": "G04BE03",
    "Isosorbide mononitrate": "C01DA14", "Paroxetine": "N06AB05", "Omeprazole": "A02BC01",
    "Phenelzine": "N06AF03", "Morphine sulfate": "N02AA01", "Oxycodone": "N02AA05", "Diazepam": "N05BA01",
    "Zolpidem": "N05CF02", "Sacubitril/valsartan": "C09DX04", "Tofacitinib": "L04AF01",
    "Leflunomide": "L04AK01", "Methadone": "N07BC02", "Fentanyl": "N02AB03", "Alprazolam": "N05BA12",
}
CHINESE_NAMES = {
    "Amlodipine": "氨氯地平", "Metformin": "二甲双胍", "Methotrexate": "甲氨蝶呤", "Capecitabine": "卡培他滨",
    "Imatinib": "伊马替尼", "Gefitinib": "吉非替尼", "Erlotinib": "厄洛替尼", "Osimertinib": "奥希替尼",
    "Tamoxifen": "他莫昔芬", "Warfarin": "华法林", "Clopidogrel": "氯吡格雷", "Sertraline": "舍曲林",
}
# Every drug the product needs by name: chronic disease, oral oncology and what interacts with them.
REQUIRED_INGREDIENTS = (
    "amlodipine", "nifedipine", "valsartan", "losartan", "irbesartan", "telmisartan", "olmesartan",
    "enalapril", "benazepril", "perindopril", "metoprolol", "bisoprolol", "hydrochlorothiazide",
    "indapamide", "spironolactone", "metformin", "gliclazide", "glimepiride", "acarbose", "sitagliptin",
    "linagliptin", "dapagliflozin", "empagliflozin", "pioglitazone", "insulin glargine", "insulin aspart",
    "insulin detemir", "liraglutide", "semaglutide", "dulaglutide", "atorvastatin", "rosuvastatin",
    "simvastatin", "pravastatin", "ezetimibe", "fenofibrate", "evolocumab", "warfarin", "rivaroxaban",
    "apixaban", "dabigatran", "aspirin", "clopidogrel", "ticagrelor", "sacubitril", "digoxin", "furosemide",
    "torasemide", "ivabradine", "isosorbide mononitrate", "isosorbide dinitrate", "nitroglycerin",
    "levothyroxine", "methimazole", "propylthiouracil", "valproate", "levetiracetam", "lamotrigine",
    "carbamazepine", "oxcarbazepine", "phenytoin", "tiotropium", "salmeterol", "fluticasone", "budesonide",
    "formoterol", "montelukast", "theophylline", "entecavir", "tenofovir disoproxil",
    "tenofovir alafenamide", "dolutegravir", "efavirenz", "lamivudine", "bictegravir", "emtricitabine",
    "atazanavir", "ritonavir", "lopinavir", "methotrexate", "hydroxychloroquine", "leflunomide",
    "sulfasalazine", "tofacitinib", "adalimumab", "sertraline", "escitalopram", "citalopram", "paroxetine",
    "fluoxetine", "fluvoxamine", "venlafaxine", "duloxetine", "mirtazapine", "bupropion", "allopurinol",
    "febuxostat", "colchicine", "benzbromarone", "capecitabine", "imatinib", "gefitinib", "erlotinib",
    "icotinib", "osimertinib", "afatinib", "tamoxifen", "letrozole", "anastrozole", "exemestane",
    "abiraterone", "enzalutamide", "bicalutamide", "olaparib", "palbociclib", "lenalidomide", "thalidomide",
    "temozolomide", "sorafenib", "lenvatinib", "apatinib", "anlotinib", "everolimus", "trastuzumab",
    "bevacizumab", "pembrolizumab", "leuprorelin", "goserelin", "procarbazine", "irinotecan",
    "mercaptopurine", "azathioprine", "clarithromycin", "erythromycin", "azithromycin", "ketoconazole",
    "itraconazole", "fluconazole", "voriconazole", "posaconazole", "rifampicin", "omeprazole",
    "esomeprazole", "pantoprazole", "lansoprazole", "ibuprofen", "naproxen", "diclofenac", "celecoxib",
    "ciprofloxacin", "levofloxacin", "moxifloxacin", "sildenafil", "tadalafil", "vardenafil", "phenelzine",
    "tranylcypromine", "isocarboxazid", "selegiline", "rasagiline", "linezolid", "sumatriptan",
    "rizatriptan", "zolmitriptan", "tizanidine", "sulfamethoxazole", "trimethoprim", "amiodarone",
    "dronedarone", "verapamil", "diltiazem", "quinidine", "sotalol", "dofetilide", "haloperidol",
    "thioridazine", "pimozide", "ziprasidone", "methadone", "ondansetron", "domperidone", "ergotamine",
    "ramelteon", "lithium", "tramadol", "morphine", "oxycodone", "fentanyl", "diazepam", "alprazolam",
    "zolpidem",
)
CONTROLLED = {
    "morphine": ControlledClass.NARCOTIC, "oxycodone": ControlledClass.NARCOTIC,
    "fentanyl": ControlledClass.NARCOTIC, "methadone": ControlledClass.NARCOTIC,
    "diazepam": ControlledClass.PSYCHOTROPIC_2, "alprazolam": ControlledClass.PSYCHOTROPIC_2,
    "zolpidem": ControlledClass.PSYCHOTROPIC_2, "tramadol": ControlledClass.PSYCHOTROPIC_2,
}
NOT_FOR_DELIVERY = ["warfarin", "dabigatran", "ticagrelor", "digoxin", "amiodarone", "carbamazepine",
                    "lithium", "itraconazole", "voriconazole", "posaconazole", "linezolid"]


@pytest.fixture(scope="module")
def rows(app):
    """The shipped file parsed exactly as the loader parses it: (values, errors) per line."""
    with app.app_context():
        header, raw_rows = fmt.read_csv(services.SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
        assert fmt.check_header(header) == []
        return {line: fmt.parse_row(raw) for line, raw in raw_rows}


@pytest.fixture(scope="module")
def drugs(rows):
    assert {line: errors for line, (_, errors) in rows.items() if errors} == {}
    return [values for values, _ in rows.values()]


def by_ingredient(drugs, name: str) -> list[dict]:
    found = [d for d in drugs if name in {en for en, _zh in d["ingredients"]}]
    assert found, f"no drug with {name}"  # an empty list would make all() below pass vacuously
    return found


def test_every_row_of_the_shipped_file_is_valid_and_there_are_enough_active_drugs(drugs):
    active = [d for d in drugs if d["is_active"]]
    assert len(active) >= 150
    assert len({d["code"] for d in drugs}) == len(drugs)


@pytest.mark.parametrize(("name", "atc"), sorted(KEY_ATC_CODES.items()))
def test_key_drugs_carry_their_who_atc_code(drugs, name, atc):
    assert {d["atc_code"] for d in drugs if d["generic_name_en"] == name} == {atc}


def test_methotrexate_is_classified_by_use_and_the_arthritis_tablet_is_weekly_only(drugs):
    methotrexate = {d["atc_code"]: d for d in by_ingredient(drugs, "methotrexate")}
    assert set(methotrexate) == {"L04AX03", "L01BA01"}
    tablet = methotrexate["L04AX03"]
    assert (tablet["strength"], tablet["dosage_form"]) == (Decimal("2.5"), "tablet")
    assert tablet["is_weekly_only"] is True
    assert methotrexate["L01BA01"]["is_weekly_only"] is False


@pytest.mark.parametrize(("name", "chinese"), sorted(CHINESE_NAMES.items()))
def test_chinese_generic_names_are_the_standard_ones(drugs, name, chinese):
    assert {d["generic_name_zh"] for d in drugs if d["generic_name_en"] == name} == {chinese}


def test_every_drug_the_product_needs_is_in_the_catalogue(drugs):
    present = {en for d in drugs for en, _zh in d["ingredients"]}
    missing = [name for name in REQUIRED_INGREDIENTS if name not in present]
    assert missing == []


def test_controlled_drugs_are_never_prescribable_online_nor_delivered(drugs):
    for name, controlled_class in CONTROLLED.items():
        [drug] = by_ingredient(drugs, name)
        assert drug["controlled_class"] == controlled_class, name
    for drug in drugs:
        if drug["controlled_class"] != ControlledClass.NONE:
            assert not drug["is_online_prescribable"] and not drug["is_deliverable"], drug["code"]
        else:
            assert drug["is_online_prescribable"], drug["code"]


@pytest.mark.parametrize("name", NOT_FOR_DELIVERY)
def test_drugs_on_the_national_list_are_pickup_only(drugs, name):
    found = by_ingredient(drugs, name)
    assert found and all(not d["is_deliverable"] and d["is_online_prescribable"] for d in found)


def test_injectables_are_pickup_only_except_glucose_lowering_pens_which_ship_cold(drugs):
    injected = [d for d in drugs if d["route"] in ("subcutaneous", "intravenous", "intramuscular")]
    glucose_lowering = [d for d in injected if d["atc_code"].startswith("A10")]
    assert {d["generic_name_en"] for d in glucose_lowering} >= {
        "Insulin glargine", "Insulin aspart", "Insulin detemir", "Liraglutide", "Semaglutide", "Dulaglutide"}
    assert all(d["is_deliverable"] and d["is_cold_chain"] for d in glucose_lowering)
    others = [d for d in injected if d not in glucose_lowering]
    assert {"Adalimumab", "Trastuzumab", "Evolocumab", "Goserelin"} <= {d["generic_name_en"] for d in others}
    assert not any(d["is_deliverable"] for d in others)


def test_biologics_are_cold_chain(drugs):
    for name in ("adalimumab", "trastuzumab", "bevacizumab", "pembrolizumab", "evolocumab",
                 "insulin glargine"):
        assert all(d["is_cold_chain"] for d in by_ingredient(drugs, name)), name
    assert not any(d["is_cold_chain"] for d in by_ingredient(drugs, "metformin"))


def test_antibacterials_and_antifungals_are_flagged_antimicrobial_antivirals_are_not(drugs):
    for name in ("clarithromycin", "levofloxacin", "linezolid", "fluconazole", "voriconazole",
                 "trimethoprim"):
        assert all(d["is_antimicrobial"] for d in by_ingredient(drugs, name)), name
    for name in ("entecavir", "dolutegravir", "rifampicin", "hydroxychloroquine"):
        assert not any(d["is_antimicrobial"] for d in by_ingredient(drugs, name)), name


def test_maximum_daily_doses_follow_the_stated_sources(drugs):
    def maximum(code):
        [drug] = [d for d in drugs if d["code"] == code]
        return drug["max_daily_dose"], drug["max_daily_dose_unit"]

    assert maximum("METFORMIN-500MG-TAB") == (Decimal("2550"), "mg")
    assert maximum("ROSUVASTATIN-10MG-TAB") == (Decimal("20"), "mg")
    assert maximum("SEMAGLUTIDE-2MG-PEN") == (Decimal("1"), "mg")
    assert maximum("INSULIN-GLARGINE-300IU-PEN") == (None, None)
    weekly = {d["generic_name_en"] for d in drugs if d["is_weekly_only"]}
    assert weekly == {"Methotrexate", "Semaglutide", "Dulaglutide", "Alendronate"}


def test_combination_products_list_every_ingredient(drugs):
    [entresto] = [d for d in drugs if d["code"] == "SACUBITRIL-VALSARTAN-100MG-TAB"]
    assert entresto["ingredients"] == [("sacubitril", "沙库巴曲"), ("valsartan", "缬沙坦")]
    [biktarvy] = [d for d in drugs if d["code"] == "BICTEGRAVIR-FTC-TAF-TAB"]
    assert [en for en, _ in biktarvy["ingredients"]] == [
        "bictegravir", "emtricitabine", "tenofovir alafenamide"]


def test_drugs_without_a_who_code_say_why(drugs):
    blank = [d for d in drugs if d["atc_code"] is None]
    assert {d["generic_name_en"] for d in blank} == {
        "Apatinib", "Anlotinib", "Flumatinib mesylate", "Furmonertinib mesylate", "Ensartinib hydrochloride",
        "Pyrotinib maleate", "Dalpiciclib isethionate", "Fluzoparib", "Allisartan isoproxil",
        "Henagliflozin proline", "Ilaprazole", "Loxoprofen sodium", "Benzfetamine", "Phendimetrazine"}
    assert all("ATC" in d["notes"] for d in blank)


def test_the_catalogue_loads_into_the_database_and_a_second_load_changes_nothing(db, catalogue):
    assert len(catalogue.created) == db.session.scalar(select(func.count()).select_from(Drug)) >= 150
    again = services.load_shipped_catalogue()
    assert (again.created, again.updated, again.unchanged) == ([], [], len(catalogue.created))
    # The interaction checker's lookup: every drug containing ritonavir, boosted or not.
    ritonavir = db.session.scalars(select(Drug.code).join(DrugIngredient).where(
        DrugIngredient.name == "ritonavir").order_by(Drug.code)).all()
    assert ritonavir == ["LOPINAVIR-RITONAVIR-200-50MG-TAB", "RITONAVIR-100MG-TAB"]


def test_seed_demo_brings_the_catalogue_and_a_second_run_adds_nothing(app, db):
    runner = app.test_cli_runner()

    def seed_and_count():
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        active = db.session.scalar(select(func.count()).select_from(Drug).where(Drug.is_active))
        events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("drug.%")))
        return active, events

    first = seed_and_count()
    assert first[0] >= 150 and first[1] > first[0]  # one row per drug plus the import summary
    assert seed_and_count() == first
