"""The benchmark report as a readable table (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import PATHS


def table(report: dict[str, Any]) -> Table:
    config = report["config"]
    sample = config.get("load_users", config["users"])
    title = (
        f"backplan bench: {config['users']:,} people, {config['weeks']} weeks each "
        f"(reads over {sample:,} of them, first-time plans over {config['fresh_users']:,} more); "
        f"{config['duration_s']:g} s per path, {config['connections']} connections, "
        f"{config['load_generator']}, {_workers(config)}"
    )
    grid = Table(
        title=title,
        title_justify="left",
        caption="ratio: req/s over the ceiling column, the higher of the ceiling runs "
        "just before and just after the path (the ceiling is measured before, between "
        "and after the paths)",
        caption_justify="left",
    )
    for name, justify in (
        ("backend", "left"),
        ("path", "left"),
        ("req/s", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
        ("errors", "right"),
        ("ceiling", "right"),
        ("ratio", "right"),
        ("target", "right"),
    ):
        grid.add_column(name, justify=justify)  # type: ignore[arg-type]
    for backend, result in report["backends"].items():
        ceiling = result["ceiling"]
        runs = [run["rps"] for run in result.get("ceiling_runs", [])]
        grid.add_row(
            backend,
            f"ceiling: bare route, {result['plan_bytes']:,} B (the highest of "
            f"{len(runs)} run{'s' if len(runs) != 1 else ''})",
            f"{ceiling['rps']:,.0f}",
            f"{ceiling['p50_ms']:.2f}",
            f"{ceiling['p99_ms']:.2f}",
            str(ceiling["errors"]),
            _spread(runs),
            "",
            "",
        )
        for name, label in PATHS.items():
            measured = result["paths"][name]
            met = measured["ratio"] >= measured["target"]
            note = (
                f" [yellow](pool reused {measured['wrapped']:,}x)[/]" if measured["wrapped"] else ""
            )
            # A report from before the ceiling ran beside each path has no
            # ceiling of its own per path.
            against = measured.get("ceiling")
            grid.add_row(
                "",
                label + note,
                f"{measured['rps']:,.0f}",
                f"{measured['p50_ms']:.2f}",
                f"{measured['p99_ms']:.2f}",
                f"[red]{measured['errors']}[/]" if measured["errors"] else "0",
                f"{against:,.0f}" if against is not None else "",
                f"[{'green' if met else 'red'}]{measured['ratio']:.2f}[/]",
                f"{measured['target']:.1f}",
            )
        grid.add_section()
    return grid


def _spread(runs: list[float]) -> str:
    """The ceiling runs' range, lowest to highest: how far the machine drifted."""
    if not runs:
        return ""
    return f"{min(runs):,.0f}-{max(runs):,.0f}" if len(runs) > 1 else f"{runs[0]:,.0f}"


def machine_line(report: dict[str, Any]) -> str:
    machine = report["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    stores = "; ".join(
        f"{name}: {r['database']['version']}, {r['database']['bytes'] / 1e6:,.0f} MB, "
        f"{r['database']['people']:,} people, {r['database']['sessions']:,} sessions, "
        f"{r['database']['completions']:,} completions, "
        f"seeded {r['seed']['rows']:,} rows in {r['seed']['seconds']:.1f} s, "
        f"read paths primed in {r.get('primed_seconds', 0):.1f} s, load average "
        + " then ".join(f"{value:.1f}" for value in r.get("load_average", []))
        + _steal(r.get("cpu_steal"))
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


# --- `python -m bench compare` ---------------------------------------------------


def compare_table(report: dict[str, Any]) -> Table:
    config = report["config"]
    title = (
        f"backplan bench compare: {config['small']:,} against {config['large']:,} people, "
        f"{config['weeks']} weeks each; {config['duration_s']:g} s per path, "
        f"{config['connections']} connections, {config['load_generator']}, "
        f"{_workers(config)}; "
        f"p50 large/small within {config['limit']:g}x"
    )
    grid = Table(title=title, title_justify="left")
    for name, justify in (
        ("backend", "left"),
        ("path", "left"),
        (f"p50 ms, {config['small']:,}", "right"),
        (f"p50 ms, {config['large']:,}", "right"),
        ("growth", "right"),
        ("within", "left"),
        (f"req/s, {config['small']:,}", "right"),
        (f"req/s, {config['large']:,}", "right"),
        ("errors", "right"),
    ):
        grid.add_column(name, justify=justify)  # type: ignore[arg-type]
    for backend, result in report["backends"].items():
        if "paths" not in result:
            continue  # the large run did not finish
        rows = [("ceiling: bare route (not judged)", result["ceiling"], False)]
        rows += [(label, result["paths"][name], True) for name, label in PATHS.items()]
        for index, (label, path, judged) in enumerate(rows):
            ratio = path["ratio"]
            colour = "green" if path["within"] else "red"
            note = f" [yellow](pool reused {path['wrapped']:,}x)[/]" if path.get("wrapped") else ""
            grid.add_row(
                backend if index == 0 else "",
                label + note,
                f"{path['small_p50_ms']:.2f}",
                f"{path['large_p50_ms']:.2f}",
                f"[{colour if judged else 'dim'}]{ratio:.2f}x[/]" if ratio is not None else "-",
                (f"[{colour}]{'yes' if path['within'] else 'NO'}[/]" if judged else ""),
                f"{path['small_rps']:,.0f}",
                f"{path['large_rps']:,.0f}",
                f"[red]{path['errors']}[/]" if path["errors"] else "0",
            )
        grid.add_section()
    return grid


def compare_lines(report: dict[str, Any]) -> str:
    """What each database held, per backend and size, and the verdict."""
    lines = []
    for backend, result in report["backends"].items():
        for label, store in result["store"].items():
            lines.append(
                f"{backend}, {report['config'][label]:,} people: {store['people']:,} people "
                f"({store['stored_users']:,} stored, {store['fresh_users']:,} fresh), "
                f"{store['sessions']:,} sessions, {store['completions']:,} completions, "
                f"{store['bytes'] / 1e6:,.0f} MB; seeded in {store['seed_seconds']:.1f} s, "
                f"{store['load_users']:,} people's reads primed in "
                f"{store['primed_seconds']:.1f} s; load average "
                + " then ".join(f"{value:.1f}" for value in store.get("load_average", []))
                + _steal(store.get("cpu_steal"))
            )
    limit = report["config"]["limit"]
    failed = [
        f"{backend} {name} {path['ratio']:.2f}x" if path["ratio"] is not None else name
        for backend, result in report["backends"].items()
        for name, path in result.get("paths", {}).items()
        if not path["within"]
    ]
    errors = sum(result.get("errors", 0) for result in report["backends"].values())
    reused = [
        f"{backend} {name}"
        for backend, result in report["backends"].items()
        for name, path in result.get("paths", {}).items()
        if path.get("wrapped")
    ]
    if report["passed"]:
        lines.append(f"p50 within {limit:g}x on every path")
    else:
        why = [f"over {limit:g}x: " + ", ".join(failed)] if failed else []
        why += [f"{errors:,} errors"] if errors else []
        why += ["pools reused (pass more --fresh-users): " + ", ".join(reused)] if reused else []
        lines.append("NOT passed: " + ("; ".join(why) or "incomplete"))
    return "\n".join(lines)


def show_compare(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 160))
    console.print(compare_table(report))
    console.print(compare_lines(report), highlight=False)
    machine = report["machine"]
    console.print(
        f"{machine['cores']} cores ({machine['cpu']}), {machine['python']}; "
        f"load: {machine['load_generator']}",
        highlight=False,
    )


def _steal(share: float | None) -> str:
    """The CPU the hypervisor took while measuring, when it took any."""
    return f", CPU steal {share:.0%}" if share else ""


def _workers(config: dict[str, Any]) -> str:
    workers = config.get("uvicorn_workers", 1)
    return f"{workers} uvicorn worker{'s' if workers > 1 else ''}"
