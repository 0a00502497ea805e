"""A session's stored JSON (`content_of`) is pydantic's, whether its blocks
were serialized before (shared by other sessions) or not."""

from db.plans import content_of
from programs import PlannedSession
from tests.programs.simulate import profile, simulate


def test_content_is_the_sessions_json_with_blocks_seen_before_or_not() -> None:
    person = profile(session_minutes=60, equipment=("band", "dumbbells"), birth_year=1950)
    plans = simulate(person, 16, pain=lambda week, s: 7 if week % 6 == 5 else 2)
    sessions = [session for plan in plans for session in plan.sessions]
    blocks = [id(block) for session in sessions for block in session.blocks]
    assert len(set(blocks)) < len(blocks)  # the engine shares blocks between sessions
    for _ in range(2):
        for session in sessions:
            content = content_of(session)
            assert content == session.__pydantic_serializer__.to_json(session)
            assert PlannedSession.model_validate_json(content) == session


def test_a_session_without_blocks_is_its_json() -> None:
    session = simulate(profile(), 1)[0].sessions[0].model_copy(update={"blocks": ()})
    assert content_of(session) == session.__pydantic_serializer__.to_json(session)
