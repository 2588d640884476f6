"""Every drug a check names is in the catalogue, and so are the common members of every class it uses.

A selector that matches no catalogue row is a rule nobody can see fire and nobody can test: a typo
(`ingredient:simvastatine`), a class whose members were never entered, an ATC level that does not
exist. Drugs that cannot be sold here are still listed, as inactive reference entries (see
app/drugs/data/README.md), so that a rule may name them. No database is needed: the shipped
knowledge base and the shipped catalogue file are read directly.
"""

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.checks import loader
from app.checks.knowledge import DATA_DIR
from app.drugs import catalogue
from app.drugs import services as drugs

# Columns of a knowledge-base file that name drugs by selector (README.md of app/checks/data).
SELECTOR_COLUMNS = frozenset({"selector", "a", "b", "member", "target"})
SELECTOR_KINDS = frozenset({"ingredient", "atc", "group", "class"})


def _catalogue_rows() -> list[dict]:
    header, rows = catalogue.read_csv(drugs.SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
    assert catalogue.check_header(header) == []
    parsed = []
    for line, raw in rows:
        values, errors = catalogue.parse_row(raw)
        assert errors == {}, (line, errors)
        parsed.append(values)
    return parsed


ROWS = _catalogue_rows()
INGREDIENTS = {name for row in ROWS for name, _zh in row["ingredients"]}
ATC_CODES = {row["atc_code"] for row in ROWS if row["atc_code"]}


@pytest.fixture(scope="module")
def kb():
    return loader.load()


def _selectors(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, column, selector) for every selector cell of one file, read generically."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            for column, value in row.items():
                if column is None or value is None:
                    continue
                for part in value.split(";"):
                    text = part.strip()
                    kind, sep, _name = text.partition(":")
                    named = column.strip().lower() in SELECTOR_COLUMNS
                    if text and (named or (sep and kind in SELECTOR_KINDS)):
                        yield reader.line_num, column, text


class Resolver:
    """Whether a selector matches at least one catalogue row, following groups and allergy classes."""

    def __init__(self, kb):
        self.groups = kb.groups
        self.classes = kb.allergy_classes
        self._busy: set[str] = set()

    def __call__(self, selector: str) -> bool:
        kind, _sep, name = selector.partition(":")
        if kind == "ingredient":
            return name in INGREDIENTS
        if kind == "atc":
            return bool(name) and any(code.startswith(name) for code in ATC_CODES)
        if kind in ("group", "class"):
            members = (self.groups if kind == "group" else self.classes).get(name)
            if not members or selector in self._busy:
                return False
            self._busy.add(selector)
            try:
                return any(self(member) for member in members)
            finally:
                self._busy.discard(selector)
        return False


def test_every_selector_of_every_knowledge_base_file_names_a_catalogue_drug(kb):
    resolves = Resolver(kb)
    unresolved = []
    files = sorted(DATA_DIR.glob("*.csv"))
    assert {"groups.csv", "interactions.csv", "allergy_classes.csv"} <= {path.name for path in files}
    for path in files:
        for line, column, selector in _selectors(path):
            if not resolves(selector):
                unresolved.append(f"{path.name} line {line}, {column}: {selector}")
    assert unresolved == [], (
        f"{len(unresolved)} selectors match no row of app/drugs/data/drugs.csv (add the drug, as an inactive "
        "reference entry if it is not sold here, or correct the selector):\n" + "\n".join(unresolved))


def test_the_resolver_refuses_what_the_catalogue_does_not_have(kb):
    resolves = Resolver(kb)
    assert resolves("ingredient:simvastatin") and resolves("atc:C10AA") and resolves("group:statins")
    assert resolves("class:penicillins")
    assert not resolves("ingredient:simvastatine")
    assert not resolves("atc:Z99")
    assert not resolves("group:no_such_group") and not resolves("class:no_such_class")
    assert not resolves("simvastatin")


# Each class the rules use, the level that defines it, and how many members the catalogue must hold
# (stocked or reference entries): the common members, not only the one or two that are stocked.
CLASS_MEMBERS = {
    "ACE inhibitors": ("atc:C09AA", 8),
    "angiotensin II receptor blockers": ("atc:C09CA", 7),
    "statins": ("atc:C10AA", 7),
    "proton-pump inhibitors": ("atc:A02BC", 6),
    "cephalosporins": ("atc:J01D", 9),
    "carbapenems": ("atc:J01DH", 3),
    "aminoglycosides": ("atc:J01GB", 2),
    "sulfonamides": ("atc:J01E", 4),
    "fluoroquinolones": ("atc:J01MA", 6),
    "macrolides": ("atc:J01FA", 5),
    "azole antifungals": ("atc:J02A", 5),
    "SSRIs": ("atc:N06AB", 6),
    "tricyclic antidepressants": ("atc:N06AA", 4),
    "NSAIDs": ("atc:M01A", 9),
    "sulfonylureas": ("atc:A10BB", 5),
    "DPP-4 inhibitors": ("atc:A10BH", 5),
    "SGLT2 inhibitors": ("atc:A10BK", 4),
    "beta-blockers": ("atc:C07", 9),
    "opioids": ("atc:N02A", 5),
    "antipsychotics": ("atc:N05A", 12),
    "protein-kinase inhibitors": ("atc:L01E", 35),
    "PARP inhibitors": ("atc:L01XK", 3),
    "hormone antagonists (oncology)": ("atc:L02B", 10),
}
# Drugs WHO has not classified (or, for oral loxoprofen, only in another form): they join their class
# by ingredient, so a rule written by ATC level does not reach them.
UNCLASSIFIED_MEMBERS = {
    "angiotensin II receptor blockers": {"allisartan"},
    "proton-pump inhibitors": {"ilaprazole"},
    "NSAIDs": {"loxoprofen"},
    "SGLT2 inhibitors": {"henagliflozin"},
    "protein-kinase inhibitors": {"apatinib", "anlotinib", "flumatinib", "furmonertinib", "ensartinib",
                                  "pyrotinib", "dalpiciclib"},
    "PARP inhibitors": {"fluzoparib"},
}


def _members(selector: str) -> set[str]:
    prefix = selector.partition(":")[2]
    found: dict[str, set[str]] = defaultdict(set)
    for row in ROWS:
        if row["atc_code"] and row["atc_code"].startswith(prefix):
            found[row["atc_code"]].update(name for name, _zh in row["ingredients"])
    return {name for names in found.values() for name in names}


@pytest.mark.parametrize(("label", "selector", "least"),
                         [(label, selector, least) for label, (selector, least) in CLASS_MEMBERS.items()])
def test_each_class_the_rules_use_has_its_common_members_in_the_catalogue(label, selector, least):
    members = _members(selector)
    assert len(members) >= least, f"{label} ({selector}): only {sorted(members)}"


@pytest.mark.parametrize(("label", "names"), sorted(UNCLASSIFIED_MEMBERS.items()))
def test_members_without_a_who_code_are_there_by_ingredient(label, names):
    missing = names - INGREDIENTS
    assert missing == set(), f"{label}: {sorted(missing)}"


NAMED_MEMBERS = {
    "ACE inhibitors": ("captopril", "enalapril", "lisinopril", "ramipril", "perindopril", "benazepril",
                       "fosinopril", "imidapril"),
    "angiotensin II receptor blockers": ("losartan", "valsartan", "irbesartan", "telmisartan", "candesartan",
                                         "olmesartan", "azilsartan", "allisartan"),
    "statins": ("atorvastatin", "rosuvastatin", "simvastatin", "pravastatin", "fluvastatin", "pitavastatin",
                "lovastatin"),
    "proton-pump inhibitors": ("omeprazole", "esomeprazole", "lansoprazole", "pantoprazole", "rabeprazole",
                               "ilaprazole"),
    "cephalosporins": ("cefalexin", "cefadroxil", "cefuroxime", "cefaclor", "cefprozil", "cefixime",
                       "cefdinir", "cefpodoxime", "ceftriaxone"),
    "fluoroquinolones": ("ciprofloxacin", "levofloxacin", "moxifloxacin", "ofloxacin", "norfloxacin"),
    "macrolides": ("azithromycin", "clarithromycin", "erythromycin", "roxithromycin"),
    "azole antifungals": ("fluconazole", "itraconazole", "voriconazole", "posaconazole", "ketoconazole"),
    "SSRIs": ("fluoxetine", "sertraline", "paroxetine", "citalopram", "escitalopram", "fluvoxamine"),
    "NSAIDs": ("ibuprofen", "diclofenac", "naproxen", "meloxicam", "celecoxib", "etoricoxib", "indometacin",
               "loxoprofen", "aspirin"),
    "sulfonylureas": ("glibenclamide", "gliclazide", "glimepiride", "glipizide", "gliquidone"),
    "DPP-4 inhibitors": ("sitagliptin", "saxagliptin", "vildagliptin", "linagliptin", "alogliptin"),
    "SGLT2 inhibitors": ("dapagliflozin", "empagliflozin", "canagliflozin", "ertugliflozin", "henagliflozin"),
    "beta-blockers": ("metoprolol", "bisoprolol", "atenolol", "propranolol", "carvedilol", "nebivolol",
                      "sotalol", "labetalol", "esmolol"),
    "oral oncology (national reimbursement list)": (
        "imatinib", "dasatinib", "nilotinib", "gefitinib", "erlotinib", "icotinib", "afatinib", "osimertinib",
        "aumolertinib", "furmonertinib", "crizotinib", "alectinib", "ensartinib", "lapatinib", "pyrotinib",
        "sorafenib", "sunitinib", "regorafenib", "lenvatinib", "apatinib", "anlotinib", "fruquintinib",
        "axitinib", "pazopanib", "ibrutinib", "zanubrutinib", "orelabrutinib", "ruxolitinib", "olaparib",
        "niraparib", "fluzoparib", "palbociclib", "abemaciclib", "dalpiciclib", "capecitabine", "tegafur",
        "temozolomide", "abiraterone", "enzalutamide", "apalutamide", "darolutamide", "bicalutamide",
        "letrozole", "anastrozole", "exemestane", "tamoxifen", "toremifene", "everolimus", "lenalidomide",
        "thalidomide", "pomalidomide"),
}


@pytest.mark.parametrize(("label", "names"), sorted(NAMED_MEMBERS.items()))
def test_the_common_members_are_there_by_name(label, names):
    missing = [name for name in names if name not in INGREDIENTS]
    assert missing == [], f"{label}: {missing}"
