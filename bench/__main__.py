"""`python -m bench run`: the HTTP benchmark; `python -m bench compare`: the
same at two sizes, each path's p50 growth (see bench/harness.py,
bench/compare.py and the README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import compare, harness, report

COMPARE_WEEKS = 7


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return number


def add_run_options(parser: argparse.ArgumentParser, *, out: Path, weeks: int) -> None:
    """The options `run` and `compare` share (all but the people seeded)."""
    defaults = harness.Config()
    parser.add_argument(
        "--fresh-users",
        type=int,
        default=None,
        help="people whose week was never fetched, one per first-time GET (default: "
        f"{harness.FRESH_PER_SECOND} x duration, within {harness.MIN_FRESH_USERS:,}"
        f"-{harness.MAX_FRESH_USERS:,})",
    )
    parser.add_argument(
        "--load-users",
        type=positive,
        default=None,
        help="stored people the stored-plan and progress GETs rotate over and priming "
        f"covers, drawn at random (default: {harness.DEFAULT_LOAD_USERS:,}, or all "
        "when fewer are seeded); first-time plans and completions use everyone",
    )
    parser.add_argument(
        "--weeks", type=positive, default=weeks, help=f"weeks of history each (default {weeks})"
    )
    parser.add_argument(
        "--duration", type=float, default=defaults.duration, help="seconds per path"
    )
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="uvicorn workers of the service (the ceiling runs as many)",
    )
    parser.add_argument(
        "--warmup", type=float, default=defaults.warmup, help="seconds per read path"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--postgres-url", default=defaults.postgres_url, help="server to use")
    parser.add_argument(
        "--loadgen", choices=("wrk", "httpx"), default=None, help="default: wrk if found"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the SQLite database and load files go (default: the system's temp dir)",
    )
    parser.add_argument("--out", type=Path, default=out, help="JSON report")


def config_from(args: argparse.Namespace, users: int) -> harness.Config:
    return harness.Config(
        users=users,
        fresh_users=args.fresh_users,
        load_users=args.load_users,
        weeks=args.weeks,
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
        warmup=args.warmup,
        backends=harness.BACKENDS if args.backend == "both" else (args.backend,),
        postgres_url=args.postgres_url,
        loadgen=args.loadgen,
        out=args.out,
        workdir=args.workdir,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = harness.Config()
    run = commands.add_parser("run", help="seed, serve, load each path, report")
    run.add_argument("--users", type=positive, default=defaults.users, help="people seeded")
    add_run_options(run, out=defaults.out or Path("bench/results.json"), weeks=defaults.weeks)
    pair = commands.add_parser(
        "compare",
        help="the run at two sizes: each path's p50 growth",
        description=compare.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pair.add_argument("--small", type=positive, default=1_000, help="people seeded, small run")
    pair.add_argument("--large", type=positive, default=100_000, help="people seeded, large run")
    pair.add_argument(
        "--limit", type=float, default=compare.LIMIT, help="largest p50 growth allowed"
    )
    # 7 weeks: ~20 completions each, so 100,000 people hold the 2 million.
    add_run_options(pair, out=Path("bench/results-compare.json"), weeks=COMPARE_WEEKS)
    args = parser.parse_args(argv)
    if args.command == "run":
        result = harness.run(config_from(args, args.users))
        report.show(result)
    else:
        result = compare.compare(
            config_from(args, args.small),
            small=args.small,
            large=args.large,
            limit=args.limit,
            on_run=report.show,
        )
        report.show_compare(result)
    print(f"report: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
