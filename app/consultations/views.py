"""Consultation pages."""

from app.consultations import bp  # noqa: F401
