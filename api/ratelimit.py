"""A rate limit per API key: a fixed window counted in the database.

The count lives in the store, not in the process, so it holds across worker
processes and restarts. It is counted in a transaction of its own before the
request's: a request that fails still counts, and the request's transaction
never holds the counter's row lock (SQLite would wait on itself). A request
is counted after its key authenticated (`api.deps.authenticate`), so nobody
can spend another client's quota with made-up keys carrying its public key
id, and the key is not looked up a second time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from api.errors import ApiError
from api.settings import Settings
from db import rate_limits as rate_store


def window_start(now: datetime, seconds: int) -> datetime:
    """The start of the fixed window holding `now`: a multiple of `seconds` since the epoch."""
    epoch = math.floor(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def enforce(engine: Engine, *, key_id: str, settings: Settings, now: datetime) -> None:
    """Count the request against its (authenticated) key; 429 with Retry-After
    beyond the limit."""
    limit, seconds = settings.rate_limit_requests, settings.rate_limit_window_seconds
    if not limit:
        return
    start = window_start(now, seconds)
    with Session(engine) as session:
        count = rate_store.count_request(session, key_id=key_id, window_start=start)
        session.commit()
    if count > limit:
        wait = max(1, math.ceil((start + timedelta(seconds=seconds) - now).total_seconds()))
        raise ApiError(
            429,
            f"This API key may make {limit} requests per {seconds} s; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
