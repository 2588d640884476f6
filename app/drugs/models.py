"""Drug and its active ingredients; the enums are the catalogue's controlled vocabularies."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class StrengthUnit(StrEnum):
    MG = "mg"
    MICROGRAM = "µg"
    G = "g"
    IU = "IU"
    MG_PER_ML = "mg/mL"
    MICROGRAM_PER_HOUR = "µg/h"


class DoseUnit(StrEnum):
    """Units a daily dose is counted in (the strength unit without its per-volume/per-hour part)."""

    MG = "mg"
    MICROGRAM = "µg"
    G = "g"
    IU = "IU"


class DosageForm(StrEnum):
    TABLET = "tablet"
    SUSTAINED_RELEASE_TABLET = "sustained_release_tablet"
    CONTROLLED_RELEASE_TABLET = "controlled_release_tablet"
    ENTERIC_COATED_TABLET = "enteric_coated_tablet"
    SUBLINGUAL_TABLET = "sublingual_tablet"
    CAPSULE = "capsule"
    SUSTAINED_RELEASE_CAPSULE = "sustained_release_capsule"
    ENTERIC_COATED_CAPSULE = "enteric_coated_capsule"
    ORAL_SOLUTION = "oral_solution"
    INJECTION = "injection"
    POWDER_FOR_INJECTION = "powder_for_injection"
    PEN_INJECTOR = "pen_injector"
    PREFILLED_SYRINGE = "prefilled_syringe"
    IMPLANT = "implant"
    INHALATION_POWDER = "inhalation_powder"
    INHALATION_AEROSOL = "inhalation_aerosol"
    TRANSDERMAL_PATCH = "transdermal_patch"


class Route(StrEnum):
    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    SUBCUTANEOUS = "subcutaneous"
    INTRAMUSCULAR = "intramuscular"
    INTRAVENOUS = "intravenous"
    INHALATION = "inhalation"
    TRANSDERMAL = "transdermal"
    TOPICAL = "topical"


# The national list bars injectables from delivery; glucose-lowering ones (ATC A10) excepted.
INJECTED_ROUTES = frozenset({Route.SUBCUTANEOUS, Route.INTRAMUSCULAR, Route.INTRAVENOUS})


class PackUnit(StrEnum):
    TABLET = "tablet"
    CAPSULE = "capsule"
    PEN = "pen"
    CARTRIDGE = "cartridge"
    VIAL = "vial"
    SYRINGE = "syringe"
    IMPLANT = "implant"
    PATCH = "patch"
    DOSE = "dose"
    ML = "mL"


class ControlledClass(StrEnum):
    """China's special-management classes; anything but NONE is barred from online prescribing."""

    NONE = "none"
    NARCOTIC = "narcotic"
    PSYCHOTROPIC_1 = "psychotropic_1"
    PSYCHOTROPIC_2 = "psychotropic_2"
    TOXIC = "toxic"
    RADIOACTIVE = "radioactive"
    PRECURSOR = "precursor"


# Storage a leaflet states when the catalogue gives none: (English, Chinese) by is_cold_chain. Text in
# both languages at once, not gettext, because the leaflet prints both whatever the reader's language.
DEFAULT_STORAGE = {
    True: ("Keep in a refrigerator at 2–8 °C, in the original box to protect it from light. Do not freeze, "
           "and do not use it if it has been frozen. Keep out of the reach of children.",
           "2–8 °C冷藏，放在原包装盒内避光保存。切勿冷冻，冻结过的药品不可再用。请放在儿童接触不到的地方。"),
    False: ("Store below 25 °C in a dry place, in the original pack, away from light. Keep out of the "
            "reach of children.",
            "25 °C以下干燥处保存，保留原包装，避光。请放在儿童接触不到的地方。"),
}

_INJECTED_SQL = ", ".join(f"'{route}'" for route in sorted(INJECTED_ROUTES))


class Drug(db.Model):
    __tablename__ = "drugs"
    __table_args__ = (
        # One drug per product code. An index, not a constraint: SQLite adds it without rebuilding
        # the table that stock, orders and dispensing rows point at.
        sa.Index("uq_drugs_traceability_prefix", "traceability_prefix", unique=True),
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.CheckConstraint("strength > 0", name="strength_positive"),
        sa.CheckConstraint("pack_size > 0", name="pack_size_positive"),
        sa.CheckConstraint("max_daily_dose IS NULL OR max_daily_dose > 0", name="max_dose_positive"),
        sa.CheckConstraint("(max_daily_dose IS NULL) = (max_daily_dose_unit IS NULL)",
                           name="max_dose_has_unit"),
        sa.CheckConstraint("atc_code IS NULL OR length(atc_code) = 7", name="atc_code_length"),
        sa.CheckConstraint("generic_name_en <> '' AND generic_name_zh <> ''", name="names_present"),
        sa.CheckConstraint("controlled_class = 'none' OR (NOT is_online_prescribable AND NOT is_deliverable)",
                           name="controlled_not_online"),
        sa.CheckConstraint(f"route NOT IN ({_INJECTED_SQL}) OR NOT is_deliverable "
                           "OR COALESCE(atc_code, '') LIKE 'A10%'", name="injectables_not_delivered"),
        # A store's stock page lists its lots by drug name, a page at a time.
        sa.Index("ix_drugs_generic_name_en", "generic_name_en"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stable key imports upsert by: ATC + strength + form is not unique (brands, pack sizes).
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    generic_name_en: Mapped[str] = mapped_column(sa.String(120))
    generic_name_zh: Mapped[str] = mapped_column(sa.String(60))
    # Pinyin initials of the Chinese generic name ("aldp" for 氨氯地平), as pharmacists type to search.
    name_initials: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    brand_name: Mapped[str] = mapped_column(sa.String(120), default="")
    # Blank only for substances WHO has not classified yet (the notes must say so).
    atc_code: Mapped[str | None] = mapped_column(sa.String(7), index=True)
    strength: Mapped[Decimal] = mapped_column(sa.Numeric(12, 4))
    strength_unit: Mapped[StrengthUnit] = mapped_column(enum_column(StrengthUnit, "strength_unit"))
    dosage_form: Mapped[DosageForm] = mapped_column(
        sa.Enum(DosageForm, name="dosage_form", native_enum=False, create_constraint=True, length=30,
                values_callable=lambda members: [m.value for m in members], validate_strings=True))
    route: Mapped[Route] = mapped_column(enum_column(Route, "route"))
    pack_size: Mapped[int] = mapped_column()
    pack_unit: Mapped[PackUnit] = mapped_column(enum_column(PackUnit, "pack_unit"))
    price_fen: Mapped[int] = mapped_column()
    is_cold_chain: Mapped[bool] = mapped_column(default=False)
    controlled_class: Mapped[ControlledClass] = mapped_column(
        enum_column(ControlledClass, "controlled_class"), default=ControlledClass.NONE)
    is_online_prescribable: Mapped[bool] = mapped_column(default=True)
    is_deliverable: Mapped[bool] = mapped_column(default=True)
    # The product identification code (药品标识码) that opens every 20-digit traceability code printed on
    # this pack; a code scanned at dispensing must start with it. Unknown until the supplier gives it.
    traceability_prefix: Mapped[str | None] = mapped_column(sa.String(10))
    is_antimicrobial: Mapped[bool] = mapped_column(default=False)
    max_daily_dose: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 4))
    max_daily_dose_unit: Mapped[DoseUnit | None] = mapped_column(enum_column(DoseUnit, "dose_unit"))
    # Must be taken once a week (methotrexate for arthritis, weekly GLP-1 pens): daily is an overdose.
    is_weekly_only: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(sa.String(255), default="")
    # The patient leaflet's text, in both languages (both or neither): the few warnings a patient must
    # know, and storage when it differs from what the cold-chain flag implies (see storage()).
    warnings_en: Mapped[str] = mapped_column(sa.String(600), default="", server_default="")
    warnings_zh: Mapped[str] = mapped_column(sa.String(600), default="", server_default="")
    storage_en: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    storage_zh: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    ingredients: Mapped[list["DrugIngredient"]] = relationship(
        back_populates="drug", order_by="DrugIngredient.position", cascade="all, delete-orphan")

    @property
    def is_controlled(self) -> bool:
        return self.controlled_class != ControlledClass.NONE

    def generic_name(self, language: str) -> str:
        return self.generic_name_zh if language == "zh" else self.generic_name_en

    def warnings(self, language: str) -> str:
        return self.warnings_zh if language == "zh" else self.warnings_en

    def storage(self, language: str) -> str:
        """The catalogue's storage text, or the one its cold-chain flag implies when it gives none."""
        stored = self.storage_zh if language == "zh" else self.storage_en
        return stored or DEFAULT_STORAGE[bool(self.is_cold_chain)][language == "zh"]

    @property
    def has_own_storage(self) -> bool:
        return bool(self.storage_en)

    def __repr__(self) -> str:
        return f"<Drug {self.code}>"


class DrugIngredient(db.Model):
    """One active ingredient; the interaction and allergy checks look drugs up by `name`."""

    __tablename__ = "drug_ingredients"
    __table_args__ = (sa.UniqueConstraint("drug_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"), index=True)
    position: Mapped[int] = mapped_column()
    # Lower-case English INN of the active moiety (no salt): "metoprolol", "valsartan".
    name: Mapped[str] = mapped_column(sa.String(80), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(40))

    drug: Mapped[Drug] = relationship(back_populates="ingredients")


def format_decimal(value: Decimal | None) -> str:
    """Decimal without trailing zeros and never in exponent form: 5.0000 → '5', 0.1250 → '0.125'."""
    if value is None:
        return ""
    return format(value.normalize(), "f")
