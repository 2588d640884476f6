"""The process-wide knowledge base: the shipped files read and validated once, shared by every check."""

# Apart from knowledge.py (what a knowledge base is) and validation.py (how the files are read and
# checked), so that validation can build KnowledgeBase objects without the two importing each other.

import threading
from pathlib import Path

from app.checks.knowledge import DATA_DIR, KnowledgeBase
from app.checks.validation import read_knowledge_base

_lock = threading.Lock()
_current: KnowledgeBase | None = None


def load(directory: Path = DATA_DIR) -> KnowledgeBase:
    """Read and validate every file; KnowledgeBaseError lists each problem by file, line and column."""
    return read_knowledge_base(directory)


def get() -> KnowledgeBase:
    """The shipped knowledge base, loaded on first use and then shared by every check in the process."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = load()
    return _current


def reload(directory: Path = DATA_DIR) -> KnowledgeBase:
    """Replace the shared copy after the files changed; the old one stays in use if the new one is bad."""
    global _current
    fresh = load(directory)
    with _lock:
        _current = fresh
    return fresh
