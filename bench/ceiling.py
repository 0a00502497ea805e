"""The ceiling: a bare FastAPI route returning pre-serialized bytes the size
of a real stored plan, served by uvicorn exactly as the service is. No
database, no validation, no serialization: what the framework and server
alone cost per request here.

    BENCH_CEILING_PAYLOAD=plan.json uvicorn bench.ceiling:app

The payload file holds a real plan's JSON body, written by the harness;
without it the route returns 8.6 KB of filler.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

PAYLOAD_ENV = "BENCH_CEILING_PAYLOAD"


def _payload() -> bytes:
    path = os.environ.get(PAYLOAD_ENV)
    if path:
        return Path(path).read_bytes()
    return b'{"filler": "' + b"x" * 8600 + b'"}'


PAYLOAD = _payload()
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/plan")
async def plan() -> Response:
    return Response(content=PAYLOAD, media_type="application/json")


@app.get("/readyz")
async def ready() -> Response:
    return Response(content=b"{}", media_type="application/json")
