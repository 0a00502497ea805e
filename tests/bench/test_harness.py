"""The HTTP benchmark harness keeps working: a tiny run on each backend. It
asserts that every path ran without errors, never how fast (issue 7: no
timing assertions in the suite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import harness, report

EXPECTED_PATHS = {"exercises", "stored_plan", "progress", "first_plan", "completion"}


def tiny_run(
    backend: str, tmp_path: Path, postgres_url: str | None = None, loadgen: str | None = None
) -> dict[str, Any]:
    config = harness.Config(
        loadgen=loadgen,
        users=20,
        fresh_users=60,
        weeks=2,
        duration=1,
        connections=4,
        warmup=0,
        backends=(backend,),
        out=tmp_path / "results.json",
        workdir=tmp_path,
    )
    if postgres_url:
        config.postgres_url = postgres_url
    return harness.run(config)


def check(result: dict[str, Any], backend: str, tmp_path: Path) -> None:
    assert (tmp_path / "results.json").is_file()
    measured = result["backends"][backend]
    assert measured["seed"]["users"] == 20
    assert measured["seed"]["fresh_users"] == 60
    assert measured["seed"]["open_sessions"] > 0
    assert measured["ceiling"]["requests"] > 0
    assert measured["ceiling"]["errors"] == 0
    assert set(measured["paths"]) == EXPECTED_PATHS
    for name, path in measured["paths"].items():
        assert path["requests"] > 0, name
        assert path["rps"] > 0, name
        assert path["errors"] == 0, (name, path)
        assert path["ratio"] > 0, name
    assert measured["service_tracebacks"] == 0
    assert result["machine"]["cores"]
    report.table(result)  # renders


def test_harness_on_sqlite_with_its_own_load_generator(tmp_path: Path) -> None:
    # The httpx generator is what a machine without wrk uses: keep it working.
    check(tiny_run("sqlite", tmp_path, loadgen="httpx"), "sqlite", tmp_path)


@pytest.mark.postgres
def test_harness_on_postgres_with_the_default_load_generator(
    tmp_path: Path, postgres_admin_url: str
) -> None:
    check(tiny_run("postgres", tmp_path, postgres_admin_url), "postgres", tmp_path)
