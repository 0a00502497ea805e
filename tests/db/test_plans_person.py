"""What planning reads and writes on the driver's cursor (`db.raw`): the
person, and a week stored once, as the ORM would read them."""

from datetime import date

from sqlmodel import Session, select

from db import plans, users
from db.blocks import digest_of
from db.tables import PlannedSessionRow, SessionBlock
from programs import Block, BlockType, PlannedSession, Profile, Weekday
from tests.conftest import NOW
from tests.db.test_repositories import new_client, new_user


def test_a_person_reads_as_their_user_row(session: Session) -> None:
    client_id = new_client(session)
    profile = Profile(
        training_days=(Weekday.fri, Weekday.mon),
        session_minutes=45,
        fitness_level="high",
        equipment=("band", "mat"),
        aerobic_activities=("cycling", "walking"),
        birth_year=1961,
        program_start=date(2026, 11, 2),
    )
    user = users.create_user(
        session,
        client_id=client_id,
        external_id="p-1",
        timezone="Europe/London",
        profile=profile,
        program_start_given=True,
        now=NOW,
    )
    person, _reads = plans.person_and_reads(
        session, client_id=client_id, user_id=user.id, weeks=None, week_of=lambda _: None
    )
    assert person == plans.person_of(user)
    assert (person.external_id, person.timezone, person.program_start_given) == (
        "p-1",
        "Europe/London",
        True,
    )
    assert person.profile == users.profile_of(user) == profile


def test_stored_content_is_the_sessions_json_and_reads_back_alike(session: Session) -> None:
    user = new_user(session)
    text = PlannedSession(
        id="a",
        date=date(2026, 11, 16),
        minutes=20,
        blocks=(Block(type=BlockType.warm_up, minutes=20, exercises=()),),
        # Not ASCII: kept as it is, in UTF-8.
        healthkit_activity="Préparation à 30 °C",
    )
    content = plans.content_of(text)
    assert content == text.__pydantic_serializer__.to_json(text)
    item = plans.SessionToStore(planned=text, aerobic_minutes=0, strength_seconds=0)
    plans.store_week(session, user_id=user.id, week="2026-W47", sessions=[item], now=NOW)
    row = session.exec(select(PlannedSessionRow).where(PlannedSessionRow.user_id == user.id)).one()
    # The row holds the session without its blocks, and names each by digest.
    assert row.content == text.model_dump(mode="json") | {"blocks": []}
    (block,) = text.blocks
    block_json = block.__pydantic_serializer__.to_json(block)
    assert row.blocks == [digest_of(block_json)]
    stored = session.get(SessionBlock, digest_of(block_json))
    assert stored is not None
    assert stored.content == block_json.decode()
    read = plans.week_sessions(session, user_id=user.id, week="2026-W47")
    assert [entry.planned for entry in read] == [text]
