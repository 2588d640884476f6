"""Patient record pages."""

from app.patients import bp  # noqa: F401
