"""Workers side by side, a worker killed mid-delivery, `backplan worker`, and
the worker inside the API process."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.main import create_app
from api.settings import Settings, get_settings
from api.webhooks.worker import Worker
from db.deliveries import LOST_LEASE, Job
from db.engine import make_engine
from tests.api.webhooks.conftest import ALL_EVENTS, deliver, deliveries, emit, fast_config
from tests.api.webhooks.receiver import Receiver, Reply
from tests.conftest import ADMIN_TOKEN, Api, register

ROOT = Path(__file__).resolve().parents[3]


class CountingWorker(Worker):
    """A worker that counts what it delivered."""

    delivered = 0

    def _deliver(self, job: Job) -> None:
        super()._deliver(job)
        self.delivered += 1


def test_two_workers_deliver_each_event_exactly_once(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI, database_url: str
) -> None:
    receiver.default = Reply(delay=0.01)
    events = emit(app.state.engine, api.client_id, count=40)
    # Separate engines, as separate processes would have.
    engines = [make_engine(database_url) for _ in range(2)]
    workers = [CountingWorker(engine, fast_config()) for engine in engines]
    stop = threading.Event()
    loops = [threading.Thread(target=worker.run, args=(stop,)) for worker in workers]
    for loop in loops:
        loop.start()
    try:
        receiver.wait_for(len(events), timeout=15)
        time.sleep(0.3)  # room for a duplicate to show up
    finally:
        stop.set()
        for loop in loops:
            loop.join(10)
        for worker, engine in zip(workers, engines, strict=True):
            worker.close()
            engine.dispose()
    assert receiver.ids() == dict.fromkeys(events, 1)
    assert all(r.verified for r in receiver.received)
    assert all(worker.delivered > 0 for worker in workers), [w.delivered for w in workers]


def test_a_worker_killed_mid_delivery_is_replaced_once_its_lease_expires(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI, database_url: str
) -> None:
    held = threading.Event()
    receiver.replies = [Reply(hold=held)]
    [event_id] = emit(app.state.engine, api.client_id)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BACKPLAN_MIGRATE_ON_START": "false",
        "BACKPLAN_WEBHOOKS_ALLOW_HTTP": "true",
        "BACKPLAN_WEBHOOKS_TIMEOUT_SECONDS": "1.5",
        "BACKPLAN_WEBHOOKS_LEASE_SECONDS": "2",
        "BACKPLAN_WEBHOOKS_POLL_SECONDS": "0.05",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        receiver.wait_for(1, timeout=15)  # the request is in flight, held open
        process.send_signal(signal.SIGKILL)
        process.wait(5)
    finally:
        if process.poll() is None:
            process.kill()
        held.set()
    assert process.returncode == -signal.SIGKILL
    assert deliveries(api, hook["id"])[0]["status"] == "pending"

    with Worker(app.state.engine, fast_config()) as worker:
        deliver(worker, until=lambda: len(receiver.received) == 2, timeout=10)
    assert receiver.ids() == {event_id: 2}
    assert all(r.verified for r in receiver.received)
    [delivery] = deliveries(api, hook["id"])
    assert delivery["status"] == "delivered"
    lost, sent = delivery["attempts"]
    assert (lost["number"], lost["status_code"], lost["error"]) == (1, None, LOST_LEASE)
    assert (sent["number"], sent["status_code"], sent["error"]) == (2, 204, None)
    waited = datetime.fromisoformat(sent["started_at"]) - datetime.fromisoformat(lost["started_at"])
    assert waited >= timedelta(seconds=2)  # not before the dead worker's lease ran out


def test_the_worker_command_delivers_and_exits(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BACKPLAN_WEBHOOKS_ALLOW_HTTP", "true")
    get_settings.cache_clear()
    try:
        settings = Settings(database_url=url, admin_token=ADMIN_TOKEN, webhooks_in_process=False)
        with TestClient(create_app(settings)) as http:
            api = register(http)
            endpoint = api.post("/v1/webhooks", json={"url": receiver.url, "events": ALL_EVENTS})
            receiver.secrets.append(endpoint.json()["secret"])
            api.delete(f"/v1/users/{api.user()['id']}")
            result = CliRunner().invoke(cli.app, ["worker", "--once"])
            assert result.exit_code == 0, result.output
            [delivery] = deliveries(api, endpoint.json()["id"])
            assert delivery["status"] == "delivered"
    finally:
        get_settings.cache_clear()
    [received] = receiver.received
    assert received.verified
    assert received.payload["type"] == "user.deleted"


def test_serve_delivers_from_a_thread_on_sqlite(receiver: Receiver, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/serve.db",
        admin_token=ADMIN_TOKEN,
        webhooks_allow_http=True,
        webhooks_poll_seconds=0.05,
    )
    assert settings.webhooks_run_in_process
    with TestClient(create_app(settings)) as http:
        api = register(http)
        endpoint = api.post("/v1/webhooks", json={"url": receiver.url, "events": ALL_EVENTS})
        receiver.secrets.append(endpoint.json()["secret"])
        user = api.user()
        api.delete(f"/v1/users/{user['id']}")
        [received] = receiver.wait_for(1)
    assert received.verified
    assert received.payload["type"] == "user.deleted"
