"""What finding severities are called on screen, built once rather than in a macro on every row."""

from flask_babel import lazy_gettext as _l

from app.checks.knowledge import Severity
from app.labels import badge
from app.review import bp

SEVERITIES = {
    Severity.CONTRAINDICATED: (_l("Contraindicated"), "danger"),
    Severity.MAJOR: (_l("Major"), "warning"),
    Severity.MODERATE: (_l("Moderate"), "info"),
    Severity.MINOR: (_l("Minor"), "secondary"),
}


@bp.app_template_global("finding_severity_label")
def severity(value, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown severity is shown as its code."""
    return badge(SEVERITIES, value, language)
