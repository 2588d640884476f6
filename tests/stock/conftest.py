"""Stock page fixtures: separate signed-in browsers per user."""

from tests.consultations.conftest import as_user  # noqa: F401  (fixture)
