"""`python -m bench run`: the HTTP benchmark (see bench/harness.py and the README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import harness, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="seed, serve, load each path, report")
    defaults = harness.Config()
    run.add_argument("--users", type=int, default=defaults.users, help="people seeded")
    run.add_argument(
        "--fresh-users",
        type=int,
        default=None,
        help="people whose week was never fetched, one per first-time GET "
        "(default: max(users/2, 200 x duration))",
    )
    run.add_argument("--weeks", type=int, default=defaults.weeks, help="weeks of history each")
    run.add_argument("--duration", type=float, default=defaults.duration, help="seconds per path")
    run.add_argument("--connections", type=int, default=defaults.connections)
    run.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="uvicorn workers of the service (the ceiling runs as many)",
    )
    run.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds per read path")
    run.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    run.add_argument("--postgres-url", default=defaults.postgres_url, help="server to use")
    run.add_argument(
        "--loadgen", choices=("wrk", "httpx"), default=None, help="default: wrk if found"
    )
    run.add_argument("--out", type=Path, default=defaults.out, help="JSON report")
    args = parser.parse_args(argv)
    config = harness.Config(
        users=args.users,
        fresh_users=args.fresh_users,
        weeks=args.weeks,
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
        warmup=args.warmup,
        backends=harness.BACKENDS if args.backend == "both" else (args.backend,),
        postgres_url=args.postgres_url,
        loadgen=args.loadgen,
        out=args.out,
    )
    result = harness.run(config)
    report.show(result)
    print(f"report: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
