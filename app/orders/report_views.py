"""The order reports page and its CSV files: an admin's whole chain or one store, a pharmacist's own."""

import csv
import io

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app import numbers
from app.accounts.models import Role
from app.audit.services import record_read
from app.database import utcnow
from app.drugs import labels as drug_labels
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.inventory.models import Store
from app.orders import bp, reports
from app.policy import roles_required
from app.prescribing.services import local_date
from app.text import csv_cell

STEPS = {reports.APPROVED_TO_DISPENSED: _l("Approved → dispensed"),
         reports.DISPENSED_TO_HANDED_OVER: _l("Dispensed → handed over")}
RESOLUTIONS = {"replaced": _l("Replaced"), "refunded": _l("Refunded")}
SECTIONS = ("orders", "times", "excursions", "refunds")


def _scope() -> tuple[list[Store], Store | None]:
    """(the stores the picker offers, the store chosen or None for the whole chain). A pharmacist's report
    is their home store's; another store, or no store to work in, is a 404 like the stock pages."""
    asked = request.args.get("store", "").strip()
    if current_user.role == Role.ADMIN:
        stores = list(db.session.scalars(select(Store).order_by(Store.code)))
        if not asked:
            return stores, None
        wanted = numbers.id_or_none(asked)
        chosen = next((store for store in stores if store.id == wanted), None)
        if chosen is None:
            abort(404)
        return stores, chosen
    profile = current_user.pharmacist_profile
    home = db.session.get(Store, profile.home_store_id) if profile and profile.home_store_id else None
    if home is None or (asked and numbers.id_or_none(asked) != home.id):
        abort(404)
    return [home], home


def _window(chosen: Store | None) -> reports.Period:
    """The period from the query string; days end at the chosen store's midnight, or the chain's."""
    today = chosen.today() if chosen else local_date(utcnow())
    return reports.period(request.args.get("from"), request.args.get("to"), today)


def _names(stores: list[Store]) -> dict[int, tuple[str, str]]:
    """Each store's code and name in the reader's language, looked up once for every row."""
    language = current_language()
    return {store.id: (store.code, store.display_name(language)) for store in stores}


def _audit(chosen: Store | None, window: reports.Period, what: str) -> None:
    # Aggregates and order numbers only, no patient: one row says who looked at which store's figures.
    record_read("order.reports_viewed", object_type="stores",
                detail=f"store={chosen.code if chosen else 'all'}; {window.first}..{window.last}; {what}")


@bp.route("/reports", endpoint="reports")
@roles_required(Role.ADMIN, Role.PHARMACIST)
def reports_page():
    stores, chosen = _scope()
    context = dict(stores=stores, chosen=chosen, names=_names(stores), steps=STEPS, resolutions=RESOLUTIONS,
                   typed={name: request.args.get(name, "")[:20] for name in ("from", "to")},
                   max_days=reports.MAX_DAYS, is_admin=current_user.role == Role.ADMIN)
    try:
        window = _window(chosen)
    except DomainError as error:
        return render_template("orders/reports.html", report=None, errors=error.reasons, **context), 400
    report = reports.report([chosen] if chosen else stores, window, chain=chosen is None)
    _audit(chosen, window, "page")
    page = render_template("orders/reports.html", report=report, errors={}, **context)
    db.session.commit()
    return page


def _yuan(fen: int) -> str:
    """Money for a spreadsheet: yuan with two decimals and no symbol."""
    return f"{fen // 100}.{fen % 100:02d}"


def _drug(drug) -> str:
    language = current_language()
    name = drug.generic_name_zh if language == "zh" else drug.generic_name_en
    return f"{name} {drug_labels.strength(drug, language)}"


def _state(excursion: reports.Excursion) -> str:
    if excursion.resolved_at is None:
        return _("Open")
    return str(RESOLUTIONS.get(excursion.resolution, excursion.resolution))


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _rows(section: str, stores: list[Store], chosen: Store | None, window: reports.Period) -> list[list]:
    covered, chain, names = [chosen] if chosen else stores, chosen is None, _names(stores)
    if section == "orders":
        header = [_("Day"), _("Store code"), _("Store"), _("Orders placed"), _("Paid"), _("Dispensed"),
                  _("Handed over or delivered"), _("Cancelled"), _("Refunded"), _("Paid value (yuan)")]
        return [header] + [[row.day.isoformat(), *names[row.store_id], row.placed, row.paid, row.dispensed,
                            row.handed_over, row.cancelled, row.refunded, _yuan(row.paid_fen)]
                           for row in reports.orders_per_day(covered, window, chain=chain)]
    if section == "times":
        header = [_("Store code"), _("Store"), _("Step"), _("Orders"), _("Median (hours)"),
                  _("90th percentile (hours)")]
        chain_name, found = ("", _("All stores")), reports.times(covered, window, chain=chain)
        return [header] + [[*names.get(store_id, chain_name), str(STEPS[step]), line.count,
                            _hours(line.median), _hours(line.p90)]
                           for store_id, by_step in sorted(found.items())
                           for step, line in sorted(by_step.items())]
    if section == "excursions":
        header = [_("Day"), _("Store code"), _("Store"), _("Order"), _("Drug"), _("Lot number"), _("Packs"),
                  _("Temperature (°C)"), _("Resolution"), _("Resolved at (UTC)")]
        shown, _total = reports.excursions(covered, window, chain=chain, limit=None)
        return [header] + [[row.day.isoformat(), *names[row.store_id], row.order_id, _drug(row.drug),
                            row.lot_number, row.packs, str(row.temperature_c),
                            _state(row), f"{row.resolved_at:%Y-%m-%d %H:%M}" if row.resolved_at else ""]
                           for row in shown]
    header = [_("Day"), _("Store code"), _("Store"), _("Refunds"), _("Refunded (yuan)"),
              _("Cancelled authorizations"), _("Released (yuan)"), _("Not yet carried out")]
    return [header] + [[row.day.isoformat(), *names[row.store_id], row.refunds, _yuan(row.refunded_fen),
                        row.cancels, _yuan(row.cancelled_fen), row.not_done]
                       for row in reports.money_back(covered, window, chain=chain)]


@bp.route("/reports/<section>.csv", endpoint="reports_csv")
@roles_required(Role.ADMIN, Role.PHARMACIST)
def reports_csv(section: str):
    if section not in SECTIONS:
        abort(404)
    stores, chosen = _scope()
    try:
        window = _window(chosen)
    except DomainError as error:
        return Response("\n".join(str(reason) for reason in error.reasons.values()) + "\n", status=400,
                        mimetype="text/plain")
    rows = _rows(section, stores, chosen, window)
    _audit(chosen, window, f"{section}.csv")
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        # Store names and lot numbers are typed by people: none may reach a spreadsheet as a formula.
        writer.writerow([csv_cell(value) if isinstance(value, str) else value for value in row])
    db.session.commit()
    # The store's id, not its code: a header carries ASCII only, and a code is typed by people.
    scope = f"store-{chosen.id}" if chosen else "chain"
    filename = f"orders-{section}-{scope}-{window.first}-{window.last}.csv"
    # A BOM so that spreadsheet programs open the Chinese names as UTF-8.
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
