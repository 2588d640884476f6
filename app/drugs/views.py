"""Catalogue pages: search for prescribers and pharmacists; create, edit, import, export for admins."""

# Doctors and pharmacists may search and read the catalogue (strength, cold chain, delivery and
# online-prescribing flags and the maximum daily dose are what they check against); only operations
# admins change it, because prices and flags drive billing and the automatic checks. Nothing here
# is patient data, so reads are not audited; every change is.

from datetime import date

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import Role
from app.drugs import bp, labels, services
from app.drugs.catalogue import write_csv
from app.drugs.forms import DrugForm, ImportForm, StatusForm, price_problem
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.limits import PAGE
from app.number_fields import arg_int
from app.policy import roles_required

PAGE_SIZE = 50
SEARCH_LIMIT = 20
MAX_IMPORT_BYTES = 2 * 1024 * 1024
READERS = (Role.ADMIN, Role.DOCTOR, Role.PHARMACIST)


def _flag(name: str) -> bool:
    return request.args.get(name) == "1"


@bp.route("/")
@roles_required(*READERS)
def index():
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "active")
    active = {"active": True, "inactive": False}.get(status)
    page = arg_int("page", PAGE, 1)
    filters = {name: _flag(name) for name in ("cold_chain", "controlled", "not_deliverable")}
    statement = services.search(query, active=active, **filters).options(selectinload(Drug.ingredients))
    rows = db.session.scalars(statement.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page_args = dict(q=query, status=status, **{name: 1 for name, on in filters.items() if on})
    return render_template("drugs/index.html", drugs=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE,
                           page=page, q=query, status=status, filters=filters, total=total,
                           page_args=page_args, language=current_language(),
                           can_edit=current_user.role == Role.ADMIN)


@bp.route("/<int:drug_id>")
@roles_required(*READERS)
def detail(drug_id: int):
    drug = db.session.get(Drug, drug_id) or abort(404)
    return render_template("drugs/detail.html", drug=drug, form=StatusForm(),
                           can_edit=current_user.role == Role.ADMIN)


def _concurrent_change() -> None:
    """Two admins saving the same new code (or product code) at once: the unique index refused the second."""
    db.session.rollback()
    flash(_("Someone else changed the catalogue at the same time. Nothing was saved; please try again."),
          "danger")


def _form_errors(form: DrugForm, error: DomainError) -> None:
    """The row parser names the price column price_fen; the form asks for yuan."""
    reasons = dict(error.reasons)
    if "price_fen" in reasons:
        reasons.pop("price_fen")
        reasons["price_yuan"] = price_problem(form.price_yuan.data)
    DomainError(reasons).apply_to(form)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new():
    form = DrugForm()
    if form.validate_on_submit():
        try:
            drug = services.create_drug(form.as_row())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            _form_errors(form, error)
        except IntegrityError:
            _concurrent_change()
        else:
            flash(_("%(name)s was added to the catalogue.", name=drug.generic_name(current_language())),
                  "success")
            return redirect(url_for("drugs.detail", drug_id=drug.id))
    return render_template("drugs/form.html", form=form, drug=None)


@bp.route("/<int:drug_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(drug_id: int):
    drug = db.session.get(Drug, drug_id) or abort(404)
    form = DrugForm()
    del form.code  # the import key never changes
    if request.method == "GET":
        form.fill_from(drug)
    if form.validate_on_submit():
        try:
            changed = services.update_drug(drug, form.as_row())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            _form_errors(form, error)
        except IntegrityError:  # another admin gave the same product code to another drug meanwhile
            _concurrent_change()
        else:
            flash(_("Changes saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("drugs.detail", drug_id=drug.id))
    return render_template("drugs/form.html", form=form, drug=drug)


@bp.route("/<int:drug_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def toggle_active(drug_id: int):
    drug = db.session.get(Drug, drug_id) or abort(404)
    if StatusForm().validate_on_submit():
        services.set_active(drug, not drug.is_active)
        db.session.commit()
        flash(_("The drug can be prescribed and dispensed again.") if drug.is_active
              else _("The drug is deactivated: it can no longer be prescribed; its history is kept."),
              "success")
    return redirect(url_for("drugs.detail", drug_id=drug.id))


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_csv():
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        try:
            if len(data) > MAX_IMPORT_BYTES:
                raise DomainError({"file": _("The file is larger than %(mb)d MB.", mb=2)})
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DomainError({"file": _("Save the file as UTF-8 CSV and try again.")}) from None
            summary = services.load_csv_text(text)
            db.session.commit()
        except IntegrityError:
            _concurrent_change()
        except services.CatalogueError as error:
            db.session.rollback()
            problems = error.problems
            error.apply_to(form)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("Import finished: %(created)d added, %(updated)d changed, %(unchanged)d unchanged.",
                    created=len(summary.created), updated=len(summary.updated),
                    unchanged=summary.unchanged), "success")
            return redirect(url_for("drugs.index", status="all"))
    return render_template("drugs/import.html", form=form, problems=problems)


@bp.route("/export.csv")
@roles_required(Role.ADMIN)
def export_csv():
    drugs = db.session.scalars(select(Drug).order_by(Drug.code).options(selectinload(Drug.ingredients)))
    # A BOM so that spreadsheet programs open the Chinese names as UTF-8.
    body = "\ufeff" + write_csv(drugs)
    filename = f"drug-catalogue-{date.today().isoformat()}.csv"
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/search.json")
@roles_required(*READERS)
def search_json():
    """Active drugs for the prescribing typeahead: names, strength, form and the flags checks use."""
    query = request.args.get("q", "").strip()[:100]
    drugs = []
    if query:
        statement = services.search(query).options(selectinload(Drug.ingredients)).limit(SEARCH_LIMIT)
        drugs = db.session.scalars(statement).all()
    return jsonify(results=[_as_json(drug) for drug in drugs])


def _as_json(drug: Drug) -> dict:
    return {
        "id": drug.id,
        "code": drug.code,
        "generic_name_en": drug.generic_name_en,
        "generic_name_zh": drug.generic_name_zh,
        "brand_name": drug.brand_name,
        "ingredients": [i.name for i in drug.ingredients],
        "atc_code": drug.atc_code,
        "strength": labels.number(drug.strength),
        "strength_unit": str(drug.strength_unit),
        "dosage_form": str(drug.dosage_form),
        "dosage_form_label": str(labels.DOSAGE_FORMS[drug.dosage_form]),
        "route": str(drug.route),
        "pack": labels.pack(drug),
        "price_fen": drug.price_fen,
        "max_daily_dose": labels.number(drug.max_daily_dose) or None,
        "max_daily_dose_unit": str(drug.max_daily_dose_unit) if drug.max_daily_dose_unit else None,
        "max_daily_dose_text": str(labels.max_dose(drug)),  # as the server-rendered list shows it
        "flags": {
            "cold_chain": drug.is_cold_chain,
            "controlled_class": str(drug.controlled_class),
            "online_prescribable": drug.is_online_prescribable,
            "deliverable": drug.is_deliverable,
            "antimicrobial": drug.is_antimicrobial,
            "weekly_only": drug.is_weekly_only,
        },
    }
