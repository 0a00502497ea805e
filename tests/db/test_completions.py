"""`db.completions`: targets read ahead for a batch (`read_targets`) are what
`find_target` would read, found without reading again, until the
transaction writes there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from db import completions
from db.completions import TargetHint, find_target, read_targets
from db.errors import NotFound
from db.raw import Raw, deferred
from tests.conftest import NOW
from tests.db.test_raw_deferred import report, with_sessions


def reads_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of each SELECT read one row at a time (`Raw.first`)."""
    reads: list[str] = []
    original = Raw.first

    def counted(self: Raw, session: Session, values: Any = None) -> Any:
        if str(self.statement).startswith("SELECT"):
            reads.append(str(self.statement))
        return original(self, session, values)

    monkeypatch.setattr(Raw, "first", counted)
    return reads


def test_targets_read_ahead_are_found_without_reading_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = with_sessions(session, "a", "b", "c")
    completions.put_completion(
        session,
        user_id=user_id,
        session_id="b",
        report=report(4),
        notes=None,
        now=NOW,
    )
    session.commit()
    expected = [
        find_target(session, user_id=user_id, session_id=s, with_slugs=False) for s in ("a", "b")
    ]
    reads = reads_counted(monkeypatch)
    read_targets(
        session,
        [
            TargetHint(user_id, "a", False),
            None,
            TargetHint(user_id, "b", False),
            TargetHint(user_id, "nope", False),
        ],
    )
    found = [
        find_target(session, user_id=user_id, session_id=s, with_slugs=False) for s in ("a", "b")
    ]
    with pytest.raises(NotFound):
        find_target(session, user_id=user_id, session_id="nope", with_slugs=False)
    assert found == expected
    assert found[1].stored is not None
    assert found[1].stored.effort == 4
    assert reads == []


def test_a_target_is_read_again_once_the_transaction_reported_it(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a batch: two pieces report the same session; the second sees
    the first's report, which still waits in the deferred block."""
    user_id = with_sessions(session, "a")
    reads = reads_counted(monkeypatch)
    answers = []
    with deferred(session):
        read_targets(session, [TargetHint(user_id, "a", False), TargetHint(user_id, "a", False)])
        for effort in (5, 3):
            target = find_target(session, user_id=user_id, session_id="a", with_slugs=False)
            answers.append(
                completions.store_report(
                    session,
                    target=target,
                    report=report(effort),
                    notes=None,
                    now=NOW,
                )
            )
    assert [(stored.effort, created) for stored, created in answers] == [(5, True), (3, False)]
    assert len(reads) == 1  # the second piece's, after the first piece's report


def test_a_target_is_read_again_once_the_transaction_deleted_its_report(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = with_sessions(session, "a")
    completions.put_completion(
        session, user_id=user_id, session_id="a", report=report(4), notes=None, now=NOW
    )
    session.commit()
    read_targets(session, [TargetHint(user_id, "a", False)])
    completions.delete_completion(session, user_id=user_id, session_id="a")
    reads = reads_counted(monkeypatch)
    target = find_target(session, user_id=user_id, session_id="a", with_slugs=False)
    assert target.stored is None
    assert len(reads) == 1


def test_a_target_read_ahead_without_its_slugs_is_read_again_when_they_are_asked(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL every target is read ahead with its blocks, in one
    statement: found as it is."""
    user_id = with_sessions(session, "a", "b")
    expected = find_target(session, user_id=user_id, session_id="a", with_slugs=True)
    read_targets(session, [TargetHint(user_id, "a", False), TargetHint(user_id, "b", True)])
    reads = reads_counted(monkeypatch)
    with_slugs = find_target(session, user_id=user_id, session_id="a", with_slugs=True)
    read_again = 0 if session.get_bind().dialect.name == "postgresql" else 1
    assert len(reads) == read_again
    assert with_slugs == expected
    found = find_target(session, user_id=user_id, session_id="b", with_slugs=False)
    assert len(reads) == read_again  # read ahead with more than asked: found as it is
    assert with_slugs.session_id == "a"
    assert found.session_id == "b"


def test_what_was_read_ahead_lasts_one_transaction(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = with_sessions(session, "a")
    session.commit()
    read_targets(session, [TargetHint(user_id, "a", False)])
    session.rollback()
    reads = reads_counted(monkeypatch)
    find_target(session, user_id=user_id, session_id="a", with_slugs=False)
    assert len(reads) == 1


def test_a_session_hinted_twice_is_read_once_with_its_slugs_if_either_asks(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = with_sessions(session, "a")
    read_targets(session, [TargetHint(user_id, "a", True), TargetHint(user_id, "a", False)])
    reads = reads_counted(monkeypatch)
    target = find_target(session, user_id=user_id, session_id="a", with_slugs=True)
    assert target.session_id == "a"
    assert reads == []
