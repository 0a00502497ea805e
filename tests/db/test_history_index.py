"""SQLite's query plans for the hot reads: the history query
(`db.plans.load_history`) and a completion's read of its session
(`db.completions.find_target`) read covering indexes only; a week's sessions
(`db.plans.week_sessions`, `load_week`) are found through the week's index,
not among every session of the person."""

from pathlib import Path

from sqlalchemy.dialects import sqlite

from db import completions, plans
from db.engine import make_engine
from db.migrate import upgrade
from db.raw import Raw


def _query_plan(tmp_path: Path, raw: Raw | str, *values: str) -> list[str]:
    """SQLite's query plan for `raw` (or SQL) on a migrated database, a step a line."""
    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    upgrade(engine)
    sql = raw if isinstance(raw, str) else raw.compiled(engine.dialect).sql
    with engine.connect() as connection:
        steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", values).all()
    engine.dispose()
    return [str(step[-1]) for step in steps]


def test_sqlite_reads_the_history_from_its_covering_index_in_order(tmp_path: Path) -> None:
    details = _query_plan(tmp_path, plans._HISTORY, "someone")
    sessions = [detail for detail in details if "planned_sessions" in detail]
    # Not the table (whose rows hold each session's content), and no sort.
    assert sessions == [
        "SEARCH planned_sessions USING COVERING INDEX ix_planned_sessions_history (user_id=?)"
    ]
    assert not [detail for detail in details if "TEMP B-TREE" in detail]


def test_sqlite_reads_a_completions_session_from_its_covering_index(tmp_path: Path) -> None:
    details = _query_plan(tmp_path, completions._TARGET, "someone", "a-session")
    sessions = [detail for detail in details if "planned_sessions" in detail]
    # Not the table, whose rows hold each session's content (migration 0009).
    assert sessions == [
        "SEARCH planned_sessions USING COVERING INDEX ix_planned_sessions_target "
        "(user_id=? AND id=?)"
    ]


_BY_WEEK = (
    "SEARCH planned_sessions USING INDEX ix_planned_sessions_user_id_week (user_id=? AND week=?)"
)


def test_sqlite_finds_a_weeks_sessions_through_the_weeks_index(tmp_path: Path) -> None:
    details = _query_plan(tmp_path, plans._WEEK, "someone", "2026-W47")
    assert [detail for detail in details if "planned_sessions" in detail] == [_BY_WEEK]


def test_sqlite_loads_a_weeks_rows_through_the_weeks_index(tmp_path: Path) -> None:
    statement = plans.week_statement(user_id="someone", week="2026-W47")
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    details = _query_plan(tmp_path, str(compiled))
    assert [detail for detail in details if "planned_sessions" in detail] == [_BY_WEEK]
