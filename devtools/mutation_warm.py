"""Imported once by the mutation fork server of a target with `warm`: the shipped knowledge base, loaded."""

# Every mutant's run is a fork of that process, so it starts with the knowledge base in memory
# instead of reading and validating the files again (a quarter of a second each).
from app.checks import loader

loader.get()
