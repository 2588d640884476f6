"""The names of the ATC therapeutic subgroups (level 2) the chain's catalogue uses, as WHO names them."""

from flask_babel import lazy_gettext as _l

# A subgroup not listed here is shown by its code alone; drugs without an ATC code as UNCLASSIFIED.
ATC_SUBGROUPS = {
    "A02": _l("Drugs for acid related disorders"),
    "A03": _l("Drugs for functional gastrointestinal disorders"),
    "A04": _l("Antiemetics and antinauseants"),
    "A07": _l("Antidiarrheals, intestinal anti-inflammatory/anti-infective agents"),
    "A10": _l("Drugs used in diabetes"),
    "B01": _l("Antithrombotic agents"),
    "B03": _l("Antianemic preparations"),
    "C01": _l("Cardiac therapy"),
    "C03": _l("Diuretics"),
    "C07": _l("Beta blocking agents"),
    "C08": _l("Calcium channel blockers"),
    "C09": _l("Agents acting on the renin-angiotensin system"),
    "C10": _l("Lipid modifying agents"),
    "G04": _l("Urologicals"),
    "H02": _l("Corticosteroids for systemic use"),
    "H03": _l("Thyroid therapy"),
    "J01": _l("Antibacterials for systemic use"),
    "J02": _l("Antimycotics for systemic use"),
    "J04": _l("Antimycobacterials"),
    "J05": _l("Antivirals for systemic use"),
    "L01": _l("Antineoplastic agents"),
    "L02": _l("Endocrine therapy"),
    "L04": _l("Immunosuppressants"),
    "M01": _l("Anti-inflammatory and antirheumatic products"),
    "M03": _l("Muscle relaxants"),
    "M04": _l("Antigout preparations"),
    "M05": _l("Drugs for treatment of bone diseases"),
    "N02": _l("Analgesics"),
    "N03": _l("Antiepileptics"),
    "N04": _l("Anti-parkinson drugs"),
    "N05": _l("Psycholeptics"),
    "N06": _l("Psychoanaleptics"),
    "N07": _l("Other nervous system drugs"),
    "P01": _l("Antiprotozoals"),
    "R03": _l("Drugs for obstructive airway diseases"),
}
UNCLASSIFIED = _l("Not classified (no ATC code)")


def atc_subgroup(code: str | None) -> str:
    """'C09 · Agents acting on the renin-angiotensin system', in the reader's language."""
    if not code:
        return str(UNCLASSIFIED)
    name = ATC_SUBGROUPS.get(code)
    return f"{code} · {name}" if name is not None else code
