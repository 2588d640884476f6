"""What every stock page shares: which stores a user works, the drug choices, service→form field names."""

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app import numbers
from app.accounts.models import PharmacistProfile, Role
from app.drugs.models import Drug
from app.extensions import db
from app.i18n import current_language
from app.inventory.models import StockLot, Store

STAFF = (Role.PHARMACIST, Role.ADMIN)


def home_store_id() -> int | None:
    profile = current_user.pharmacist_profile if current_user.role == Role.PHARMACIST else None
    return profile.home_store_id if profile else None


def visible_stores() -> list[Store]:
    if current_user.role == Role.ADMIN:
        return list(db.session.scalars(select(Store).order_by(Store.code)))
    store = db.session.get(Store, home_store_id() or 0)
    return [store] if store else []


def load_store(store_id: int) -> Store:
    """The object check: a pharmacist only their home store (404 for another, no hint it exists)."""
    if current_user.role == Role.ADMIN:
        store = db.session.get(Store, store_id)
    else:
        # The store and the check in one round trip: the store only if it is the pharmacist's home.
        store = db.session.scalar(
            select(Store).join(PharmacistProfile, PharmacistProfile.home_store_id == Store.id)
            .where(Store.id == store_id, PharmacistProfile.user_id == current_user.id))
    if store is None:
        abort(404)
    return store


def load_lot(lot_id: int) -> StockLot:
    lot = db.session.get(StockLot, lot_id)
    if lot is None:
        abort(404)
    load_store(lot.store_id)
    return lot


def drug_choices() -> list[SelectChoice]:
    language = current_language()
    drugs = db.session.scalars(select(Drug).where(Drug.is_active).order_by(Drug.generic_name_en, Drug.code))
    return [SelectChoice("", "—")] + [
        SelectChoice(str(d.id), f"{d.generic_name_zh if language == 'zh' else d.generic_name_en} "
                                f"{d.strength.normalize():f} {d.strength_unit} · {d.code}") for d in drugs]


def form_id(value) -> int:
    """A submitted id for the services: 0 (no row has it) for anything that is not one."""
    return numbers.id_or_none(value) or 0


class FieldMap:
    """The services name fields as they know them (drug, expiry_date, quantity…); map those onto the form."""

    def __init__(self, form, **names):
        self.form, self.names = form, names

    def __getattr__(self, name):
        return getattr(self.form, self.names.get(name, name), None)
