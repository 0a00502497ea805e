"""Crash safety: every completion the service confirmed with a 2xx is still
there after the process is killed with SIGKILL in the middle of a load."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.service import StoredSession, past_sessions, register, report, start_service

WRITERS = 8
KILL_AFTER = 40


def test_confirmed_completions_survive_sigkill_mid_load(
    fresh_database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "service.log"
    service = start_service(fresh_database_url, log)
    try:
        http = register(service)
        sessions = past_sessions(http, users=6, weeks=4)
        pending = iter(sessions)
        confirmed: dict[StoredSession, dict[str, Any]] = {}
        refused: list[httpx.Response] = []
        lock = threading.Lock()
        killed = threading.Event()

        def write() -> None:
            while True:
                with lock:
                    item = next(pending, None)
                if item is None or killed.is_set():
                    return
                try:
                    response = http.put(item.completion, json=report(f"load {item.session_id}"))
                except httpx.TransportError:
                    if killed.is_set():
                        return
                    raise
                with lock:
                    if response.is_success:
                        confirmed[item] = response.json()
                    else:
                        refused.append(response)

        writers = [threading.Thread(target=write) for _ in range(WRITERS)]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 30
        while len(confirmed) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.005)
        killed.set()
        service.kill()
        for writer in writers:
            writer.join(timeout=30)
    finally:
        service.kill()

    assert not refused, [(r.status_code, r.text) for r in refused]
    assert KILL_AFTER <= len(confirmed) < len(sessions), "the kill must come mid-load"

    service = start_service(fresh_database_url, log)
    try:
        with register(service, "Auditor") as auditor:
            auditor.headers["Authorization"] = http.headers["Authorization"]
            for item, body in confirmed.items():
                stored = auditor.get(item.completion)
                assert stored.status_code == 200, (item, stored.text)
                assert stored.json() == body
    finally:
        service.stop()
