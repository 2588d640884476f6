"""Inventory across the pharmacy chain: stores (lots, ledger and transfers come next)."""
