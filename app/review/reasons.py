"""Why a pharmacist returns a prescription: the categories of the 2018 prescription-review norms."""

from flask_babel import lazy_gettext as _l

# 医疗机构处方审核规范 (2018) sorts inappropriate prescriptions into these; the codes are stored.
RETURN_REASONS = {
    "indication": _l("Drug does not fit the diagnosis"),
    "drug_choice": _l("Inappropriate choice of drug"),
    "dose": _l("Dose or frequency inappropriate"),
    "route": _l("Dosage form or route inappropriate"),
    "interaction": _l("Harmful interaction"),
    "duplicate": _l("Duplicate therapy"),
    "allergy": _l("Allergy or contraindication"),
    "supply": _l("Quantity or duration inappropriate"),
    "incomplete": _l("Incomplete or unclear prescription"),
    "other": _l("Other (explain in the note)"),
}


def label(code: str) -> str:
    return str(RETURN_REASONS.get(code, code))
