"""Signed webhooks (Standard Webhooks 1.0): where they may go (`targets`),
how they are signed (`signing`), and the worker that delivers them (`worker`).
The outbox they are queued in is `db.outbox`."""
