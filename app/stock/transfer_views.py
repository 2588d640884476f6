"""Transfer and recall pages. A pharmacist works transfers of their own store (sending or receiving);
an admin every transfer, and recalls lots chain-wide."""

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from app.accounts.models import Role
from app.audit.services import record, record_many
from app.extensions import db
from app.i18n import current_language
from app.inventory import queries as stock_queries
from app.inventory import recall as recalls
from app.inventory import reorder as reorder_points
from app.inventory import transfers
from app.inventory.models import LotRecall, ReorderPoint, StockLot, StockTransfer, Store, TransferStatus
from app.inventory.rules import TRANSFER_MIN_SHELF_DAYS
from app.pagination import Sort, paginate
from app.policy import patient_data, roles_required
from app.stock import bp
from app.stock.forms import (
    RecallForm,
    ReorderPointForm,
    TransferReceiveForm,
    TransferRequestForm,
    TransferStepForm,
)
from app.stock.pages import STAFF, FieldMap, drug_choices, form_id, home_store_id, load_store
from app.transaction import perform

T = TransferStatus
PAGE_SIZE = 50
# Newest first, the id breaking ties (ix_stock_transfers_requested, ix_lot_recalls_recalled).
TRANSFERS_NEWEST_FIRST = Sort([StockTransfer.requested_at, StockTransfer.id], [datetime, int],
                              descending=True)
RECALLS_NEWEST_FIRST = Sort([LotRecall.recalled_at, LotRecall.id], [datetime, int], descending=True)
# Which side of a transfer may take each step (an admin may take every step).
STEPS = {"pick": ("from", (T.REQUESTED,)), "ship": ("from", (T.PICKED,)),
         "receive": ("to", (T.SHIPPED,)), "lost": ("either", (T.SHIPPED,)),
         "cancel": ("either", (T.REQUESTED, T.PICKED))}


@dataclass(frozen=True)
class RecipientRead:
    """A recall's page naming one patient, in the shape record_many writes (the recall and the patient)."""

    __tablename__ = "lot_recalls"
    id: int
    patient_id: int


def _sides(transfer: StockTransfer) -> set[str]:
    if current_user.role == Role.ADMIN:
        return {"from", "to", "either"}
    home = home_store_id()
    sides = {side for side, store_id in (("from", transfer.from_store_id), ("to", transfer.to_store_id))
             if store_id == home}
    return sides | ({"either"} if sides else set())


def load_transfer(transfer_id: int) -> StockTransfer:
    transfer = db.session.get(StockTransfer, transfer_id)
    if transfer is None or not _sides(transfer):
        abort(404)
    return transfer


def allowed_steps(transfer: StockTransfer) -> list[str]:
    sides = _sides(transfer)
    return [step for step, (side, statuses) in STEPS.items() if side in sides and transfer.status in statuses]


@bp.route("/transfers")
@roles_required(*STAFF)
def transfers_list():
    statement = (select(StockTransfer)
                 .options(joinedload(StockTransfer.from_store), joinedload(StockTransfer.to_store),
                          joinedload(StockTransfer.drug)))
    if current_user.role != Role.ADMIN:
        home = home_store_id() or 0
        statement = statement.where(or_(StockTransfer.from_store_id == home,
                                        StockTransfer.to_store_id == home))
    status = request.args.get("status", "")
    status = status if status in set(T) else ""
    if status:
        statement = statement.where(StockTransfer.status == status)
    after = request.args.get("after", "")
    page = paginate(statement, TRANSFERS_NEWEST_FIRST, after=after, size=PAGE_SIZE,
                    key=lambda t: (t.requested_at, t.id))
    return render_template("stock/transfers.html", transfers=page.rows, page=page, after=after,
                           status=status, statuses=list(T), language=current_language())


def _store_choices(stores) -> list[SelectChoice]:
    language = current_language()
    return [SelectChoice("", "—")] + [SelectChoice(str(s.id), f"{s.code} · {s.display_name(language)}")
                                      for s in stores]


@bp.route("/transfers/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_transfer():
    active = list(db.session.scalars(select(Store).where(Store.is_active).order_by(Store.code)))
    form = TransferRequestForm(drug_id=request.args.get("drug_id", ""),
                               from_store_id=request.args.get("from_store_id", ""))
    form.from_store_id.choices = _store_choices(active)
    form.drug_id.choices = drug_choices()
    if current_user.role == Role.ADMIN:
        form.to_store_id.choices = _store_choices(active)
    else:  # a pharmacist asks for stock for their own store
        home = db.session.get(Store, home_store_id() or 0) or abort(404)
        form.to_store_id.choices = _store_choices([home])
        form.to_store_id.data = str(home.id)
    created = []
    if form.validate_on_submit() and perform(
            lambda: created.append(transfers.request_transfer(
                form_id(form.from_store_id.data), form_id(form.to_store_id.data), form_id(form.drug_id.data),
                form.packs.data, current_user._get_current_object(), note=form.note.data,
                within_free_stock=True)),
            success=_("Transfer requested."),
            form=FieldMap(form, from_store="from_store_id", to_store="to_store_id", drug="drug_id")):
        return redirect(url_for("stock.transfer", transfer_id=created[0].id), code=303)
    drug_id = form_id(form.drug_id.data)
    free = stock_queries.free_to_send(drug_id, active) if drug_id else {}
    return render_template("stock/transfer_new.html", form=form, stores=active, free=free, drug_id=drug_id,
                           shelf_days=TRANSFER_MIN_SHELF_DAYS, language=current_language()), \
        400 if form.errors else 200


def _transfer_page(transfer: StockTransfer, code: int = 200, receive_form=None, step_form=None):
    free = None
    if transfer.status == T.REQUESTED:  # what the pick could take now, so the sender sees it before picking
        sender = transfer.from_store
        free = stock_queries.free_to_send(transfer.drug_id, [sender]).get(sender.id, 0)
    return render_template("stock/transfer.html", transfer=transfer, steps=allowed_steps(transfer), free=free,
                           receive_form=receive_form or TransferReceiveForm(formdata=None),
                           step_form=step_form or TransferStepForm(formdata=None),
                           language=current_language()), code


@bp.route("/transfers/<int:transfer_id>")
@roles_required(*STAFF)
def transfer(transfer_id: int):
    return _transfer_page(load_transfer(transfer_id))


def _success(step: str) -> str:
    return {"pick": lambda: _("Lots picked and reserved for the transfer."),
            "ship": lambda: _("Shipped: the stock is in transit."),
            "lost": lambda: _("The transfer is recorded as lost."),
            "cancel": lambda: _("Transfer cancelled.")}[step]()


@bp.route("/transfers/<int:transfer_id>/pick", methods=["POST"], defaults={"step": "pick"},
          endpoint="transfer_pick")
@bp.route("/transfers/<int:transfer_id>/ship", methods=["POST"], defaults={"step": "ship"},
          endpoint="transfer_ship")
@bp.route("/transfers/<int:transfer_id>/lost", methods=["POST"], defaults={"step": "lost"},
          endpoint="transfer_lost")
@bp.route("/transfers/<int:transfer_id>/cancel", methods=["POST"], defaults={"step": "cancel"},
          endpoint="transfer_cancel")
@roles_required(*STAFF)
def transfer_step(transfer_id: int, step: str):
    transfer = load_transfer(transfer_id)
    form = TransferStepForm()
    if step not in allowed_steps(transfer):
        abort(403)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        verbs = {"pick": lambda: transfers.pick(transfer, user),
                 "ship": lambda: transfers.ship(transfer, user),
                 "lost": lambda: transfers.mark_lost(transfer, user, form.note.data),
                 "cancel": lambda: transfers.cancel_transfer(transfer, user, form.note.data)}
        if perform(verbs[step], success=_success(step), form=form):
            return redirect(url_for("stock.transfer", transfer_id=transfer_id), code=303)
    return _transfer_page(db.session.get(StockTransfer, transfer_id), 400, step_form=form)


@bp.route("/transfers/<int:transfer_id>/receive", methods=["POST"])
@roles_required(*STAFF)
def transfer_receive(transfer_id: int):
    transfer = load_transfer(transfer_id)
    if "receive" not in allowed_steps(transfer):
        abort(403)
    form = TransferReceiveForm()
    if form.validate_on_submit():
        received = {line.lot_number: request.form.get(f"received_{line.id}", "") for line in transfer.lines}
        # A per-lot reason (received_<line>) has no form field: it is flashed.
        if perform(lambda: transfers.receive_transfer(
                transfer, current_user._get_current_object(), received=received,
                temperature=form.temperature.data or None, note=form.note.data),
                success=_("Transfer received."), form=form):
            return redirect(url_for("stock.transfer", transfer_id=transfer_id), code=303)
    return _transfer_page(db.session.get(StockTransfer, transfer_id), 400, receive_form=form)


# ---- recalls (admins) ---------------------------------------------------------------------------

@bp.route("/recalls", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def recalls_page():
    form = RecallForm()
    form.drug_id.choices = drug_choices()
    made = []
    if form.validate_on_submit() and perform(
            lambda: made.append(recalls.recall_lot(form_id(form.drug_id.data), form.lot_number.data,
                                                   current_user._get_current_object(), form.reason.data)),
            form=FieldMap(form, drug="drug_id")):
        flash(_("Lot %(lot)s is recalled in every store.", lot=made[0].lot_number), "success")
        return redirect(url_for("stock.recall", recall_id=made[0].id), code=303)
    after = request.args.get("after", "")
    page = paginate(select(LotRecall).options(joinedload(LotRecall.drug)), RECALLS_NEWEST_FIRST, after=after,
                    size=PAGE_SIZE, key=lambda r: (r.recalled_at, r.id))
    return render_template("stock/recalls.html", form=form, recalls=page.rows, page=page,
                           after=after), 400 if form.errors else 200


@bp.route("/recalls/<int:recall_id>")
@roles_required(Role.ADMIN)
@patient_data
def recall(recall_id: int):
    """The recalled lot in every store and every patient who received it, ready to be notified."""
    found = db.session.get(LotRecall, recall_id) or abort(404)
    lots = db.session.scalars(select(StockLot).where(StockLot.drug_id == found.drug_id,
                                                     StockLot.lot_number == found.lot_number)
                              .order_by(StockLot.store_id)).all()
    recipients = recalls.patients_who_received(found.drug_id, found.lot_number)
    if recipients:  # the list names patients: one audit row each, all in one INSERT
        record_many("recall.recipients_viewed", [RecipientRead(found.id, r.patient.id) for r in recipients])
    else:
        record("recall.recipients_viewed", obj=found)
    db.session.commit()
    return render_template("stock/recall.html", recall=found, lots=lots, recipients=recipients,
                           language=current_language())


# ---- reorder points and low stock ---------------------------------------------------------------

@bp.route("/stores/<int:store_id>/reorder", methods=["GET", "POST"])
@roles_required(*STAFF)
def reorder(store_id: int):
    """Low stock at a store with a suggested transfer (from the store with most surplus) or purchase."""
    store = load_store(store_id)
    form = ReorderPointForm()
    form.drug_id.choices = drug_choices()
    if form.validate_on_submit() and perform(
            lambda: reorder_points.set_reorder_point(
                store, form_id(form.drug_id.data), form.min_packs.data, form.target_packs.data,
                current_user._get_current_object()),
            success=_("Reorder point saved."), form=FieldMap(form, drug="drug_id")):
        return redirect(url_for("stock.reorder", store_id=store.id), code=303)
    points = db.session.scalars(select(ReorderPoint).where(ReorderPoint.store_id == store.id)
                                .order_by(ReorderPoint.id)).all()
    return render_template("stock/reorder.html", store=store, form=form, points=points,
                           low=reorder_points.low_stock(store), language=current_language()), \
        400 if form.errors else 200
