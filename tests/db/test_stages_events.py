"""A stage change announces itself (`stage.changed`), about the person by ids."""

import json
from datetime import date

import pytest
from sqlmodel import Session, select

from db import stages
from db.errors import NotFound
from db.tables import WebhookEvent
from tests.conftest import NOW
from tests.db.test_repositories import new_user


def test_a_stage_change_emits_its_event_with_the_persons_ids(session: Session) -> None:
    user = new_user(session, external_id="runner-7")
    for stage in (1, 1, 2):
        stages.record_stage(session, user_id=user.id, stage=stage, since=date(2026, 11, 2), now=NOW)
    events = session.exec(select(WebhookEvent).where(WebhookEvent.user_id == user.id)).all()
    bodies = sorted((json.loads(e.payload) for e in events), key=lambda body: body["data"]["stage"])
    assert [event.client_id for event in events] == [user.client_id] * 2
    assert [body["type"] for body in bodies] == ["stage.changed"] * 2
    assert [body["data"] for body in bodies] == [
        {"user_id": user.id, "external_id": "runner-7", "stage": stage} for stage in (1, 2)
    ]


def test_no_stage_is_recorded_for_an_unknown_person(session: Session) -> None:
    with pytest.raises(NotFound):
        stages.record_stage(session, user_id="nobody", stage=1, since=date(2026, 11, 2), now=NOW)
