"""Account forms; every message is translatable."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from app.text import clean_name

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("zh", "中文")]
REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    identifier = StringField(_l("Email or mobile number"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    submit = SubmitField(_l("Sign in"))


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Your name"), filters=[clean_name],
                               validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("Email"), validators=[
        Optional(), Email(_l("Enter a valid email address.")), Length(max=254)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(_l("Repeat password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", _l("The two passwords do not match."))])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    submit = SubmitField(_l("Create account"))


class CodeForm(FlaskForm):
    code = StringField(_l("Verification code"), validators=[
        DataRequired(REQUIRED), Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits."))])
    submit = SubmitField(_l("Verify"))


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(REQUIRED), Length(max=32)])
    submit = SubmitField(_l("Send me a code"))


class ResendForm(FlaskForm):
    submit = SubmitField(_l("Send a new code"))


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(_l("Email or mobile number"), validators=[DataRequired(REQUIRED)])
    submit = SubmitField(_l("Send reset code"))


class ResetPasswordForm(FlaskForm):
    identifier = StringField(_l("Email or mobile number"), validators=[DataRequired(REQUIRED)])
    code = StringField(_l("Verification code"), validators=[
        DataRequired(REQUIRED), Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits."))])
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(_l("Repeat password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", _l("The two passwords do not match."))])
    submit = SubmitField(_l("Set new password"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Sign out"))
