"""Prescribing: structured, e-signed prescriptions written inside a consultation (no pages yet)."""
