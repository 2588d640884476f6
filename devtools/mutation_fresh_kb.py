"""pytest plugin for the mutation targets that mutate how the knowledge base is loaded: no shared copy."""

# The process-wide copy (app.checks.loader.get) is loaded by whichever test asks first, so mutmut's
# first run records only that test as reaching the loading code, and later runs a loading mutant
# against it alone. With this plugin every test that asks loads the files itself, is recorded, and
# meets the mutant.
import pytest

from app.checks import loader


@pytest.fixture(autouse=True)
def _knowledge_base_loaded_by_each_test(monkeypatch):
    monkeypatch.setattr(loader, "_current", None)
