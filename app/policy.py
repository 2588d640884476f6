"""The permission layer: role decorators every view wears, and object checks features reuse.

Every endpoint is either `@public` or `@roles_required(...)`; a generated test walks
the URL map and fails on any view that is neither.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from app.accounts.models import Role
from app.extensions import login_manager

# Features add rules here: (user, patient_id) -> bool, e.g. "a doctor sees the
# patients of their own consultations". Any rule granting access is enough.
patient_access_rules: list[Callable[[object, int], bool]] = []

# A file follows the object it is attached to: the feature owning that object says who besides the
# patient and admins may open it, by upload purpose: purpose -> (user, upload) -> bool. A purpose no
# feature claims is shown to nobody else (and seeing the patient is not enough on its own).
upload_access_rules: dict[str, Callable[[object, object], bool]] = {}


def public(view):
    """Mark a view as open to anonymous visitors."""
    view.is_public = True
    return view


def roles_required(*roles: Role):
    """Anonymous → login (401 for JSON); signed in without one of `roles` → 403."""
    allowed = frozenset(Role(r) for r in roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = allowed
        return wrapped

    return decorator


def patient_data(view):
    """Mark a view that shows or changes patient data: it must write an audit row.

    A view that forgets to call audit.record() fails loudly (in every test that
    opens it) instead of silently leaving a gap in the audit trail.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = view(*args, **kwargs)
        if not g.get("audit_recorded"):
            raise RuntimeError(f"{request.endpoint} shows patient data but wrote no audit row")
        return response

    wrapped.touches_patient_data = True
    return wrapped


def login_required(view):
    """Any signed-in user, whatever the role."""
    return roles_required(*Role)(view)


def can_access_patient(user, patient_id: int) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.PATIENT:
        return user.id == patient_id
    return any(rule(user, patient_id) for rule in patient_access_rules)


def ensure_patient_access(patient_id: int) -> None:
    """Abort with 403 unless the current user may see this patient's data."""
    if not can_access_patient(current_user, patient_id):
        refuse(403, patient_id)


def refuse(code: int, patient_id: int | None = None):
    """Abort with `code`; the refusal's audit row (written by the error handler) names the patient
    whose data was asked for, when the object exists."""
    if patient_id is not None:
        g.refused_patient_id = patient_id
    abort(code)
