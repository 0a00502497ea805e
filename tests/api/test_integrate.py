"""examples/integrate.py against a freshly started service (uvicorn, two worker
processes), and duplicate requests racing across those processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.service import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "integration-admin-token"


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[str]:
    """backplan on a free 127.0.0.1 port, on this run's database."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BACKPLAN_ADMIN_TOKEN": ADMIN,
        "BACKPLAN_WEBHOOKS_IN_PROCESS": "false",
    }
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the service exited"
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_example_integration_runs(service: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "integrate.py"), service, ADMIN],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    assert "readiness: ready" in output
    assert "stage 1" in output
    assert "retry replayed: True" in output
    assert "progress:" in output
    assert output.rstrip().endswith("done")


def test_the_example_reads_its_settings_from_the_environment(service: str) -> None:
    env = {**os.environ, "BACKPLAN_URL": service, "BACKPLAN_ADMIN_TOKEN": "wrong"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "integrate.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "401" in result.stderr


def test_duplicates_racing_across_processes_take_effect_once(service: str) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=service, timeout=30) as http:
        key = http.post("/v1/clients", json={"name": "racer"}, headers=admin).json()["api_key"]
        auth = {"Authorization": f"Bearer {key}"}
        user = http.post(
            "/v1/users",
            json={"external_id": "racer", "training_days": ["mon", "wed"], "session_minutes": 20},
            headers=auth,
        ).json()
    path = f"/v1/users/{user['id']}/episodes"
    body = {"onset_date": "2026-01-05", "pain_now": 2}
    start = threading.Barrier(8)
    outcomes: list[tuple[int, str]] = []

    def send() -> None:
        with httpx.Client(base_url=service, timeout=30) as http:
            start.wait()
            response = http.post(path, json=body, headers={**auth, "Idempotency-Key": "race"})
            outcomes.append((response.status_code, response.headers.get("idempotent-replayed", "")))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count((201, "")) == 1, outcomes
    assert set(outcomes) <= {(201, ""), (201, "true"), (409, "")}, outcomes
    episodes = httpx.get(f"{service}{path}", headers=auth).json()["items"]
    assert len(episodes) == 1
