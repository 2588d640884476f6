"""Admin pages for the chain's stores: list, create, edit (activation is a field of the edit form)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.admin import bp
from app.admin.forms import StoreForm
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.inventory.models import Store
from app.inventory.store_admin import save_store
from app.labels import CITIES
from app.patients.identity import time_zone_choices
from app.policy import roles_required


def _form(store: Store | None = None) -> StoreForm:
    form = StoreForm(obj=store)
    if store is not None and not form.is_submitted():
        form.service_cities.data = "\n".join(area.city for area in store.service_cities)
    if store is None and not form.is_submitted():
        form.time_zone.data = "Asia/Shanghai"
    # The zones in use first, under the names people use, then the rest (as on the patient's profile).
    form.time_zone.choices = time_zone_choices(current_language())
    return form


def _save(store: Store | None, form: StoreForm):
    """One transaction; None on success, else the form carries the reasons."""
    try:
        saved = save_store(store, form.data, current_user._get_current_object())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        error.apply_to(form)
        return None
    except IntegrityError:  # two admins saving the same new code at the same moment
        db.session.rollback()
        form.code.errors = [*form.code.errors, _("Another store already has this code.")]
        return None
    return saved


@bp.route("/stores/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_store():
    form = _form()
    if form.validate_on_submit() and (store := _save(None, form)) is not None:
        flash(_("Store %(code)s created.", code=store.code), "success")
        return redirect(url_for("admin.stores"), code=303)
    return (render_template("admin/store_form.html", form=form, store=None, known_cities=CITIES),
            400 if form.errors else 200)


@bp.route("/stores/<int:store_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_store(store_id: int):
    store = db.session.get(Store, store_id) or abort(404)
    form = _form(store)
    if form.validate_on_submit() and (saved := _save(store, form)) is not None:
        flash(_("Store %(code)s saved.", code=saved.code), "success")
        return redirect(url_for("admin.stores"), code=303)
    db.session.rollback()  # a refused edit must not linger on the object the page shows
    store = db.session.get(Store, store_id)
    return (render_template("admin/store_form.html", form=form, store=store, known_cities=CITIES),
            400 if form.errors else 200)
