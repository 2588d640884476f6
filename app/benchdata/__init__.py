"""Benchmark data: `flask bench seed --scale S` fills a freshly migrated database in bulk."""
