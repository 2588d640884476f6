"""Tools for development and the tests only (offline stand-ins for vendors); never imported by app/."""
