"""Migration 0010 splits the sessions already stored into their own fields
and shared blocks exactly as the service splits new ones, and its downgrade
puts each one back byte for byte."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine, text
from sqlmodel import Session

from db import blocks, plans
from db.migrate import downgrade, upgrade
from db.tables import StoredWeek
from programs import IsoWeek, Profile, Weekday, plan_week
from tests.conftest import NOW
from tests.db.test_repositories import new_user

PROFILE = Profile(
    training_days=(Weekday.mon, Weekday.wed, Weekday.fri),
    session_minutes=40,
    program_start=date(2026, 11, 2),
)
WEEKS = ("2026-W46", "2026-W47")


def stored_contents(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, CAST(content AS TEXT) FROM planned_sessions"))
        return {row[0]: row[1] for row in rows}


def test_sessions_stored_before_split_into_shared_blocks_and_back(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0009")
    json_param = ":content" if empty_engine.dialect.name == "sqlite" else "CAST(:content AS JSON)"
    insert = text(
        "INSERT INTO planned_sessions (user_id, id, week, date, position, content, "
        "aerobic_minutes, strength_seconds, eased, created_at, updated_at) VALUES "
        f"(:user_id, :id, :week, :date, :position, {json_param}, 0, 0, false, :now, :now)"
    )
    sessions = {}
    with Session(empty_engine) as session:
        user_id = new_user(session).id
        for week in WEEKS:
            session.add(StoredWeek(user_id=user_id, week=week, stored_at=NOW))
        session.flush()
        for week in WEEKS:
            plan = plan_week(
                person_id=user_id,
                profile=PROFILE,
                week=IsoWeek.parse(week),
                today=date(2026, 11, 16),
            )
            for position, planned in enumerate(plan.sessions):
                sessions[planned.id] = planned
                values = {
                    "user_id": user_id,
                    "id": planned.id,
                    "week": week,
                    "date": planned.date,
                    "position": position,
                    "content": planned.model_dump_json(),
                    "now": NOW,
                }
                session.connection().execute(insert, values)
        session.commit()
    before = stored_contents(empty_engine)
    assert len(before) >= 6

    upgrade(empty_engine)
    with Session(empty_engine) as session:
        read = [
            entry
            for week in WEEKS
            for entry in plans.week_sessions(session, user_id=user_id, week=week)
        ]
        assert {entry.id: entry.planned for entry in read} == sessions
        for entry in read:
            # The same bytes as before, and the same digests as the service's.
            assert plans.content_of(entry.planned).decode() == before[entry.id]
        rows = session.connection().execute(text("SELECT id, blocks FROM planned_sessions"))
        for session_id, digests in rows:
            expected = blocks.split(sessions[session_id]).digests
            assert tuple(digests if isinstance(digests, list) else json.loads(digests)) == expected
        distinct = {block for planned in sessions.values() for block in planned.blocks}
        count = session.connection().execute(text("SELECT count(*) FROM session_blocks"))
        assert count.scalar_one() == len(distinct) < sum(len(p.blocks) for p in sessions.values())
    assert all('"blocks":[]' in content for content in stored_contents(empty_engine).values())

    downgrade(empty_engine, "0009")
    assert stored_contents(empty_engine) == before
