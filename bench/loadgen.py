"""The fallback load generator, for machines without wrk: N keep-alive
connections (httpx, asyncio) sending requests back to back for a fixed
duration, counting responses and errors and keeping every latency.

    python -m bench.loadgen SPEC.json RESULT.json

SPEC is written by `bench.load.run`. One Python process drives far fewer
requests per second than wrk does; near the ceiling it may be the bottleneck,
so prefer wrk for the figures that matter (the report names the generator).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import httpx

# Latency histogram: bucket upper bounds in ms, doubling from 0.125 ms.
BUCKETS_MS = tuple(0.125 * 2**i for i in range(20))


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    paths: list[str] = spec["paths"]
    connections: int = spec["connections"]
    body = None if spec["body"] is None else spec["body"].encode()
    headers = dict(spec["headers"])
    if body is not None:
        headers["Content-Type"] = "application/json"
    prefix: str = spec["idempotency_prefix"]
    latencies: list[float] = []
    counts = {"status_errors": 0, "transport_errors": 0, "timeouts": 0, "wrapped": 0}
    sent = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=30) as client:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec["duration"]

        async def worker() -> None:
            nonlocal sent
            while loop.time() < deadline:
                number = sent
                sent += 1
                if number >= len(paths):
                    counts["wrapped"] += 1
                request_headers = headers
                if prefix:
                    request_headers = {**headers, "Idempotency-Key": f"{prefix}-{number + 1}"}
                started = time.perf_counter()
                try:
                    response = await client.request(
                        spec["method"],
                        paths[number % len(paths)],
                        content=body,
                        headers=request_headers,
                    )
                except httpx.TimeoutException:
                    counts["timeouts"] += 1
                    continue
                except httpx.HTTPError:
                    counts["transport_errors"] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    counts["status_errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    histogram = [0] * (len(BUCKETS_MS) + 1)
    for value in latencies:
        histogram[bisect.bisect_left(BUCKETS_MS, value)] += 1
    return {
        "requests": len(latencies),
        "duration_s": elapsed,
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else 0.0,
        "mean_ms": sum(latencies) / len(latencies) if latencies else 0.0,
        "histogram_ms": {"le": list(BUCKETS_MS), "counts": histogram},
        **counts,
    }


def main(argv: list[str]) -> int:
    spec_file, out_file = argv
    spec = json.loads(Path(spec_file).read_text())
    result = asyncio.run(drive(spec))
    Path(out_file).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
