"""Stock pages. A pharmacist works their own store; an admin sees and works every store."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.database import utcnow
from app.extensions import db
from app.i18n import current_language
from app.inventory import quarantine
from app.inventory import services as inventory
from app.inventory.models import LotStatus, StockLot
from app.limits import NEAR_EXPIRY_DAYS
from app.number_fields import arg_int
from app.policy import roles_required
from app.stock import bp, queries
from app.stock.forms import AdjustForm, AssessForm, CountForm, ReceiveForm, WriteOffForm
from app.stock.pages import STAFF, FieldMap, drug_choices, form_id, load_lot, load_store, visible_stores
from app.transaction import perform


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
    return render_template("stock/dashboard.html", summary=queries.chain_summary(utcnow()),
                           language=current_language())


@bp.route("/stores/<int:store_id>")
@roles_required(*STAFF)
def store(store_id: int):
    shop = load_store(store_id)
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    status = status if status in set(LotStatus) else ""
    near = arg_int("near_expiry", NEAR_EXPIRY_DAYS)
    near = near if near in queries.NEAR_EXPIRY_CHOICES else None
    cold = request.args.get("cold_chain") == "1"
    after = request.args.get("after", "")
    today = shop.today()
    filters = dict(query=query, status=status, near_expiry_days=near, cold_chain=cold)
    lots = queries.store_lots(shop, after=after, **filters)
    return render_template("stock/store.html", store=shop, lots=lots.rows, page=lots, after=after, q=query,
                           status=status, near=near, cold=cold, statuses=list(LotStatus), today=today,
                           totals=queries.state_totals(shop, today, **filters),
                           near_choices=queries.NEAR_EXPIRY_CHOICES, language=current_language())


@bp.route("/near-expiry")
@roles_required(*STAFF)
def near_expiry():
    days = arg_int("days", NEAR_EXPIRY_DAYS)
    days = days if days in queries.NEAR_EXPIRY_CHOICES else 90
    after = request.args.get("after", "")
    # An admin's report covers the whole chain; a pharmacist's their own store.
    stores = None if current_user.role == Role.ADMIN else visible_stores()
    lots = queries.near_expiry(days, stores, after=after)
    return render_template("stock/near_expiry.html", days=days, choices=queries.NEAR_EXPIRY_CHOICES,
                           lots=lots.rows, page=lots, after=after, statuses=list(LotStatus),
                           language=current_language())


@bp.route("/stores/<int:store_id>/receive", methods=["GET", "POST"])
@roles_required(*STAFF)
def receive(store_id: int):
    shop = load_store(store_id)
    form = ReceiveForm()
    form.drug_id.choices = drug_choices()
    received = []
    if form.validate_on_submit() and perform(
            lambda: received.append(inventory.receive(
                shop, form_id(form.drug_id.data), form.lot_number.data, form.expiry_date.data,
                form.quantity.data, form.unit_cost_fen, current_user._get_current_object(),
                form.arrival_temperature.data or None)),
            form=FieldMap(form, drug="drug_id", unit_cost_fen="unit_cost")):
        (lot,) = received
        if lot.status == LotStatus.QUARANTINED:
            flash(_("Received, but lot %(lot)s is quarantined: the arrival temperature was outside "
                    "2–8 °C. It cannot be sold until assessed.", lot=lot.lot_number), "warning")
        else:
            flash(_("Received into lot %(lot)s.", lot=lot.lot_number), "success")
        return redirect(url_for("stock.lot", lot_id=lot.id), code=303)
    return render_template("stock/receive.html", store=shop, form=form), 400 if form.errors else 200


def _lot_page(lot: StockLot, code: int = 200, **forms):
    return render_template(
        "stock/lot.html", lot=lot, movements=queries.ledger(lot), today=lot.store.today(),
        may_assess=quarantine.may_assess(current_user, lot),
        assess_form=forms.get("assess_form") or AssessForm(formdata=None),
        count_form=forms.get("count_form") or CountForm(formdata=None),
        adjust_form=forms.get("adjust_form") or AdjustForm(formdata=None),
        write_off_form=forms.get("write_off_form") or WriteOffForm(formdata=None)), code


@bp.route("/lots/<int:lot_id>")
@roles_required(*STAFF)
def lot(lot_id: int):
    return _lot_page(load_lot(lot_id))


def _lot_action(lot_id: int, form, name: str, verb, success: str, **names):
    """Post one change of a lot: back to the lot on success, else the lot page with the form's errors."""
    lot = load_lot(lot_id)
    user = current_user._get_current_object()
    if form.validate_on_submit() and perform(lambda: verb(lot, user), success=success,
                                             form=FieldMap(form, **names)):
        return redirect(url_for("stock.lot", lot_id=lot_id), code=303)
    return _lot_page(db.session.get(StockLot, lot_id), 400, **{name: form})


@bp.route("/lots/<int:lot_id>/count", methods=["POST"])
@roles_required(*STAFF)
def count(lot_id: int):
    form = CountForm()
    return _lot_action(lot_id, form, "count_form",
                       lambda lot, user: inventory.record_count(lot, form.counted.data, user, form.note.data),
                       _("Count recorded."))


@bp.route("/lots/<int:lot_id>/adjust", methods=["POST"])
@roles_required(*STAFF)
def adjust(lot_id: int):
    form = AdjustForm()
    return _lot_action(lot_id, form, "adjust_form",
                       lambda lot, user: inventory.adjust(lot, form.change.data, form.reason.data, user,
                                                          form.note.data),
                       _("Adjustment recorded."), quantity="change")


@bp.route("/lots/<int:lot_id>/write-off", methods=["POST"])
@roles_required(*STAFF)
def write_off(lot_id: int):
    form = WriteOffForm()
    return _lot_action(lot_id, form, "write_off_form",
                       lambda lot, user: inventory.write_off(lot, form.quantity.data, form.reason.data, user,
                                                             form.note.data),
                       _("Written off."))


@bp.route("/lots/<int:lot_id>/assess", methods=["POST"])
@roles_required(Role.PHARMACIST)  # an admin sees the lot; a pharmacist of its store decides
def assess(lot_id: int):
    form = AssessForm()
    success = (_("Lot released: it can be sold again.") if form.decision.data == quarantine.Decision.RELEASE
               else _("Lot rejected: every pack is written off."))
    return _lot_action(lot_id, form, "assess_form",
                       lambda lot, user: quarantine.assess(lot, form.decision.data, form.reason.data, user),
                       success)
