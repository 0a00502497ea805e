"""The HTTP benchmark: the service under load on SQLite and PostgreSQL, next
to the framework's ceiling, each path's ratio to it reported.

For each backend: a fresh database, migrated by the app's own migrations and
seeded (`bench.seed`); the service started as `uvicorn api.main:app` with
`workers` workers (rate limit and in-process webhook worker off); one real stored plan
fetched, whose body becomes the ceiling's payload; the ceiling
(`bench.ceiling:app`, started the same way, running beside the service for the
whole backend; only the one under load works) measured before the first path,
between every two paths and after the last (C P1 C P2 ... Pn C), each for
`duration` seconds from a separate load process (`bench.load`). Each path's
ratio is taken against the higher of the two ceiling runs right around it: the
machine's speed drifts by a quarter within minutes on a shared VM, so a ceiling
measured minutes away says little about the path's minute, and the higher of
its neighbours never flatters it (`ratios`).
"""

from __future__ import annotations

import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from importlib.util import find_spec
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from api.server import HTTP_PROTOCOL
from bench import load as loads
from bench.seed import Seeded, seed
from db.engine import make_engine
from db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES_URL = os.environ.get(
    "BACKPLAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgres")
# The paths under load, in the order they run (writes last), and each one's
# target ratio to the ceiling (issue 7).
PATHS: dict[str, str] = {
    "exercises": "GET /v1/exercises",
    "stored_plan": "GET /v1/users/{id}/plan (stored week)",
    "progress": "GET /v1/users/{id}/progress",
    "first_plan": "GET /v1/users/{id}/plan (first time)",
    "completion": "PUT /v1/users/{id}/sessions/{sid}/completion",
}
TARGETS: dict[str, float] = {
    "stored_plan": 0.6,
    "progress": 0.5,
    "exercises": 0.8,
    "first_plan": 0.3,
    "completion": 0.3,
}
START_TIMEOUT_S = 60
# Requests at once while priming the read paths, and passes over them per
# worker when there are several.
PRIME_CONCURRENCY = 8
PRIME_PASSES_PER_WORKER = 4
# The database holds every seeded person, but the stored-plan and progress
# GETs go to a random sample of them (`Config.load_users`), as many as the
# per-worker caches can hold and priming can cover in bounded time: priming
# 100,000 people's plan and progress at the uncached rate takes ~15 minutes,
# and their plans alone outgrow the default 1 GiB cache per worker. The paths
# that are not cached, the first-time plan and the completion, still hit the
# whole database's indexes: each request a person or session of its own, drawn
# from everyone seeded (bench.seed mixes the fresh people in evenly).
DEFAULT_LOAD_USERS = 10_000
# First-time plans ran at 180-900 requests/s on the machines measured so far
# (SQLite's with 7 weeks of history the fastest), completions at 600-2,000:
# fresh people for 1,200/s, at least 1,000 and at most 40,000 (a 33 s run at
# 1,200/s; more is only disk and seeding time), and open sessions for twice
# that. A run that outruns them says how often it reused one (`wrapped`,
# shown as "pool reused"): then pass --fresh-users.
FRESH_PER_SECOND = 1_200
MIN_FRESH_USERS = 1_000
MAX_FRESH_USERS = 40_000
# Open sessions offered to the completion PUTs: a random draw from all of them,
# enough for twice the fresh rate, not the whole pool (6-7 per person seeded).
MIN_COMPLETION_POOL = 10_000
PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "pydantic-core",
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "httpx",
)


@dataclass
class Config:
    users: int = 10_000
    # People whose week was never fetched, one per first-time GET; None: enough
    # for 1,200 first-time requests/s, between 1,000 and 40,000 (independent of
    # `users`, so that runs of different sizes differ only in `users`).
    fresh_users: int | None = None
    # The stored people the stored-plan and progress GETs rotate over (and
    # priming covers), drawn at random; None: DEFAULT_LOAD_USERS, or all of
    # them when fewer are seeded.
    load_users: int | None = None
    weeks: int = 12
    duration: float = 10.0
    connections: int = 32
    # uvicorn worker processes of the service and of the ceiling.
    workers: int = 1
    backends: tuple[str, ...] = ("sqlite",)
    out: Path | None = Path("bench/results.json")
    postgres_url: str = DEFAULT_POSTGRES_URL
    # Seconds of unrecorded load on the read paths before measuring.
    warmup: float = 1.0
    loadgen: str | None = None
    workdir: Path | None = field(default=None, repr=False)

    @property
    def fresh(self) -> int:
        if self.fresh_users is not None:
            return self.fresh_users
        wanted = round(FRESH_PER_SECOND * self.duration)
        return min(max(wanted, MIN_FRESH_USERS), MAX_FRESH_USERS)

    @property
    def sample(self) -> int:
        """How many stored people the cached read paths rotate over."""
        wanted = DEFAULT_LOAD_USERS if self.load_users is None else self.load_users
        return max(1, min(wanted, self.users))


def run(config: Config) -> dict[str, Any]:
    """Run the benchmark; the report (also written to `config.out` as JSON)."""
    using = config.loadgen or loads.tool()
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]])
        if Path(sys.argv[0]).parent.name == "bench"
        else None,
        "machine": machine(using),
        "config": {
            "users": config.users,
            "fresh_users": config.fresh,
            "load_users": config.sample,
            "weeks": config.weeks,
            "duration_s": config.duration,
            "connections": config.connections,
            "uvicorn_workers": config.workers,
            "load_generator": using,
        },
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="backplan-bench-", dir=config.workdir) as tmp:
        for backend in config.backends:
            with database(backend, Path(tmp), config.postgres_url) as url:
                report["backends"][backend] = run_backend(config, url, Path(tmp), using)
    if config.out is not None:
        config.out.parent.mkdir(parents=True, exist_ok=True)
        config.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def run_backend(config: Config, url: str, tmp: Path, using: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        seeded = seed(
            engine, users=config.users, fresh_users=config.fresh, weeks=config.weeks, now=now
        )
        store = _store_facts(engine)
    finally:
        engine.dispose()
    env = {
        "DATABASE_URL": url,
        "BACKPLAN_RATE_LIMIT_REQUESTS": "0",
        "BACKPLAN_WEBHOOKS_IN_PROCESS": "false",
        "BACKPLAN_MIGRATE_ON_START": "true",
        "BACKPLAN_LOG_SQL": "false",
    }
    auth = {"Authorization": f"Bearer {seeded.client_key}"}
    result: dict[str, Any] = {
        "database": store,
        "seed": {
            "users": len(seeded.stored_users),
            "fresh_users": len(seeded.fresh_users),
            "load_users": config.sample,
            "open_sessions": len(seeded.open_sessions),
            "rows": seeded.rows,
            "seconds": round(seeded.seconds, 2),
        },
        "paths": {},
    }
    sample, sessions = pools(config, seeded)
    log = tmp / f"service-{uuid.uuid4().hex[:6]}.log"
    with server("api.main:app", env, log, ready="/readyz", workers=config.workers) as service:
        plan = httpx.get(f"{service}/v1/users/{sample[0]}/plan", headers=auth)
        if plan.status_code != 200 or plan.json().get("preview") is not False:
            raise RuntimeError(f"no stored plan for a seeded person: {plan.text[:500]}")
        payload = tmp / "plan.json"
        payload.write_bytes(plan.content)
        result["plan_bytes"] = len(plan.content)
        path_loads = _loads(sample, seeded.fresh_users, sessions, auth)
        with ceiling_server(config, payload, tmp) as ceiling:
            ceiling_load = loads.Load("ceiling", "GET", ["/plan"], headers=auth)
            # Other work on the machine skews the figures: the load average
            # (1 min) before and after the measurements says whether there was any.
            result["load_average"] = [round(os.getloadavg()[0], 2)]
            cpu_before = cpu_times()
            started = time.perf_counter()
            for primed in ("stored_plan", "progress"):
                _prime(service, path_loads[primed], auth, workers=config.workers)
            result["primed_seconds"] = round(time.perf_counter() - started, 2)
            for warm in ("exercises", "stored_plan", "progress"):
                if config.warmup > 0:
                    _drive(config, path_loads[warm], service, tmp, using, seconds=config.warmup)
            # C P1 C P2 ... Pn C: each server settled before the other is loaded,
            # so that neither's leftover requests weigh on the next measurement.
            ceiling_runs: list[dict[str, Any]] = []
            for name in PATHS:
                _settle(service)
                ceiling_runs.append(_drive(config, ceiling_load, ceiling, tmp, using))
                _settle(ceiling)
                measured = _drive(config, path_loads[name], service, tmp, using)
                measured["target"] = TARGETS[name]
                result["paths"][name] = measured
            _settle(service)
            ceiling_runs.append(_drive(config, ceiling_load, ceiling, tmp, using))
            result["load_average"].append(round(os.getloadavg()[0], 2))
            result["cpu_steal"] = steal_between(cpu_before, cpu_times())
    result["ceiling_runs"] = ceiling_runs
    # The highest run, for the ceiling's own row and for `bench compare`'s
    # drift of the ceiling between two runs; the ratios use their neighbours.
    result["ceiling"] = max(ceiling_runs, key=lambda run: run["rps"])
    taken = ratios(
        [measured["rps"] for measured in result["paths"].values()],
        [run["rps"] for run in ceiling_runs],
    )
    for measured, (ceiling_rps, ratio) in zip(result["paths"].values(), taken, strict=True):
        measured["ceiling"] = ceiling_rps
        measured["ratio"] = ratio
    failures = [
        line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line
    ]
    result["service_tracebacks"] = len(failures)
    return result


class Ratio(NamedTuple):
    """A path's ratio, and the ceiling's req/s it was taken against."""

    ceiling: float
    ratio: float


def ratios(rps: Sequence[float], ceiling_rps: Sequence[float]) -> list[Ratio]:
    """Each path's ratio to the ceiling, given the paths' req/s in the order
    they ran and the ceiling's req/s measured before, between and after them
    (one run more than paths): against the higher of the two runs right around
    the path. The machine's speed drifts within minutes, so the path's
    neighbours say best what the framework could do in its minute, and the
    higher of them never flatters it. A ceiling that served nothing gives a
    ratio of 0."""
    if len(ceiling_rps) != len(rps) + 1:
        raise ValueError(
            f"{len(rps)} paths need {len(rps) + 1} ceiling runs around them, not {len(ceiling_rps)}"
        )
    taken = []
    for measured, (before, after) in zip(rps, pairwise(ceiling_rps), strict=True):
        ceiling = max(before, after)
        taken.append(Ratio(ceiling, measured / ceiling if ceiling else 0.0))
    return taken


@contextmanager
def ceiling_server(config: Config, payload: Path, tmp: Path) -> Iterator[str]:
    """The bare route serving `payload`, started as the service is (as many
    workers), beside it; its base URL."""
    env = {"BENCH_CEILING_PAYLOAD": str(payload)}
    with server(
        "bench.ceiling:app", env, tmp / "ceiling.log", ready="/readyz", workers=config.workers
    ) as url:
        yield url


def _drive(
    config: Config,
    load: loads.Load,
    url: str,
    tmp: Path,
    using: str,
    seconds: float | None = None,
) -> dict[str, Any]:
    _settle(url)
    measured = loads.run(
        load,
        url=url,
        connections=config.connections,
        duration=config.duration if seconds is None else seconds,
        workdir=tmp,
        using=using,
    )
    return dict(measured)


def pools(config: Config, seeded: Seeded) -> tuple[list[str], list[tuple[str, str]]]:
    """The stored people the cached read paths rotate over (and priming
    covers): `config.sample` of them drawn at random (see DEFAULT_LOAD_USERS);
    and the open sessions offered to the completions, a random draw from
    everyone's, in random order."""
    sample = random.Random(7).sample(
        seeded.stored_users, min(config.sample, len(seeded.stored_users))
    )
    wanted = max(2 * config.fresh, MIN_COMPLETION_POOL)
    sessions = random.Random(11).sample(
        seeded.open_sessions, min(len(seeded.open_sessions), wanted)
    )
    return sample, sessions


def _loads(
    stored: list[str], fresh: list[str], sessions: list[tuple[str, str]], auth: dict[str, str]
) -> dict[str, loads.Load]:
    """Each path's requests: `stored` (the sample) and `sessions` in random
    order already; `fresh` in seeding order, which mixes them evenly."""
    done = datetime.now(UTC) - timedelta(minutes=1)
    report = {"completed_at": done.isoformat(timespec="seconds"), "pain_during": 2, "effort": 5}
    return {
        "exercises": loads.Load("exercises", "GET", ["/v1/exercises"], headers=auth),
        "stored_plan": loads.Load(
            "stored_plan", "GET", [f"/v1/users/{u}/plan" for u in stored], headers=auth
        ),
        "progress": loads.Load(
            "progress", "GET", [f"/v1/users/{u}/progress" for u in stored], headers=auth
        ),
        "first_plan": loads.Load(
            "first_plan", "GET", [f"/v1/users/{u}/plan" for u in fresh], headers=auth, once=True
        ),
        "completion": loads.Load(
            "completion",
            "PUT",
            [f"/v1/users/{u}/sessions/{s}/completion" for u, s in sessions],
            body=json.dumps(report).encode(),
            headers=auth,
            idempotency_keys=True,
            once=True,
        ),
    }


def _prime(url: str, load: loads.Load, auth: dict[str, str], *, workers: int) -> None:
    """GET each of the load's paths, as an app does when it opens: a stored
    plan is one that was served before (the first serve stores the week), and
    this is what the read paths then measure. Each worker caches on its own,
    so with several workers every path is asked on fresh connections, which
    the kernel hands to the workers at random, until each worker has most
    likely served it (misses left: workers x 2^-passes)."""
    passes = 1 if workers == 1 else PRIME_PASSES_PER_WORKER * workers
    # No keep-alive with several workers: each request may land on any of them.
    limits = httpx.Limits(max_keepalive_connections=0 if workers > 1 else None)
    for _ in range(passes):
        with (
            ThreadPoolExecutor(PRIME_CONCURRENCY) as pool,
            httpx.Client(base_url=url, headers=auth, timeout=60, limits=limits) as client,
        ):
            for answer in pool.map(client.get, load.paths):
                if answer.status_code != 200:
                    raise RuntimeError(f"priming {answer.url} answered {answer.status_code}")


def _settle(url: str, *, within_s: float = 60.0) -> None:
    """Wait until the server has worked off the requests still running from
    the last load (the load process stops, the handlers already in the thread
    pool do not), so that they do not weigh on the next measurement."""
    deadline = time.monotonic() + within_s
    quick = 0
    with httpx.Client(base_url=url, timeout=within_s) as client:
        while quick < 3 and time.monotonic() < deadline:
            started = time.perf_counter()
            with suppress(httpx.HTTPError):
                client.get("/readyz")
            quick = quick + 1 if time.perf_counter() - started < 0.05 else 0
            time.sleep(0.05)


# --- The database -------------------------------------------------------------


@contextmanager
def database(backend: str, tmp: Path, postgres_url: str) -> Iterator[str]:
    """A new, empty database: a SQLite file in `tmp`, or `backplan_bench_<random>`
    on the PostgreSQL server, dropped afterwards."""
    if backend == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in tmp.glob(f"{path.name}*"):
                leftover.unlink()
        return
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}")
    name = f"backplan_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        postgres_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


# What `_store_facts` counts: the report's name for it, and its table.
COUNTED = {"people": "users", "sessions": "planned_sessions", "completions": "completions"}


def _store_facts(engine: Any) -> dict[str, Any]:
    """Settle the store after the bulk load, and say what it is, how big, and
    how many people, stored sessions and completions it holds (the seeded ones
    and the template people's).

    Settling: PostgreSQL vacuums and analyzes (as autovacuum soon would, in
    the middle of the measurements) and checkpoints; SQLite checkpoints its
    WAL; then the OS writes the load's dirty pages out (`os.sync`). Without
    it, a 100,000-person run measured the machine flushing gigabytes and
    vacuuming: even the exercise list, which reads no database, ran ~1.9x
    slower than after a 1,000-person seed."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside a transaction, which the checkpoint needs
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        path = Path(engine.url.database)
        facts: dict[str, Any] = {
            "backend": "sqlite",
            "version": sqlite3.sqlite_version,
            "bytes": path.stat().st_size,
        }
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
            connection.exec_driver_sql("CHECKPOINT")
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            size = connection.exec_driver_sql(
                "SELECT pg_database_size(current_database())"
            ).scalar()
        facts = {"backend": "postgres", "version": version, "bytes": size}
    with engine.connect() as connection:
        for name, table in COUNTED.items():
            facts[name] = connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar()
    os.sync()
    return facts


def cpu_times() -> list[int] | None:
    """The machine's CPU time counters (Linux /proc/stat, in ticks), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    return [int(value) for value in fields[1:]] if fields[:1] == ["cpu"] else None


def steal_between(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of CPU time the hypervisor gave other machines between two
    `cpu_times` (steal, the 8th counter): on a shared virtual machine the
    same run varies with it, ceiling included. None where it is not known."""
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    total = sum(after) - sum(before)
    return round((after[7] - before[7]) / total, 3) if total > 0 else None


# --- Processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(
    app: str, env: dict[str, str], log: Path, *, ready: str, workers: int = 1
) -> Iterator[str]:
    """`uvicorn APP` with `workers` workers on 127.0.0.1, in its own process group;
    its base URL once `ready` answers 200. Stopped (SIGTERM) afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--http", HTTP_PROTOCOL]
    command += ["--log-level", "warning", "--no-access-log"]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited:\n{log.read_text(errors='replace')}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}{ready}", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not get ready:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- The machine ----------------------------------------------------------------


def machine(using: str) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        with suppress(PackageNotFoundError):
            versions[name] = package_version(name)
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": versions,
        "uvloop": find_spec("uvloop") is not None,
        "httptools": find_spec("httptools") is not None,
        "sqlite": sqlite3.sqlite_version,
        "load_generator": loads.tool_version(using),
    }


def _cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
