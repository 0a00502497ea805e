"""Load from a separate process: wrk when it is on PATH, otherwise the async
httpx generator in `bench.loadgen`. Both take the same `Load` and report the
same figures (a `dict`, see `Result`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

ROOT = Path(__file__).resolve().parents[1]

# One request per call of request(): paths from a file, rotated, each used once
# until they run out (then it wraps, and says how often in `wrapped`).
WRK_SCRIPT = r"""
local spec = os.getenv("BENCH_SPEC_DIR")
local method = os.getenv("BENCH_METHOD")
local auth = os.getenv("BENCH_AUTH") or ""
local key_prefix = os.getenv("BENCH_IDEMPOTENCY_PREFIX") or ""
local out = os.getenv("BENCH_OUT")
local paths = {}
for line in io.lines(spec .. "/paths.txt") do paths[#paths + 1] = line end
local body = nil
local f = io.open(spec .. "/body.json", "rb")
if f then body = f:read("*a"); f:close() end
local n = 0
wrapped = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  local i = n
  if i > #paths then
    wrapped = wrapped + 1
    i = ((i - 1) % #paths) + 1
  end
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  if body then headers["Content-Type"] = "application/json" end
  if key_prefix ~= "" then headers["Idempotency-Key"] = key_prefix .. "-" .. n end
  return wrk.format(method, paths[i], headers, body)
end

function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  local e = summary.errors
  local file = io.open(out, "w")
  file:write(string.format(
    '{"requests": %d, "duration_s": %.6f, "status_errors": %d, "transport_errors": %d, ' ..
    '"timeouts": %d, "p50_ms": %.4f, "p90_ms": %.4f, "p99_ms": %.4f, "max_ms": %.4f, ' ..
    '"mean_ms": %.4f, "wrapped": %d}',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write,
    e.timeout, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, latency.mean / 1e3, w))
  file:close()
end
"""


@dataclass(frozen=True)
class Load:
    """What one path sends: `paths` are used in turn, once each if there are enough."""

    name: str
    method: str
    paths: list[str]
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Send a new Idempotency-Key with each request, as the README recommends to apps.
    idempotency_keys: bool = False
    # Each request needs a path of its own (a first fetch, a new completion):
    # `wrapped` then counts the requests that had to reuse one.
    once: bool = False


class Result(TypedDict):
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    status_errors: int
    transport_errors: int
    timeouts: int
    wrapped: int


def tool() -> str:
    """ "wrk" when it is on PATH, otherwise "httpx"; BENCH_LOADGEN overrides."""
    chosen = os.environ.get("BENCH_LOADGEN")
    if chosen:
        return chosen
    return "wrk" if shutil.which("wrk") else "httpx"


def tool_version(name: str) -> str:
    if name == "wrk":
        found = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        return (found.stdout or found.stderr).splitlines()[0].strip()
    import httpx

    return f"bench.loadgen on httpx {httpx.__version__}"


def run(
    load: Load, *, url: str, connections: int, duration: float, workdir: Path, using: str
) -> Result:
    """Drive `load` at `url` for `duration` seconds from a separate process."""
    spec = workdir / f"load-{load.name}-{uuid.uuid4().hex[:8]}"
    spec.mkdir(parents=True)
    (spec / "paths.txt").write_text("\n".join(load.paths) + "\n")
    if load.body is not None:
        (spec / "body.json").write_bytes(load.body)
    out = spec / "result.json"
    auth = load.headers.get("Authorization", "")
    prefix = uuid.uuid4().hex if load.idempotency_keys else ""
    timeout = duration + 60
    if using == "wrk":
        script = spec / "load.lua"
        script.write_text(WRK_SCRIPT)
        env = {
            **os.environ,
            "BENCH_SPEC_DIR": str(spec),
            "BENCH_METHOD": load.method,
            "BENCH_AUTH": auth,
            "BENCH_IDEMPOTENCY_PREFIX": prefix,
            "BENCH_OUT": str(out),
        }
        seconds = max(1, round(duration))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
        command += ["-s", str(script), url]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=timeout)
    else:
        config = {
            **asdict(load),
            "body": None if load.body is None else load.body.decode(),
            "url": url,
            "connections": connections,
            "duration": duration,
            "idempotency_prefix": prefix,
        }
        (spec / "spec.json").write_text(json.dumps(config))
        command = [sys.executable, "-m", "bench.loadgen", str(spec / "spec.json"), str(out)]
        subprocess.run(command, cwd=ROOT, check=True, timeout=timeout)
    raw: dict[str, Any] = json.loads(out.read_text())
    requests = int(raw["requests"])
    errors = int(raw["status_errors"]) + int(raw["transport_errors"]) + int(raw["timeouts"])
    return Result(
        requests=requests,
        duration_s=raw["duration_s"],
        rps=requests / raw["duration_s"] if raw["duration_s"] else 0.0,
        p50_ms=raw["p50_ms"],
        p90_ms=raw["p90_ms"],
        p99_ms=raw["p99_ms"],
        max_ms=raw["max_ms"],
        mean_ms=raw["mean_ms"],
        errors=errors,
        status_errors=int(raw["status_errors"]),
        transport_errors=int(raw["transport_errors"]),
        timeouts=int(raw["timeouts"]),
        wrapped=int(raw["wrapped"]) if load.once else 0,
    )
