"""Stock pages. A pharmacist works their own store; an admin sees and works every store."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app import numbers
from app.accounts.models import Role
from app.database import utcnow
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.inventory import services as inventory
from app.inventory.models import LotStatus, StockLot, Store
from app.limits import NEAR_EXPIRY_DAYS
from app.number_fields import arg_int
from app.policy import roles_required
from app.stock import bp, queries
from app.stock.forms import AdjustForm, CountForm, ReceiveForm, WriteOffForm

STAFF = (Role.PHARMACIST, Role.ADMIN)


def _home_store_id() -> int | None:
    profile = current_user.pharmacist_profile if current_user.role == Role.PHARMACIST else None
    return profile.home_store_id if profile else None


def visible_stores() -> list[Store]:
    if current_user.role == Role.ADMIN:
        return list(db.session.scalars(select(Store).order_by(Store.code)))
    store = db.session.get(Store, _home_store_id() or 0)
    return [store] if store else []


def load_store(store_id: int) -> Store:
    """The object check: a pharmacist only their home store (404 for another, no hint it exists)."""
    store = db.session.get(Store, store_id)
    if store is None or (current_user.role != Role.ADMIN and store.id != _home_store_id()):
        abort(404)
    return store


def load_lot(lot_id: int) -> StockLot:
    lot = db.session.get(StockLot, lot_id)
    if lot is None:
        abort(404)
    load_store(lot.store_id)
    return lot


@bp.route("/")
@roles_required(*STAFF)
def index():
    if current_user.role == Role.ADMIN:
        return redirect(url_for("stock.dashboard"))
    stores = visible_stores()
    if not stores:
        abort(404)
    return redirect(url_for("stock.store", store_id=stores[0].id))


@bp.route("/dashboard")
@roles_required(Role.ADMIN)
def dashboard():
    return render_template("stock/dashboard.html", summary=queries.chain_summary(utcnow().date()),
                           language=current_language())


@bp.route("/stores/<int:store_id>")
@roles_required(*STAFF)
def store(store_id: int):
    shop = load_store(store_id)
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    near = arg_int("near_expiry", NEAR_EXPIRY_DAYS)
    near = near if near in queries.NEAR_EXPIRY_CHOICES else None
    cold = request.args.get("cold_chain") == "1"
    lots = queries.store_lots(shop, query=query, status=status, near_expiry_days=near, cold_chain=cold)
    return render_template("stock/store.html", store=shop, lots=lots, q=query, status=status, near=near,
                           cold=cold, statuses=list(LotStatus), today=shop.today(),
                           near_choices=queries.NEAR_EXPIRY_CHOICES, language=current_language())


@bp.route("/near-expiry")
@roles_required(*STAFF)
def near_expiry():
    days = arg_int("days", NEAR_EXPIRY_DAYS)
    days = days if days in queries.NEAR_EXPIRY_CHOICES else 90
    return render_template("stock/near_expiry.html", days=days, choices=queries.NEAR_EXPIRY_CHOICES,
                           rows=queries.near_expiry(visible_stores(), days), language=current_language())


def _drug_choices() -> list[SelectChoice]:
    language = current_language()
    drugs = db.session.scalars(select(Drug).where(Drug.is_active).order_by(Drug.generic_name_en, Drug.code))
    return [SelectChoice("", "—")] + [
        SelectChoice(str(d.id), f"{d.generic_name_zh if language == 'zh' else d.generic_name_en} "
                                f"{d.strength.normalize():f} {d.strength_unit} · {d.code}") for d in drugs]


@bp.route("/stores/<int:store_id>/receive", methods=["GET", "POST"])
@roles_required(*STAFF)
def receive(store_id: int):
    shop = load_store(store_id)
    form = ReceiveForm()
    form.drug_id.choices = _drug_choices()
    if form.validate_on_submit():
        try:
            lot = inventory.receive(shop, numbers.id_or_none(form.drug_id.data) or 0,
                                    form.lot_number.data, form.expiry_date.data, form.quantity.data,
                                    form.unit_cost_fen.data, current_user._get_current_object(),
                                    form.arrival_temperature.data or None)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(FieldMap(form, drug="drug_id"))
        else:
            db.session.commit()
            if lot.status == LotStatus.QUARANTINED:
                flash(_("Received, but lot %(lot)s is quarantined: the arrival temperature was outside "
                        "2–8 °C. It cannot be sold until assessed.", lot=lot.lot_number), "warning")
            else:
                flash(_("Received into lot %(lot)s.", lot=lot.lot_number), "success")
            return redirect(url_for("stock.lot", lot_id=lot.id), code=303)
    return render_template("stock/receive.html", store=shop, form=form), 400 if form.errors else 200


class FieldMap:
    """The services name fields as they know them (drug, expiry_date, quantity…); map those onto the form."""

    def __init__(self, form, **names):
        self.form, self.names = form, names

    def __getattr__(self, name):
        return getattr(self.form, self.names.get(name, name), None)


def _lot_page(lot: StockLot, code: int = 200, **forms):
    return render_template(
        "stock/lot.html", lot=lot, movements=queries.ledger(lot), today=lot.store.today(),
        count_form=forms.get("count_form") or CountForm(formdata=None),
        adjust_form=forms.get("adjust_form") or AdjustForm(formdata=None),
        write_off_form=forms.get("write_off_form") or WriteOffForm(formdata=None)), code


@bp.route("/lots/<int:lot_id>")
@roles_required(*STAFF)
def lot(lot_id: int):
    return _lot_page(load_lot(lot_id))


def _change(lot_id: int, form_class, name: str, verb, success: str, **names):
    lot = load_lot(lot_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            verb(lot, form, current_user._get_current_object())
        except DomainError as error:
            db.session.rollback()
            error.apply_to(FieldMap(form, **names))
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for("stock.lot", lot_id=lot_id), code=303)
    return _lot_page(db.session.get(StockLot, lot_id), 400, **{name: form})


@bp.route("/lots/<int:lot_id>/count", methods=["POST"])
@roles_required(*STAFF)
def count(lot_id: int):
    return _change(lot_id, CountForm, "count_form",
                   lambda lot, form, user: inventory.record_count(lot, form.counted.data, user,
                                                                  form.note.data),
                   _("Count recorded."))


@bp.route("/lots/<int:lot_id>/adjust", methods=["POST"])
@roles_required(*STAFF)
def adjust(lot_id: int):
    return _change(lot_id, AdjustForm, "adjust_form",
                   lambda lot, form, user: inventory.adjust(lot, form.change.data, form.reason.data, user,
                                                            form.note.data),
                   _("Adjustment recorded."), quantity="change")


@bp.route("/lots/<int:lot_id>/write-off", methods=["POST"])
@roles_required(*STAFF)
def write_off(lot_id: int):
    return _change(lot_id, WriteOffForm, "write_off_form",
                   lambda lot, form, user: inventory.write_off(lot, form.quantity.data, form.reason.data,
                                                               user, form.note.data),
                   _("Written off."))
