"""`backplan preview` and `backplan exercises` on the sample profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from programs import Plan, ReadinessStatus, all_exercises

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("profile-*.json"))
runner = CliRunner()


def test_there_are_sample_profiles() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("profile", EXAMPLES, ids=lambda p: p.stem)
def test_preview_prints_a_valid_plan_for_each_sample(profile: Path) -> None:
    result = runner.invoke(app, ["preview", "--profile", str(profile), "--today", "2026-11-21"])
    assert result.exit_code == 0, result.output
    plan = Plan.model_validate_json(result.output)
    assert plan.week == "2026-W47"
    if plan.status is not ReadinessStatus.ready:
        assert plan.sessions == ()
        assert plan.guidance


def test_preview_table_and_stage_and_week() -> None:
    profile = str(EXAMPLES[0])
    result = runner.invoke(
        app, ["preview", "--profile", profile, "--week", "2026-W50", "--stage", "3", "--table"]
    )
    assert result.exit_code == 0, result.output
    assert "2026-W50" in result.output
    assert "stage 3: strengthen" in result.output
    assert "balance: back" in result.output


def test_preview_replays_a_history_file(tmp_path: Path) -> None:
    profile = next(p for p in EXAMPLES if "active" in p.name)
    first = runner.invoke(app, ["preview", "--profile", str(profile), "--week", "2026-W45"])
    plan = Plan.model_validate_json(first.output)
    history = [
        {
            "session_id": s.id,
            "date": s.date.isoformat(),
            "completion": {
                "completed_at": f"{s.date.isoformat()}T18:00:00Z",
                "pain_during": 7,
                "effort": 5,
            },
        }
        for s in plan.sessions
    ]
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history))
    after = runner.invoke(
        app, ["preview", "--profile", str(profile), "--week", "2026-W46", "--history", str(path)]
    )
    assert after.exit_code == 0, after.output
    regressed = Plan.model_validate_json(after.output)
    assert regressed.adjustment is not None
    assert regressed.adjustment.action == "regress"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W99"], "no week 99"),
        (["--week", "soon"], "ISO week"),
        (["--stage", "5"], "less than or equal to 4"),
    ],
)
def test_preview_rejects_bad_options(args: list[str], message: str) -> None:
    result = runner.invoke(
        app, ["preview", "--profile", str(EXAMPLES[0]), *args], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2
    assert message in result.output


def test_preview_names_the_problem_in_a_bad_profile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"training_days": ["mon", "tue"], "session_minutes": 5}))
    result = runner.invoke(app, ["preview", "--profile", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "training_days" in result.output
    assert "session_minutes" in result.output


def test_exercises_lists_the_library() -> None:
    result = runner.invoke(app, ["exercises"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for exercise in all_exercises():
        assert exercise.slug in result.output
