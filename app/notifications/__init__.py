"""Outgoing messages as durable rows: queued in the user's transaction, sent by the worker."""
