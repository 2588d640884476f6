"""The patient's own adherence page: each current medicine's days covered, dose answers and a chart."""

from flask import render_template
from flask_login import current_user

from app.accounts.models import Role
from app.adherence import bp
from app.adherence.chart import adherence_chart, drug_names
from app.adherence.queries import patient_adherence
from app.audit.services import record_read
from app.extensions import db
from app.i18n import current_language
from app.policy import patient_data, roles_required


@bp.route("/")
@roles_required(Role.PATIENT)
@patient_data
def index():
    """Two statements: the fills with the dose answers (app.adherence.queries), and the audit row."""
    patient = current_user._get_current_object()
    adherence = patient_adherence(patient.id)
    names = drug_names(adherence, current_language())
    chart = adherence_chart(adherence, names) if adherence.drugs else None
    record_read("adherence.viewed", patient=patient.id, object_type="adherence",
                detail="drugs=" + (",".join(drug.key for drug in adherence.drugs) or "-"))
    # Rendered before the commit, which would expire what the page reads.
    page = render_template("adherence/index.html", adherence=adherence, chart=chart)
    db.session.commit()
    return page
