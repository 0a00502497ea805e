"""The HTTP benchmark harness keeps working: a tiny run on each backend, and a
tiny comparison of two sizes. It asserts that every path ran without errors
and that the reports hold together, never how fast (issue 7: no timing
assertions in the suite)."""

from __future__ import annotations

import io
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench import compare, harness, report
from bench.__main__ import main
from bench.seed import TEMPLATE_PROFILES, Seeded, interleaved

EXPECTED_PATHS = {"exercises", "stored_plan", "progress", "first_plan", "completion"}
TEMPLATES = len(TEMPLATE_PROFILES)


def tiny_run(
    backend: str,
    tmp_path: Path,
    postgres_url: str | None = None,
    loadgen: str | None = None,
    load_users: int | None = None,
) -> dict[str, Any]:
    config = harness.Config(
        loadgen=loadgen,
        users=20,
        fresh_users=60,
        load_users=load_users,
        weeks=2,
        duration=1,
        connections=4,
        warmup=0,
        backends=(backend,),
        out=tmp_path / "results.json",
        workdir=tmp_path,
    )
    if postgres_url:
        config.postgres_url = postgres_url
    return harness.run(config)


def check(result: dict[str, Any], backend: str, tmp_path: Path, *, sample: int = 20) -> None:
    assert (tmp_path / "results.json").is_file()
    assert result["config"]["load_users"] == sample
    measured = result["backends"][backend]
    assert measured["seed"]["users"] == 20
    assert measured["seed"]["fresh_users"] == 60
    assert measured["seed"]["load_users"] == sample
    assert measured["seed"]["open_sessions"] > 0
    database = measured["database"]
    assert database["people"] == 20 + 60 + TEMPLATES
    assert database["sessions"] > database["completions"] > 0
    assert database["bytes"] > 0
    assert measured["ceiling"]["requests"] > 0
    assert measured["ceiling"]["errors"] == 0
    assert set(measured["paths"]) == EXPECTED_PATHS
    for name, path in measured["paths"].items():
        assert path["requests"] > 0, name
        assert path["rps"] > 0, name
        assert path["errors"] == 0, (name, path)
        assert path["ratio"] > 0, name
    # The ceiling ran before, between and after the paths; each path's ratio
    # is against the higher of the two runs around it, in the order they ran.
    runs = measured["ceiling_runs"]
    assert len(runs) == len(harness.PATHS) + 1
    assert all(run["requests"] > 0 and run["errors"] == 0 for run in runs)
    assert measured["ceiling"]["rps"] == max(run["rps"] for run in runs)
    for index, name in enumerate(harness.PATHS):
        path = measured["paths"][name]
        around = max(runs[index]["rps"], runs[index + 1]["rps"])
        assert path["ceiling"] == around, name
        assert path["ratio"] == pytest.approx(path["rps"] / around), name
    assert measured["service_tracebacks"] == 0
    assert result["machine"]["cores"]
    text = rendered(result)
    assert f"the highest of {len(runs)} runs" in text
    low, high = min(run["rps"] for run in runs), max(run["rps"] for run in runs)
    assert f"{low:,.0f}-{high:,.0f}" in text
    report.machine_line(result)


def rendered(result: dict[str, Any]) -> str:
    console = Console(record=True, width=250, file=io.StringIO())
    console.print(report.table(result))
    return console.export_text()


def test_harness_on_sqlite_with_its_own_load_generator(tmp_path: Path) -> None:
    # The httpx generator is what a machine without wrk uses: keep it working.
    check(tiny_run("sqlite", tmp_path, loadgen="httpx"), "sqlite", tmp_path)


@pytest.mark.postgres
def test_harness_on_postgres_with_the_default_load_generator(
    tmp_path: Path, postgres_admin_url: str
) -> None:
    check(
        tiny_run("postgres", tmp_path, postgres_admin_url, load_users=5),
        "postgres",
        tmp_path,
        sample=5,
    )


def test_the_reads_go_to_a_random_sample_of_the_stored_people() -> None:
    stored = [f"u{n}" for n in range(100)]
    seeded = Seeded(
        client_key="k",
        stored_users=stored,
        fresh_users=[f"f{n}" for n in range(10)],
        open_sessions=[(f"u{n}", f"s{n}-{k}") for n in range(100) for k in range(3)],
    )
    config = harness.Config(users=100, load_users=10, fresh_users=10)
    sample, sessions = harness.pools(config, seeded)
    assert len(sample) == len(set(sample)) == 10
    assert set(sample) <= set(stored)
    assert sample != stored[:10]  # drawn at random, not the first seeded
    assert harness.pools(config, seeded) == (sample, sessions)  # the same draw each time
    # Completions draw on everyone's open sessions, in random order.
    assert sorted(sessions) == sorted(seeded.open_sessions)
    assert sessions != seeded.open_sessions
    everyone = harness.Config(users=100, fresh_users=10)
    assert sorted(harness.pools(everyone, seeded)[0]) == sorted(stored)


def test_the_defaults_scale_with_the_run_not_with_the_people() -> None:
    assert harness.Config(users=100_000, duration=5).sample == harness.DEFAULT_LOAD_USERS
    assert harness.Config(users=1_000, duration=5).sample == 1_000
    assert harness.Config(users=1_000, load_users=50).sample == 50
    # First-time plans: the same number of fresh people at every size.
    assert harness.Config(users=100_000, duration=5).fresh == 6_000
    assert harness.Config(users=1_000, duration=5).fresh == 6_000
    assert harness.Config(duration=0.5).fresh == harness.MIN_FRESH_USERS
    assert harness.Config(duration=3_600).fresh == harness.MAX_FRESH_USERS
    assert harness.Config(fresh_users=7).fresh == 7


def test_fresh_people_are_seeded_among_the_stored_ones() -> None:
    kinds = list(interleaved(stored=600, fresh=300))
    assert kinds.count("fresh") == 300
    assert kinds.count("stored") == 600
    fresh_at = [index for index, kind in enumerate(kinds) if kind == "fresh"]
    assert max(b - a for a, b in pairwise(fresh_at)) <= 3
    assert list(interleaved(stored=0, fresh=2)) == ["fresh", "fresh"]
    assert list(interleaved(stored=2, fresh=0)) == ["stored", "stored"]


def test_compare_runs_both_sizes_and_reports_each_paths_growth(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    argv = ["compare", "--small", "3", "--large", "6", "--weeks", "2", "--duration", "1"]
    argv += ["--warmup", "0", "--connections", "4", "--fresh-users", "30"]
    argv += ["--backend", "sqlite", "--workdir", str(tmp_path), "--out", str(out)]
    assert main(argv) == 0
    result: dict[str, Any] = json.loads(out.read_text())
    assert result["config"]["small"] == 3
    assert result["config"]["large"] == 6
    assert result["config"]["limit"] == compare.LIMIT
    assert result["sizes"]["small"]["users"] == 3
    assert result["sizes"]["large"]["users"] == 6
    for size in ("small", "large"):
        # Everything but the people seeded is the same.
        assert result["sizes"][size]["fresh_users"] == 30
        assert result["sizes"][size]["weeks"] == 2
    sqlite = result["backends"]["sqlite"]
    for size, users in (("small", 3), ("large", 6)):
        store = sqlite["store"][size]
        assert store["people"] == users + 30 + TEMPLATES
        assert store["stored_users"] == store["load_users"] == users
        assert store["sessions"] > store["completions"] > 0
        assert store["bytes"] > 0
        assert sqlite["runs"][size]["database"]["completions"] == store["completions"]
    assert sqlite["store"]["large"]["completions"] > sqlite["store"]["small"]["completions"]
    assert set(sqlite["paths"]) == EXPECTED_PATHS
    for name, path in {**sqlite["paths"], "ceiling": sqlite["ceiling"]}.items():
        small = sqlite["runs"]["small"]["paths"].get(name, sqlite["runs"]["small"]["ceiling"])
        large = sqlite["runs"]["large"]["paths"].get(name, sqlite["runs"]["large"]["ceiling"])
        assert path["small_p50_ms"] == small["p50_ms"] > 0, name
        assert path["large_p50_ms"] == large["p50_ms"] > 0, name
        assert path["ratio"] == pytest.approx(large["p50_ms"] / small["p50_ms"]), name
        assert path["within"] == (path["ratio"] <= compare.LIMIT), name
        assert path["errors"] == 0, (name, path)
        assert path["wrapped"] == small["wrapped"] + large["wrapped"], name
    assert sqlite["within"] == all(path["within"] for path in sqlite["paths"].values())
    assert sqlite["errors"] == 0
    assert sqlite["wrapped"] == sum(path["wrapped"] for path in sqlite["paths"].values())
    assert result["passed"] == (sqlite["within"] and sqlite["wrapped"] == 0)
    report.compare_table(result)  # renders
    assert "completions" in report.compare_lines(result)


def test_cpu_steal_is_the_share_of_the_eighth_counter() -> None:
    before = [100, 0, 50, 800, 10, 0, 5, 35, 0, 0]
    after = [160, 0, 70, 860, 10, 0, 5, 55, 0, 0]  # 160 ticks, 20 of them stolen
    assert harness.steal_between(before, after) == 0.125
    assert harness.steal_between(None, after) is None
    assert harness.steal_between(before, before) is None
    assert harness.steal_between([1, 2, 3], [2, 3, 4]) is None
    found = harness.cpu_times()
    assert found is None or len(found) >= 8


def test_each_paths_ratio_is_against_the_higher_ceiling_run_around_it() -> None:
    ceilings = [4_000.0, 5_000.0, 4_500.0]
    taken = harness.ratios([2_000.0, 900.0], ceilings)
    assert [one.ceiling for one in taken] == [5_000.0, 5_000.0]
    assert [one.ratio for one in taken] == pytest.approx([0.4, 0.18])
    # The machine slowed down after the first path: the later paths are judged
    # against their own minutes' ceiling, not the fast minute's before the first.
    drifting = [4_747.0, 4_600.0, 3_722.0, 3_800.0]
    taken = harness.ratios([2_300.0, 1_900.0, 1_900.0], drifting)
    assert [one.ceiling for one in taken] == [4_747.0, 4_600.0, 3_800.0]
    assert [one.ratio for one in taken] == pytest.approx(
        [2_300 / 4_747, 1_900 / 4_600, 1_900 / 3_800]
    )
    # Against the highest run of all, the last path would look a fifth slower.
    assert taken[2].ratio > 1.2 * 1_900 / max(drifting)
    # Never flattering: the higher neighbour, though the lower one ran next to it.
    assert taken[1].ratio < 1_900 / 3_722
    # A ceiling that served nothing on both sides gives no ratio, not a division by 0.
    assert harness.ratios([10.0], [0.0, 0.0]) == [harness.Ratio(0.0, 0.0)]
    assert harness.ratios([], [4_000.0]) == []


@pytest.mark.parametrize("ceilings", [[], [4_000.0], [4_000.0, 4_100.0, 4_200.0]])
def test_the_ceiling_runs_one_more_time_than_there_are_paths(ceilings: list[float]) -> None:
    with pytest.raises(ValueError, match="2 ceiling runs"):
        harness.ratios([1_000.0], ceilings)
