"""The history query (`db.plans.load_history`) reads a covering index only."""

from pathlib import Path

from db import plans
from db.engine import make_engine
from db.migrate import upgrade


def test_sqlite_reads_the_history_from_its_covering_index_in_order(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/history.db")
    upgrade(engine)
    sql = str(plans._HISTORY.statement.compile(dialect=engine.dialect))
    with engine.connect() as connection:
        steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("someone",)).all()
    engine.dispose()
    details = [str(step[-1]) for step in steps]
    sessions = [detail for detail in details if "planned_sessions" in detail]
    # Not the table (whose rows hold each session's content), and no sort.
    assert sessions == [
        "SEARCH planned_sessions USING COVERING INDEX ix_planned_sessions_history (user_id=?)"
    ]
    assert not [detail for detail in details if "TEMP B-TREE" in detail]
