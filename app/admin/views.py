"""Admin pages: dashboard, users (staff creation, activation, doctor verification) and stores."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.accounts.phones import mask
from app.adherence import distribution as adherence_distribution
from app.adherence.labels import atc_subgroup
from app.admin import bp
from app.admin.forms import ConfirmForm, StaffForm
from app.audit.services import record, record_read
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.inventory.models import Store
from app.labels import DEPARTMENTS
from app.notifications.models import OutboundSms, SmsStatus
from app.outbox.models import OutboxEvent, OutboxStatus
from app.pagination import Sort, paginate
from app.patients import queries as patients
from app.policy import patient_data, roles_required
from app.sms.phone_views import phone_page_available

PAGE_SIZE = 50
NEWEST_FIRST = Sort([User.id], [int], descending=True)


def _store_choices():
    stores = db.session.scalars(select(Store).where(Store.is_active).order_by(Store.code)).all()
    lang = current_language()
    return [SelectChoice(0, "—")] + [
        SelectChoice(s.id, f"{s.code} · {s.display_name(lang)}") for s in stores
    ]


def _department_choices():
    lang = current_language()
    return [SelectChoice("", "—")] + [SelectChoice(name.en, name.zh if lang == "zh" else name.en)
                                      for name in DEPARTMENTS]


@bp.route("/")
@roles_required(Role.ADMIN)
def dashboard():
    users_by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    sms_by_status = dict(
        db.session.execute(select(OutboundSms.status, func.count()).group_by(OutboundSms.status)).all()
    )
    store_count = db.session.scalar(select(func.count()).select_from(Store))
    platform_by_status = dict(
        db.session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all())
    # Counts of patient–drug pairs only, never a patient: two statements however many there are.
    adherence = adherence_distribution.distribution()
    return render_template("admin/dashboard.html", users_by_role=users_by_role, roles=list(Role),
                           sms_by_status=sms_by_status, sms_statuses=list(SmsStatus),
                           store_count=store_count, adherence=adherence, atc_subgroup=atc_subgroup,
                           sms_phone_page=phone_page_available(), platform_by_status=platform_by_status,
                           platform_statuses=list(OutboxStatus))


@bp.route("/users")
@roles_required(Role.ADMIN)
@patient_data
def users():
    role = request.args.get("role", "")
    role = role if role in {r.value for r in Role} else ""
    query = request.args.get("q", "").strip()[:100]
    after = request.args.get("after", "")
    # Plain rows of what the list prints: whole accounts (password hash, times, settings) as ORM objects
    # cost more than the rows' printing.
    statement = select(User.id, User.display_name, User.role, User.email, User.phone, User.is_active)
    if role:
        statement = statement.where(User.role == Role(role))
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.display_name).like(like),
                                        User.email.like(like), User.phone.like(f"%{query}%")))
    # Newest accounts first; the id is the cursor (ix_users_role_id serves the role filter).
    page = paginate(statement, NEWEST_FIRST, after=after, size=PAGE_SIZE, key=lambda user: (user.id,),
                    entities=False)
    # The list names patients: one row for the page (who was listed, and the search that found them).
    listed = ",".join(str(u.id) for u in page.rows) or "-"
    record_read("admin.users_listed", object_type="users",
                detail=f"role={role or '-'}; users={listed}; q={query}")
    body = render_template("admin/users.html", users=page.rows, page=page, after=after, role=role,
                           q=query, roles=list(Role), mask=mask)
    db.session.commit()
    return body


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_staff():
    form = StaffForm()
    form.home_store_id.choices = _store_choices()
    form.department.choices = _department_choices()
    if form.validate_on_submit():
        store = db.session.get(Store, form.home_store_id.data) if form.home_store_id.data else None
        try:
            user = accounts.create_staff(
                role=form.role.data, email=form.email.data, phone=form.phone.data,
                password=form.password.data, display_name=form.display_name.data,
                locale=form.locale.data, licence_number=form.licence_number.data,
                department=form.department.data, home_store=store)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            # gettext, not _l: a lazy string is Markup to Jinja, so the typed name would not be escaped.
            flash(_("Staff account created for %(name)s.", name=user.display_name), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/new_staff.html", form=form)


@bp.route("/users/<int:user_id>")
@roles_required(Role.ADMIN)
@patient_data
def user_detail(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    patient_record = None
    if user.role == Role.PATIENT:
        record("patient.account.viewed", obj=user, patient=user)
        patient_record = {"conditions": patients.patient_conditions(user),
                          "allergies": patients.active_allergies(user)}
    else:
        record("account.viewed", obj=user)
    db.session.commit()
    return render_template("admin/user_detail.html", user=user, form=ConfirmForm(), mask=mask,
                           patient_record=patient_record)


def _active_admin_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.is_active)
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def toggle_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if user.role == Role.ADMIN and user.is_active and _active_admin_count() <= 1:
        flash(_("The last active admin cannot be deactivated."), "danger")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    accounts.set_active(user, not user.is_active)
    db.session.commit()
    flash(_("Account activated.") if user.is_active else _("Account deactivated."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/verify-doctor", methods=["POST"])
@roles_required(Role.ADMIN)
def verify_doctor(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    try:
        accounts.verify_doctor(user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(_("The doctor's licence is marked as verified."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/stores")
@roles_required(Role.ADMIN)
def stores():
    rows = db.session.scalars(select(Store).order_by(Store.code)).all()
    return render_template("admin/stores.html", stores=rows)
