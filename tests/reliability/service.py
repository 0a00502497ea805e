"""The service as a real process (uvicorn on 127.0.0.1), a TCP proxy to
PostgreSQL that a test can cut, and data to load the service with."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx

from api.server import HTTP_PROTOCOL
from tests.conftest import ADMIN_TOKEN, user_fields

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    """`uvicorn api.main:app` in its own process group, logging to a file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as in a crash."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_service(
    database_url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Service:
    """Start the service and wait until it is ready."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BACKPLAN_ADMIN_TOKEN": ADMIN_TOKEN,
        **(env or {}),
    }
    # The real app, with DNS kept local: see offline_app.py.
    app = "tests.reliability.offline_app:app"
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    command += ["--http", HTTP_PROTOCOL]  # as `backplan serve` runs it
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited:\n{service.output()}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200:
                return service
        time.sleep(0.1)
    service.kill()
    raise RuntimeError(f"the service did not get ready:\n{service.output()}")


@contextmanager
def running_service(
    database_url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Service]:
    service = start_service(database_url, log, workers=workers, env=env)
    try:
        yield service
    finally:
        service.stop()


def register(service: Service, name: str = "Load test") -> httpx.Client:
    """A new client of the service: an HTTP client sending its API key."""
    response = httpx.post(
        f"{service.url}/v1/clients",
        json={"name": name},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    key = response.json()["api_key"]
    return httpx.Client(
        base_url=service.url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
    )


@dataclass(frozen=True)
class StoredSession:
    user_id: str
    session_id: str

    @property
    def completion(self) -> str:
        return f"/v1/users/{self.user_id}/sessions/{self.session_id}/completion"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def past_sessions(http: httpx.Client, *, users: int, weeks: int) -> list[StoredSession]:
    """Sessions the service stored for new users over the `weeks` weeks before
    this one: all of them dated before today, so a completion may report them."""
    this_monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    start = this_monday - timedelta(weeks=weeks)
    found: list[StoredSession] = []
    for _ in range(users):
        fields = user_fields(
            training_days=["mon", "tue", "wed", "thu", "fri", "sat"],
            program_start=start.isoformat(),
        )
        response = http.post("/v1/users", json=fields)
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        for offset in range(weeks):
            week = iso_week(start + timedelta(weeks=offset))
            plan = http.get(f"/v1/users/{user_id}/plan", params={"week": week})
            assert plan.status_code == 200, plan.text
            assert plan.json()["preview"] is False
            found += [StoredSession(user_id, s["id"]) for s in plan.json()["sessions"]]
    return found


def report(notes: str = "done") -> dict[str, Any]:
    """A completion report for any session dated before today."""
    done = datetime.now(UTC) - timedelta(minutes=1)
    return {
        "completed_at": done.isoformat(timespec="seconds"),
        "pain_during": 2,
        "effort": 5,
        "notes": notes,
    }


@dataclass
class Proxy:
    """A TCP proxy from 127.0.0.1:`port` to PostgreSQL. `cut()` drops every
    connection and refuses new ones, as when the server goes away;
    `blackhole()` accepts connections and never answers, as an unreachable
    host; `restore()` forwards again."""

    target: tuple[str, int]
    port: int = 0
    mode: str = "up"
    _listener: socket.socket = field(default_factory=socket.socket)
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.mode = "down"
        self._drop_all()

    def blackhole(self) -> None:
        self.mode = "blackhole"
        self._drop_all()

    def restore(self) -> None:
        self.mode = "up"

    def close(self) -> None:
        self.mode = "closed"
        self._drop_all()
        self._listener.close()

    def _drop_all(self) -> None:
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _accept(self) -> None:
        while self.mode != "closed":
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            self._track(client)
            if self.mode == "blackhole":
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._track(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def all_at_once(count: int, call: Callable[[], T]) -> list[T]:
    """`count` calls, each in its own thread, released together."""
    barrier = threading.Barrier(count)

    def run() -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(run) for _ in range(count)]
        return [future.result() for future in futures]
