"""The development phone: the texts a number was sent, and a reply played through /sms/inbound.

Only with the log backend or the local Twilio stand-in (never against Twilio itself). An admin may look
at any number; a patient only at their own, and only where SMS_PHONE_PAGE_FOR_PATIENTS is on. A reply is
posted to the same endpoint Twilio calls, signed with the account's token as Twilio signs it, so it
goes through the signature check and the keyword handling exactly as a real one.
"""

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.accounts.models import Role, User
from app.audit.services import record, record_read
from app.extensions import db
from app.integrations import sms
from app.notifications.models import OutboundSms
from app.policy import patient_data, roles_required
from app.sms import bp

SHOWN = 50


class ReplyForm(FlaskForm):
    body = StringField(_l("Reply"), validators=[DataRequired(), Length(max=160)])


def phone_page_available() -> bool:
    config = current_app.config
    return config["SMS_BACKEND"] == "log" or (config["SMS_BACKEND"] == "twilio"
                                              and bool(config["TWILIO_API_BASE"]))


def _number() -> str:
    """The number the page is about: the patient's own, or the one an admin typed."""
    if not phone_page_available():
        abort(404)
    if current_user.role == Role.PATIENT:
        if not current_app.config["SMS_PHONE_PAGE_FOR_PATIENTS"] or not current_user.phone:
            abort(404)
        return current_user.phone
    return (request.values.get("number") or "").strip()[:20]


@bp.route("/phone")
@roles_required(Role.ADMIN, Role.PATIENT)
@patient_data
def phone():
    number = _number()
    owner = db.session.scalar(select(User).where(User.phone == number)) if number else None
    texts = db.session.scalars(select(OutboundSms).where(OutboundSms.to_phone == number)
                               .order_by(OutboundSms.id.desc()).limit(SHOWN)).all() if number else []
    record_read("sms.phone_viewed", patient=owner if owner and owner.role == Role.PATIENT else None,
                detail=f"texts={len(texts)}")
    page = render_template("sms/phone.html", number=number, texts=texts, form=ReplyForm())
    db.session.commit()
    return page


@bp.route("/phone/reply", methods=["POST"])
@roles_required(Role.ADMIN, Role.PATIENT)
@patient_data
def phone_reply():
    number = _number()
    form = ReplyForm()
    if not number or not form.validate_on_submit():
        flash(_("Type a reply of at most 160 characters."), "danger")
        record("sms.phone_reply_refused", patient=current_user if current_user.role == Role.PATIENT else None)
        db.session.commit()
        return redirect(url_for("sms.phone", number=number), code=303)
    patient = current_user._get_current_object() if current_user.role == Role.PATIENT else None
    record("sms.phone_reply_played", patient=patient, detail=form.body.data[:40])
    db.session.commit()  # before the inner request, which writes with its own session
    params = {"From": number, "To": current_app.config["TWILIO_FROM_NUMBER"] or "+15005550006",
              "Body": form.body.data, "MessageSid": "SM" + secrets.token_hex(16), "NumMedia": "0",
              "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"]}
    # A context of its own: the inner request gets its own `g` (signed-in user, audit flag) and session.
    with current_app.app_context():
        answer = current_app.test_client().post(
            sms.INBOUND_PATH, data=params,
            headers={"X-Twilio-Signature": sms.sign(sms.INBOUND_PATH, params)})
    reply = sms.twiml_text(answer.get_data(as_text=True)) if answer.status_code == 200 else ""
    if answer.status_code != 200:
        flash(_("The reply was refused (HTTP %(status)d).", status=answer.status_code), "danger")
    else:
        flash(_("Reply sent. The answer: %(reply)s", reply=reply or _("(no answer)")), "info")
    return redirect(url_for("sms.phone", number=number), code=303)
