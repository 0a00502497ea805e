"""A rate limit per API key: a fixed window counted in the database.

The count lives in the store, not in the process, so it holds across worker
processes and restarts. It is counted in a transaction of its own before the
request's: a request that fails still counts, and the request's transaction
never holds the counter's row lock (SQLite would wait on itself). Only keys
that authenticate are counted, so nobody can spend another client's quota
with made-up keys carrying its public key id.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from api import keys
from api.errors import ApiError
from api.settings import Settings
from db import clients as client_store
from db import rate_limits as rate_store


def window_start(now: datetime, seconds: int) -> datetime:
    """The start of the fixed window holding `now`: a multiple of `seconds` since the epoch."""
    epoch = math.floor(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def enforce(engine: Engine, *, token: str, settings: Settings, now: datetime) -> None:
    """Count the request against its key; 429 with Retry-After beyond the limit.
    A key that does not authenticate is left to the 401 of `api.deps.get_client`."""
    limit, seconds = settings.rate_limit_requests, settings.rate_limit_window_seconds
    key_id = keys.key_id_of(token)
    if not limit or key_id is None:
        return
    start = window_start(now, seconds)
    with Session(engine) as session:
        found = client_store.find_active_key(session, key_id=key_id)
        if found is None or not keys.key_matches(token, found[0].key_hash):
            return
        count = rate_store.count_request(session, key_id=key_id, window_start=start)
        session.commit()
    if count > limit:
        wait = max(1, math.ceil((start + timedelta(seconds=seconds) - now).total_seconds()))
        raise ApiError(
            429,
            f"This API key may make {limit} requests per {seconds} s; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
