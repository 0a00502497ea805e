"""Schemathesis hooks for tests/reliability/test_schemathesis.py, loaded
through SCHEMATHESIS_HOOKS.

A real client sends a fresh Idempotency-Key with every new request. Generated
keys come from a small space and repeat across different requests, which the
API rightly refuses (422, key reused), so the operations behind them would go
untested. In positive cases each key becomes a new one; negative cases keep
theirs, so malformed keys are still sent."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import schemathesis

HEADER = "idempotency-key"
_NAMESPACE = uuid.UUID("6f1c3c2e-5d8e-4d43-9a55-6c1f4b2f9b10")
_issued = itertools.count()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    headers = case.headers
    names = [name for name in headers or {} if name.lower() == HEADER]
    if not names or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    # Deterministic, so that a run with the same seed sends the same keys.
    headers[names[0]] = f'"{uuid.uuid5(_NAMESPACE, str(next(_issued)))}"'
