"""Medication adherence: the Proportion of Days Covered (PQA method), pure and tested on its own."""

from flask import Blueprint

bp = Blueprint("adherence", __name__, url_prefix="/adherence")

from app.adherence import views  # noqa: E402,F401  (routes register on import)
