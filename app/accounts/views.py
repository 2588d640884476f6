"""Account pages: sign in and out, register, verify the phone, reset the password, own profile."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from app.accounts import bp
from app.accounts import services as accounts
from app.accounts.auth import start_session
from app.accounts.forms import (
    CodeForm,
    ForgotPasswordForm,
    LoginForm,
    PhoneForm,
    RegisterForm,
    ResendForm,
    ResetPasswordForm,
)
from app.accounts.models import CodePurpose, Role
from app.accounts.phones import mask
from app.audit.services import record
from app.errors import DomainError
from app.extensions import db, limiter
from app.i18n import current_language
from app.policy import login_required, patient_data, public
from app.security import safe_next
from app.transaction import perform

LOGIN_FAILED = _l("The email/mobile number or password is not correct.")


def _setting(name: str):
    """A limit read from the config when the request comes, so tests and deployments can change it."""
    return lambda: current_app.config[name]


_login_limit = _setting("LOGIN_RATE_LIMIT")


def _identifier_key() -> str:
    return "login:" + (request.form.get("identifier") or "").strip().lower()


def _failed(response) -> bool:
    return response.status_code != 302


def _code_recipient_key() -> str:
    """Whose phone a code would go to: the signed-in account, the account typed on the form, or
    for no account what was typed; the same for every address the requests come from."""
    if request.endpoint in ("accounts.resend_code", "accounts.set_phone"):
        return f"account:{current_user.id}" if current_user.is_authenticated else "anonymous"
    typed = (request.form.get("identifier") or "").strip()[:254]
    user = accounts.find_by_login(typed)
    return f"account:{user.id}" if user is not None else "typed:" + typed.lower()


# Password-reset codes and phone-verification codes share one budget per account.
_code_limit = limiter.shared_limit(_setting("CODE_RATE_LIMIT"), scope="sms-code-per-account",
                                   key_func=_code_recipient_key, methods=["POST"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, key_func=_identifier_key)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.identifier.data, form.password.data)
        db.session.commit()
        if user is not None:
            start_session(user)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors = [LOGIN_FAILED]
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    accounts.sign_out(current_user._get_current_object())
    db.session.commit()
    locale = current_user.locale
    logout_user()
    session.clear()
    session["locale"] = locale
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


def _add_service_reasons(form: RegisterForm) -> None:
    """The form's own checks failed: add the account rules' reasons too, so every field that needs
    fixing says so in this one answer. A field the form already refused is not checked again."""
    def checked(field):
        return None if field.errors else field.data

    problems = accounts.registration_problems(email=checked(form.email), phone=checked(form.phone),
                                              password=checked(form.password) or "")
    if form.email.errors or form.phone.errors:
        problems.pop("email", None)  # "give an email or a phone" would contradict the field's own message
    for name, message in problems.items():
        field = getattr(form, name, None) if name else None
        if field is None:
            flash(str(message), "danger")
        elif not field.errors:
            field.errors = [*field.errors, str(message)]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_setting("REGISTER_RATE_LIMIT"), methods=["POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = current_language()
    submitted = form.is_submitted()
    if submitted and not form.validate():
        _add_service_reasons(form)
    elif submitted:
        created = {}

        def register_patient():
            created["user"] = accounts.register_patient(
                email=form.email.data, phone=form.phone.data, password=form.password.data,
                display_name=form.display_name.data, locale=form.locale.data)

        if perform(register_patient, form=form):
            user = created["user"]
            start_session(user)
            if user.phone:
                flash(_("Welcome! We sent a 6-digit code to %(phone)s.", phone=mask(user.phone)),
                      "success")
                return redirect(url_for("accounts.verify_phone"))
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("accounts/register.html", form=form)


@bp.route("/verify-phone", methods=["GET", "POST"])
@login_required
def verify_phone():
    if not current_user.phone:
        flash(_("Add your mobile number first: we send the code to it."), "info")
        return redirect(url_for("accounts.set_phone", next=safe_next(request.args.get("next"))))
    if current_user.phone_verified_at:
        flash(_("Your mobile number is already verified."), "info")
        return redirect(url_for("accounts.profile"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            accounts.verify_phone(current_user, form.code.data)
        except DomainError as error:
            db.session.commit()  # keep the counted attempt: guesses are limited
            error.apply_to(form)
        else:
            db.session.commit()
            flash(_("Your mobile number is verified."), "success")
            # Back to the step that asked for verification (recording a condition, booking), if any.
            return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/verify_phone.html", form=form, resend=ResendForm(),
                           phone=mask(current_user.phone))


@bp.route("/phone", methods=["GET", "POST"])
@_code_limit
@login_required
def set_phone():
    """Add a mobile number (or correct one that was never verified), then verify it by code."""
    next_page = safe_next(request.args.get("next"))
    if current_user.has_verified_phone:
        flash(_("Your mobile number is already verified."), "info")
        return redirect(url_for("accounts.profile"))
    form = PhoneForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if perform(lambda: accounts.set_phone(user, form.phone.data), form=form):
            flash(_("We sent a code to %(phone)s.", phone=mask(user.phone)), "info")
            return redirect(url_for("accounts.verify_phone", next=next_page))
    return render_template("accounts/phone.html", form=form, current=mask(current_user.phone))


@bp.route("/verify-phone/resend", methods=["POST"])
@_code_limit
@login_required
def resend_code():
    if current_user.phone and not current_user.phone_verified_at and ResendForm().validate():
        accounts.issue_code(current_user, CodePurpose.PHONE_VERIFICATION)
        db.session.commit()
        flash(_("We sent a new code to %(phone)s.", phone=mask(current_user.phone)), "info")
    return redirect(url_for("accounts.verify_phone"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
@_code_limit
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.identifier.data)
        db.session.commit()
        # The same answer whether or not the account exists.
        flash(_("If this account has a verified mobile number, we sent a code to it."), "info")
        return redirect(url_for("accounts.reset_password", identifier=form.identifier.data.strip()))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@public
def reset_password():
    form = ResetPasswordForm()
    if request.method == "GET":
        form.identifier.data = request.args.get("identifier", "")
    if form.validate_on_submit():
        try:
            accounts.reset_password(form.identifier.data, form.code.data, form.password.data)
        except DomainError as error:
            db.session.commit()  # keep the counted attempt
            error.apply_to(form)
        else:
            db.session.commit()
            flash(_("Your password has been changed. Please sign in."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/profile")
@login_required
@patient_data
def profile():
    user = current_user._get_current_object()
    record("account.viewed", obj=user, patient=user if user.role == Role.PATIENT else None)
    db.session.commit()
    return render_template("accounts/profile.html", user=user, phone=mask(user.phone))
