"""`python -m bench compare`: does latency grow with data?

The issue's test: "Compare 1,000 users against 100,000 users with 2 million
completions: the p50 of each path stays within 1.25x." For each backend, the
normal run (`bench.harness.run`) is made with `small` people and then with
`large`, every other setting the same, and each path's p50 at the two sizes is
compared: the ratio large/small, and whether it is within LIMIT. The report
also says what each database held (people, stored sessions, completions) and
how big it was.

The sizes run back to back per backend, small first, each on a fresh database
dropped right after it, so the disk holds one database at a time.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import harness
from bench import load as loads

# The largest p50 growth allowed, large over small (the 1.25x).
LIMIT = 1.25
SIZES = ("small", "large")


def compare(
    config: harness.Config,
    *,
    small: int,
    large: int,
    limit: float = LIMIT,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run `config` at `small` and at `large` people on each of its backends;
    the comparison report (also written to `config.out` as JSON, after each
    run, so that a long comparison keeps what it has measured). `on_run`, if
    given, is called with each run's own report as it finishes."""
    using = config.loadgen or loads.tool()
    sizes = {"small": small, "large": large}
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]])
        if Path(sys.argv[0]).parent.name == "bench"
        else None,
        "machine": harness.machine(using),
        "config": {
            "small": small,
            "large": large,
            "limit": limit,
            "weeks": config.weeks,
            "duration_s": config.duration,
            "connections": config.connections,
            "uvicorn_workers": config.workers,
            "load_generator": using,
        },
        "sizes": {},
        "backends": {},
        # Every path of every backend within the limit, no errors, and every
        # first-time plan and completion a new one (no pool reused).
        "passed": False,
    }
    for backend in config.backends:
        runs: dict[str, dict[str, Any]] = {}
        for label, users in sizes.items():
            run_config = replace(config, users=users, backends=(backend,), out=None, loadgen=using)
            run = harness.run(run_config)
            report["sizes"][label] = run["config"]
            runs[label] = run["backends"][backend]
            report["backends"][backend] = summary(runs, limit)
            report["passed"] = all(passed(result) for result in report["backends"].values())
            _write(config.out, report)
            if on_run is not None:
                on_run(run)
    return report


def summary(runs: dict[str, dict[str, Any]], limit: float) -> dict[str, Any]:
    """One backend's comparison from its runs by size (both, or only "small"
    while the large one is still to come)."""
    result: dict[str, Any] = {
        "store": {label: store(run) for label, run in runs.items()},
        "runs": runs,
    }
    if not all(label in runs for label in SIZES):
        return result
    small, large = runs["small"], runs["large"]
    paths: dict[str, dict[str, Any]] = {}
    for name in harness.PATHS:
        paths[name] = growth(small["paths"][name], large["paths"][name], limit)
    result["paths"] = paths
    # Not judged: the bare route's own drift between the two runs, for scale.
    result["ceiling"] = growth(small["ceiling"], large["ceiling"], limit)
    result["within"] = all(path["within"] for path in paths.values())
    result["errors"] = sum(path["errors"] for path in paths.values())
    result["wrapped"] = sum(path["wrapped"] for path in paths.values())
    return result


def passed(result: dict[str, Any]) -> bool:
    """One backend's verdict: both sizes run, every path within, clean."""
    return bool(result.get("within")) and result["errors"] == 0 and result["wrapped"] == 0


def growth(small: dict[str, Any], large: dict[str, Any], limit: float) -> dict[str, Any]:
    # No ratio (and not within) if the small run measured nothing.
    ratio = large["p50_ms"] / small["p50_ms"] if small["p50_ms"] > 0 else None
    return {
        "small_p50_ms": small["p50_ms"],
        "large_p50_ms": large["p50_ms"],
        "ratio": ratio,
        "within": ratio is not None and ratio <= limit,
        "small_rps": small["rps"],
        "large_rps": large["rps"],
        "errors": small["errors"] + large["errors"],
        # Requests that reused a fresh person or open session (a first-time
        # path then measured something else): the run needs more of them.
        "wrapped": small.get("wrapped", 0) + large.get("wrapped", 0),
    }


def store(run: dict[str, Any]) -> dict[str, Any]:
    """What one run's database held, and what seeding and priming it took."""
    database = run["database"]
    return {
        "people": database["people"],
        "sessions": database["sessions"],
        "completions": database["completions"],
        "bytes": database["bytes"],
        "stored_users": run["seed"]["users"],
        "fresh_users": run["seed"]["fresh_users"],
        "load_users": run["seed"]["load_users"],
        "seed_seconds": run["seed"]["seconds"],
        "primed_seconds": run.get("primed_seconds", 0.0),
        "load_average": run.get("load_average", []),
        "cpu_steal": run.get("cpu_steal"),
    }


def _write(out: Path | None, report: dict[str, Any]) -> None:
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
