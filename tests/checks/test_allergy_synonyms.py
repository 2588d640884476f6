"""Allergies typed in words: every listed synonym, in English or Chinese, finds a member of what it
names, a class word behaves like the class, and the synonym file is validated like the others."""

import csv
import shutil

import pytest

from app.checks import loader
from app.checks.engine import Kind, PatientAllergy, PatientContext, check
from app.checks.knowledge import DATA_DIR, KnowledgeBaseError, Problem, normalise_term
from tests.checks.conftest import SHIPPED, line

SYNONYMS = DATA_DIR / "allergy_synonyms.csv"
ALLERGY_RULES = ("allergy", "allergy-severe")


def _rows() -> list[tuple[int, str, str, str]]:
    with open(SYNONYMS, encoding="utf-8", newline="") as handle:
        return [(number, row["term"], row["language"], row["target"])
                for number, row in enumerate(csv.DictReader(handle), start=2)]


ROWS = _rows()


def members(kb, target: str) -> list[str]:
    """Catalogue drugs a selector names, stocked (active) ones first."""
    kind, _sep, name = target.partition(":")
    if kind == "class":
        found = [code for code, drug in SHIPPED.items()
                 if name in kb.profile(drug.atc_code, drug.ingredients).classes]
    else:
        found = [code for code, drug in SHIPPED.items() if name in drug.ingredients]
    return sorted(found, key=lambda code: (not SHIPPED[code].is_active, code))


def prescribed(code: str, position: int = 1):
    drug = SHIPPED[code]
    return line(code, drug.strength, str(drug.strength_unit).split("/")[0], position=position)


def allergy_findings(findings, position: int = 1) -> list:
    return [f for f in findings if f.rule_id in ALLERGY_RULES and f.line == position]


def test_the_list_covers_both_languages_and_the_class_words_asked_for(kb):
    languages = {language for _n, _t, language, _target in ROWS}
    assert languages == {"en", "zh"}
    for term, target in (("penicillin", "class:penicillins"), ("青霉素类", "class:penicillins"),
                         ("sulfa", "class:sulfonamides"), ("磺胺", "class:sulfonamides"),
                         ("NSAID", "class:nsaids"), ("非甾体抗炎药", "class:nsaids"),
                         ("头孢", "class:cephalosporins"), ("contrast", "class:iodinated_contrast"),
                         ("碘造影剂", "class:iodinated_contrast"), ("普利类", "class:ace_inhibitors"),
                         ("Augmentin", "ingredient:clavulanic acid"), ("安灭菌", "ingredient:amoxicillin"),
                         ("Bactrim", "ingredient:sulfamethoxazole"),
                         ("复方新诺明", "ingredient:trimethoprim"),
                         ("Tylenol", "ingredient:paracetamol"), ("芬必得", "ingredient:ibuprofen")):
        assert target in kb.synonyms[normalise_term(term)], term


@pytest.mark.parametrize(("number", "term", "language", "target"), ROWS,
                         ids=[f"{n}-{language}-{term}" for n, term, language, _t in ROWS])
def test_every_listed_term_typed_in_any_case_finds_a_member_of_what_it_names(kb, number, term, language,
                                                                              target):
    found = members(kb, target)
    assert found, (f"allergy_synonyms.csv line {number}: no catalogue drug is a member of {target}, so "
                   f"{term!r} cannot be tested; add a real product to app/drugs/data/drugs.csv or drop "
                   "the row")
    code = found[0]
    for typed in (term, term.upper(), f"  {'   '.join(term.split())}  "):
        context = PatientContext(allergies=(PatientAllergy("drug", typed, "mild"),))
        assert allergy_findings(check([prescribed(code)], context, kb=kb)), (
            f"allergy_synonyms.csv line {number}: an allergy typed as {typed!r} ({language}) gives no "
            f"allergy finding on {code}, a member of {target}")


CLASS_TERMS = sorted({(term, target[6:]) for _n, term, _l, target in ROWS if target.startswith("class:")})


def test_a_class_word_behaves_exactly_like_the_class_cross_reactivity_included(kb):
    # The drugs any class or cross-reactivity rule reaches; others cannot differ.
    reached = sorted(code for code, drug in SHIPPED.items()
                     if kb.profile(drug.atc_code, drug.ingredients).classes
                     or kb.profile(drug.atc_code, drug.ingredients).cross_rules)
    assert {"CEFUROXIME-AXETIL-250MG-TAB", "CELECOXIB-200MG-CAP"} <= set(reached)

    def said(allergy):
        context = PatientContext(allergies=(allergy,))
        return {code: sorted((f.rule_id, f.severity) for f in check([prescribed(code)], context, kb=kb)
                             if f.kind in (Kind.ALLERGY, Kind.CROSS_REACTIVITY))
                for code in reached}

    by_class = {code: said(PatientAllergy("class", code, "severe")) for code in {c for _t, c in CLASS_TERMS}}
    for term, code in CLASS_TERMS:
        assert said(PatientAllergy("drug", term, "severe")) == by_class[code], term


def test_sulfa_in_words_reaches_celecoxib_and_penicillin_in_chinese_reaches_cephalosporins(kb):
    sulfa = PatientContext(allergies=(PatientAllergy("drug", "Sulfa drugs", "mild"),))
    findings = check([prescribed("CELECOXIB-200MG-CAP"), prescribed("SMZ-TMP-400-80MG-TAB", 2)], sulfa, kb=kb)
    assert {(f.rule_id, f.line) for f in findings if f.kind in (Kind.ALLERGY, Kind.CROSS_REACTIVITY)} == {
        ("cross-sulfonamides-celecoxib", 1), ("allergy", 2)}
    penicillin = PatientContext(allergies=(PatientAllergy("drug", "青霉素", "anaphylaxis"),))
    [cross] = [f for f in check([prescribed("CEFUROXIME-AXETIL-250MG-TAB")], penicillin, kb=kb)
               if f.kind == Kind.CROSS_REACTIVITY]
    assert cross.rule_id == "cross-penicillins-cephalosporins" and "青霉素" in cross.message_zh


@pytest.mark.parametrize("term", ["shellfish", "海鲜", "iodine", "碘", "pollen", "花粉"])
def test_a_name_that_maps_to_nothing_gives_no_allergy_finding(kb, term):
    # Shellfish or "iodine" allergy says nothing about iodinated contrast (ACR Manual on Contrast Media).
    assert normalise_term(term) not in kb.synonyms
    context = PatientContext(allergies=(PatientAllergy("drug", term, "anaphylaxis"),))
    lines = [prescribed(code, n) for n, code in enumerate(
        ("IOHEXOL-300MGI-50ML-INJ", "AMOXICILLIN-250MG-CAP", "CELECOXIB-200MG-CAP"), start=1)]
    assert [f for f in check(lines, context, kb=kb)
            if f.kind in (Kind.ALLERGY, Kind.CROSS_REACTIVITY)] == []


def test_each_class_is_known_by_its_own_code_and_names_in_both_languages(kb):
    for term in ("aminoglycosides", "Aminoglycosides", "氨基糖苷类", "碳青霉烯类", "ACE inhibitors"):
        assert kb.allergen_targets(term)[0], term


# ---- validation ------------------------------------------------------------------------------------------

@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(DATA_DIR, target)
    return target


def append(path, text: str) -> int:
    existing = path.read_text(encoding="utf-8")
    path.write_text(existing + text, encoding="utf-8")
    return existing.count("\n") + 1


def problems_of(directory) -> list[Problem]:
    with pytest.raises(KnowledgeBaseError) as error:
        loader.load(directory)
    return error.value.problems


def test_a_synonym_naming_an_unknown_class_is_refused_by_file_line_and_column(data_copy):
    first = append(data_copy / "allergy_synonyms.csv",
                   "sulpha,en,class:sulfas,Test row naming a class that does not exist\n"
                   "sulpha drugs,en,group:nsaids,Test row with a selector kind synonyms cannot use\n")
    problems = problems_of(data_copy)
    assert Problem("allergy_synonyms.csv", first, "target", "No allergy class 'sulfas'.") in problems
    assert Problem("allergy_synonyms.csv", first + 1, "target",
                   "Write a selector: class:… / ingredient:….") in problems


def test_terms_are_unique_per_language_once_normalised_and_agree_across_languages(data_copy):
    path = data_copy / "allergy_synonyms.csv"
    listed = next(number for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                  if text.startswith("penicillin,en,"))
    first = append(path,
                   "\u3000ＰＥＮＩＣＩＬＬＩＮ  ,en,class:penicillins,Test duplicate in full-width letters\n"
                   "Tylenol,zh,ingredient:ibuprofen,Test row giving a term another meaning in zh\n"
                   "Penicillins,en,class:cephalosporins,Test row giving a class's name another class\n"
                   "青霉素,en,class:penicillins,Test row with Chinese characters marked English\n"
                   "opioid,fr,class:opioids,Test row in a language the app does not have\n")
    found = [p for p in problems_of(data_copy) if p.file == "allergy_synonyms.csv"]
    assert sorted(found, key=lambda p: p.line) == [
        Problem("allergy_synonyms.csv", first, "term",
                f"Already listed on line {listed} (the same term once normalised: 'penicillin')."),
        Problem("allergy_synonyms.csv", first + 1, "target",
                "'tylenol' means different things in en and zh; make them agree."),
        Problem("allergy_synonyms.csv", first + 2, "target", "'Penicillins' is the name of the allergy class "
                "'penicillins'; it can only mean class:penicillins."),
        Problem("allergy_synonyms.csv", first + 3, "language",
                "The term has Chinese characters; its language is zh."),
        Problem("allergy_synonyms.csv", first + 4, "language", "Write en or zh."),
    ]


TERM = "Write the term as a patient or doctor types it, at most 120 characters."


@pytest.mark.parametrize(("term", "refused"), [("", True), ("   ", True), ("a" * 119, False),
                                               ("a" * 120, False), ("a" * 121, True)])
def test_a_term_is_one_to_120_characters(data_copy, term, refused):
    # 120 is what an allergy's substance column holds: a longer term could never be typed.
    line = append(data_copy / "allergy_synonyms.csv", f"{term},en,class:carbapenems,Test term length\n")
    if refused:
        assert problems_of(data_copy) == [Problem("allergy_synonyms.csv", line, "term", TERM)]
    else:
        assert term in loader.load(data_copy).synonym_terms["en"]


def test_the_terms_offered_are_kept_as_written_in_their_language(data_copy):
    # Matched once normalised; offered as written.
    append(data_copy / "allergy_synonyms.csv", "Testdrug Allergy,en,class:carbapenems,Test term as written\n"
                                               "Otherdrug  Rash,en,ingredient:aspirin,Test term as written\n"
                                               "测试药过敏,zh,class:carbapenems,Test term as written\n")
    kb = loader.load(data_copy)
    terms = kb.synonym_terms
    assert {"Testdrug Allergy", "Otherdrug  Rash"} <= set(terms["en"])
    assert kb.synonyms["testdrug allergy"] == ("class:carbapenems",)
    assert kb.synonyms["otherdrug rash"] == ("ingredient:aspirin",)
    assert "测试药过敏" in terms["zh"] and "测试药过敏" not in terms["en"]
    assert None not in terms["en"] and None not in terms["zh"]


def test_the_shipped_list_is_sourced_and_the_version_was_raised(kb):
    with open(SYNONYMS, encoding="utf-8", newline="") as handle:
        assert all(len(row["source"]) >= 10 for row in csv.DictReader(handle))
    major, minor, _patch = (int(n) for n in kb.version.split("+")[0].split("."))
    assert (major, minor) >= (1, 1)
