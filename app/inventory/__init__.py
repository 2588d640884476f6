"""Inventory across the pharmacy chain: stores, stock lots and their ledger (transfers and pages next)."""
