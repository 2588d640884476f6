"""Typed allergy names as the checks understand them: synonyms, catalogue products and ingredients."""

# Apart from adapters.py so that the pages listing allergies (consultation, prescription, review) can
# flag the ones the checks cannot match without importing prescribing, and with one statement for all
# of a patient's allergies rather than one per allergy.

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.checks import loader
from app.checks.knowledge import KnowledgeBase, normalise_term
from app.drugs.models import Drug, DrugIngredient
from app.extensions import db
from app.patients import catalog as patient_catalog


@dataclass(frozen=True)
class Allergen:
    """What one typed name stands for. `known` is False when nothing does: no synonym, no catalogue
    product or ingredient, no class and no ingredient a rule names; the checks cannot match it."""

    atc_codes: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()
    known: bool = False


@dataclass(frozen=True)
class _Product:
    atc_code: str | None
    names: frozenset[str]  # normalised generic names, brand and each word of it, code, ingredients
    ingredients: dict[str, str]  # INN → its normalised Chinese name


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _products(texts: set[str]) -> list[_Product]:
    """The catalogue products any of the normalised `texts` names, each with all its ingredients, in
    one statement. A brand matches whole or by one of its words ("Fenbid" in "Fenbid 芬必得"), as the
    engine matches a line's brand."""
    if not texts:
        return []
    by_brand = []
    for text in texts:
        word = _escape(text)
        by_brand += [func.lower(Drug.brand_name) == text,
                     func.lower(Drug.brand_name).like(f"{word} %", escape="\\"),
                     func.lower(Drug.brand_name).like(f"% {word}", escape="\\"),
                     func.lower(Drug.brand_name).like(f"% {word} %", escape="\\")]
    matching = (select(Drug.id).outerjoin(DrugIngredient, DrugIngredient.drug_id == Drug.id).where(or_(
        func.lower(Drug.generic_name_en).in_(texts), Drug.generic_name_zh.in_(texts),
        func.lower(Drug.code).in_(texts), DrugIngredient.name.in_(texts), DrugIngredient.name_zh.in_(texts),
        *by_brand)))
    rows = db.session.execute(
        select(Drug.id, Drug.atc_code, Drug.generic_name_en, Drug.generic_name_zh, Drug.brand_name, Drug.code,
               DrugIngredient.name, DrugIngredient.name_zh)
        .outerjoin(DrugIngredient, DrugIngredient.drug_id == Drug.id)
        .where(Drug.id.in_(matching)).order_by(Drug.id, DrugIngredient.id)).all()
    found: dict[int, tuple] = {}
    for drug_id, atc, name_en, name_zh, brand, code, ingredient, ingredient_zh in rows:
        names, ingredients = found.setdefault(drug_id, (atc, set(), {}))[1:]
        brand = normalise_term(brand or "")
        names.update(normalise_term(n) for n in (name_en, name_zh, code, brand, *brand.split()) if n)
        if ingredient:
            ingredients[ingredient] = normalise_term(ingredient_zh or "")
            names.update((ingredient, ingredients[ingredient]))
    return [_Product(atc, frozenset(names), ingredients) for atc, names, ingredients in found.values()]


def resolve(substances, kb: KnowledgeBase | None = None) -> dict[str, Allergen]:
    """Each typed name (keyed as given) → the catalogue's ATC codes and ingredients for it and for the
    ingredients its synonyms name ("Augmentin" → amoxicillin, so also the penicillins' ATC code)."""
    kb = kb or loader.get()
    wanted = {substance: normalise_term(substance) for substance in substances}
    lookups = {text: {text, *kb.allergen_targets(text)[1]} for text in wanted.values()}
    products = _products(set().union(*lookups.values()))
    resolved = {}
    for substance, text in wanted.items():
        atc_codes, ingredients, matched = set(), set(), False
        for name in lookups[text]:
            hits = [p for p in products if name in p.names]
            matched = matched or bool(hits)
            atc_codes.update(p.atc_code for p in hits if p.atc_code)
            # Only the ingredient the name stands for when it names one, not a combination's partners.
            named = {inn for p in hits for inn, zh in p.ingredients.items() if name in (inn, zh)}
            ingredients |= named or {inn for p in hits for inn in p.ingredients}
        ingredients |= lookups[text] - {text}
        known = matched or text in kb.synonyms or text in kb.ingredient_names
        resolved[substance] = Allergen(tuple(sorted(atc_codes)), tuple(sorted(ingredients)), known)
    return resolved


def unchecked(allergies, kb: KnowledgeBase | None = None) -> frozenset[str]:
    """The substances of by-name allergies the checks cannot match, for the pages to flag.

    `allergies` are rows with `kind` and `substance` (models or plain rows). A class is always
    checked; a listed synonym or an ingredient a rule names needs no statement; the rest are looked
    up in the catalogue together, so a page costs one statement more only when it has such names.
    """
    kb = kb or loader.get()
    names = {a.substance for a in allergies if str(a.kind) != "class"}
    doubtful = {n for n in names if normalise_term(n) not in kb.synonyms
                and normalise_term(n) not in kb.ingredient_names}
    if not doubtful:
        return frozenset()
    found = _products({normalise_term(n) for n in doubtful})
    return frozenset(n for n in doubtful if not any(normalise_term(n) in p.names for p in found))


def suggestions(language: str, kb: KnowledgeBase | None = None) -> list[str]:
    """What the allergy form offers as the user types: the allergy classes by name, then the listed
    terms in the user's language, each once (a class's name as the class list spells it)."""
    kb = kb or loader.get()
    names = [entry.name(language) for entry in patient_catalog.allergy_classes().values()]
    offered: dict[str, str] = {}
    for term in (*names, *kb.synonym_terms.get(language, ())):
        offered.setdefault(normalise_term(term), term)
    return list(offered.values())
