"""Automatic clinical checks: a pure engine over a versioned knowledge base kept in data files."""
