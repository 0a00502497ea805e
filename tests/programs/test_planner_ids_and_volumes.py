"""Session ids are RFC 4122 name-based UUIDs, and a session's volume is what
`summarize` counts for it."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from programs import PlannedSession, Profile, session_volume, summarize
from programs.planner import session_id
from tests.programs.simulate import simulate
from tests.programs.test_planner_properties import PROPERTY_SETTINGS, profiles

NAMESPACE = uuid.UUID("5b1f3c1e-8f57-4d0c-9a53-0c6d3b1e7a42")


@PROPERTY_SETTINGS
@given(
    person=st.text(min_size=1, max_size=80),
    day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    slot=st.integers(0, 3),
)
def test_a_session_id_is_the_uuid5_of_person_date_and_slot(
    person: str, day: date, slot: int
) -> None:
    expected = uuid.uuid5(NAMESPACE, f"{person}/{day.isoformat()}/{slot}")
    assert session_id.__wrapped__(person, day, slot) == str(expected)
    assert session_id(person, day, slot) == str(expected)
    assert uuid.UUID(session_id(person, day, slot)).version == 5


def test_known_session_ids_stay_as_they_were() -> None:
    # Stored sessions keep their ids: the function must never change them.
    assert session_id("person-1", date(2026, 11, 16)) == str(
        uuid.uuid5(NAMESPACE, "person-1/2026-11-16/0")
    )
    assert session_id("1ae6026e-d026-4c52-b989-49d2045d841c", date(2026, 9, 28)) == (
        "8b62e5cf-97a9-5300-a4b5-2c2d1ce9137c"
    )


def volumes_apart(session: PlannedSession) -> tuple[int, int]:
    _, aerobic, strength = summarize((session,))
    return aerobic, strength


@PROPERTY_SETTINGS
@given(person=profiles(), weeks=st.integers(1, 14))
def test_a_sessions_volume_is_what_summarize_counts(person: Profile, weeks: int) -> None:
    for plan in simulate(person, weeks, pain=lambda week, s: 7 if week % 5 == 4 else 2):
        for session in plan.sessions:
            assert session_volume(session) == volumes_apart(session)
