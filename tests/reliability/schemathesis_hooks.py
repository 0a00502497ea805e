"""Schemathesis hooks for tests/reliability/test_schemathesis.py, loaded
through SCHEMATHESIS_HOOKS.

A real client sends a fresh Idempotency-Key with every new request. Generated
keys come from a small space and repeat across different requests, which the
API rightly refuses (422, key reused), so the operations behind them would go
untested. In positive cases each key becomes a new one; negative cases keep
theirs, so malformed keys are still sent.

One thread at a time parses Python source here. On CPython 3.11 `ast.parse`
keeps its recursion depth in state the interpreter shares, and two threads
parsing at once can fail with "SystemError: AST constructor recursion depth
mismatch" (CPython gh-106905). Hypothesis parses lambdas'
sources to describe the strategies Schemathesis filters, and with
`--workers 2` two workers did so at once: a fresh-clone CI run failed with
four such errors in the coverage phase, none of them the API's."""

from __future__ import annotations

import ast
import functools
import itertools
import threading
import uuid
from typing import Any

import schemathesis

_parsing = threading.Lock()
_parse = ast.parse


@functools.wraps(_parse)
def _parse_alone(*args: Any, **kwargs: Any) -> Any:
    with _parsing:
        return _parse(*args, **kwargs)


ast.parse = _parse_alone

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
