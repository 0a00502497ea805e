"""The benchmark report as a readable table (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import PATHS


def table(report: dict[str, Any]) -> Table:
    config = report["config"]
    workers = config.get("uvicorn_workers", 1)
    title = (
        f"backplan bench: {config['users']:,} people, {config['weeks']} weeks each; "
        f"{config['duration_s']:g} s per path, {config['connections']} connections, "
        f"{config['load_generator']}, {workers} uvicorn worker{'s' if workers > 1 else ''}"
    )
    grid = Table(title=title, title_justify="left")
    for name, justify in (
        ("backend", "left"),
        ("path", "left"),
        ("req/s", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
        ("errors", "right"),
        ("ratio", "right"),
        ("target", "right"),
    ):
        grid.add_column(name, justify=justify)  # type: ignore[arg-type]
    for backend, result in report["backends"].items():
        ceiling = result["ceiling"]
        grid.add_row(
            backend,
            f"ceiling: bare route, {result['plan_bytes']:,} B (higher of "
            + " and ".join(f"{run['rps']:,.0f}" for run in result.get("ceiling_runs", []))
            + ")",
            f"{ceiling['rps']:,.0f}",
            f"{ceiling['p50_ms']:.2f}",
            f"{ceiling['p99_ms']:.2f}",
            str(ceiling["errors"]),
            "1.00",
            "",
        )
        for name, label in PATHS.items():
            measured = result["paths"][name]
            met = measured["ratio"] >= measured["target"]
            note = (
                f" [yellow](pool reused {measured['wrapped']:,}x)[/]" if measured["wrapped"] else ""
            )
            grid.add_row(
                "",
                label + note,
                f"{measured['rps']:,.0f}",
                f"{measured['p50_ms']:.2f}",
                f"{measured['p99_ms']:.2f}",
                f"[red]{measured['errors']}[/]" if measured["errors"] else "0",
                f"[{'green' if met else 'red'}]{measured['ratio']:.2f}[/]",
                f"{measured['target']:.1f}",
            )
        grid.add_section()
    return grid


def machine_line(report: dict[str, Any]) -> str:
    machine = report["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    stores = "; ".join(
        f"{name}: {r['database']['version']}, {r['database']['bytes'] / 1e6:,.0f} MB, "
        f"seeded {r['seed']['rows']:,} rows in {r['seed']['seconds']:.1f} s, "
        f"read paths primed in {r.get('primed_seconds', 0):.1f} s"
        for name, r in report["backends"].items()
    )
    return (
        f"{machine['cores']} cores ({machine['cpu']}), {machine['python']}, {machine['platform']}\n"
        f"{packages}; uvloop {machine['uvloop']}, httptools {machine['httptools']}\n"
        f"load: {machine['load_generator']}\n{stores}"
    )


def show(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 120))
    console.print(table(report))
    console.print(machine_line(report), highlight=False)
