"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One readable line for the operator instead of a traceback.
    sys.exit(f"Configuration error: {error}")
