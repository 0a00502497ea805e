"""The rate limit holds across processes: the service under 2 uvicorn
workers on PostgreSQL lets exactly the limit through, however the requests
fall on the workers."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import postgres_database
from tests.reliability.service import all_at_once, register, running_service

pytestmark = pytest.mark.postgres

LIMIT = 30
WINDOW_S = 3600


def test_two_workers_let_exactly_the_limit_through(postgres_admin_url: str, tmp_path: Path) -> None:
    settings = {
        "BACKPLAN_RATE_LIMIT_REQUESTS": str(LIMIT),
        "BACKPLAN_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW_S),
    }
    with (
        postgres_database(postgres_admin_url) as url,
        running_service(url, tmp_path / "service.log", workers=2, env=settings) as service,
        register(service) as http,
    ):
        left = WINDOW_S - time.time() % WINDOW_S
        if left < 10:  # keep the burst inside one fixed window
            time.sleep(left + 0.1)
        responses = all_at_once(2 * LIMIT, lambda: http.get("/v1/exercises"))

    assert Counter(r.status_code for r in responses) == {200: LIMIT, 429: LIMIT}
    limited = next(r for r in responses if r.status_code == 429)
    assert limited.headers["content-type"] == "application/problem+json"
    assert 0 < int(limited.headers["retry-after"]) <= WINDOW_S
