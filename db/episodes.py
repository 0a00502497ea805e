"""Episodes a person reported, in report order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from db import changes
from db.errors import NotFound
from db.locking import lock_row
from db.raw import Raw, any_of
from db.tables import Episode
from programs import Episode as EpisodeReport

_EPISODES: Table = SQLModel.metadata.tables["episodes"]
# Built once, run on the driver's cursor (`db.raw`): on every plan, progress
# and readiness (by user_id; `reports_of` its rows).
_REPORTED = (
    _EPISODES.c.onset_date,
    _EPISODES.c.pain_now,
    _EPISODES.c.red_flags,
    _EPISODES.c.resolved_on,
    _EPISODES.c.cleared_by_clinician,
)
REPORTS = Raw(
    core_select(*_REPORTED)
    .where(_EPISODES.c.user_id == bindparam("user_id"))
    .order_by(_EPISODES.c.seq)
)
# PostgreSQL: `REPORTS` of the people in `user_ids` (an array), each row led
# by the person's id, a person's rows together and in report order.
MANY_REPORTS = Raw(
    core_select(_EPISODES.c.user_id, *_REPORTED)
    .where(any_of(_EPISODES.c.user_id, "user_ids"))
    .order_by(_EPISODES.c.user_id, _EPISODES.c.seq)
)


def add_episode(session: Session, *, user_id: str, report: EpisodeReport, now: datetime) -> Episode:
    """Append an episode after the user's others."""
    last = session.exec(select(func.max(Episode.seq)).where(Episode.user_id == user_id)).one()
    row = Episode(
        user_id=user_id,
        seq=(last or 0) + 1,
        onset_date=report.onset_date,
        pain_now=report.pain_now,
        created_at=now,
        updated_at=now,
    )
    _apply(row, report)
    session.add(row)
    session.flush()
    changes.announce(session, changes.user_topic(user_id))
    return row


def get_episode(session: Session, *, user_id: str, episode_id: str) -> Episode:
    row = session.exec(
        select(Episode).where(Episode.id == episode_id, Episode.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("episode", episode_id)
    return row


def list_episodes(session: Session, *, user_id: str) -> list[Episode]:
    """The user's episodes in report order."""
    statement = select(Episode).where(Episode.user_id == user_id).order_by(col(Episode.seq))
    return list(session.exec(statement).all())


def list_reports(session: Session, *, user_id: str) -> list[EpisodeReport]:
    """The user's episodes in report order, as the engine's input
    (`report_of` each of `list_episodes`, without loading the rows as objects)."""
    return reports_of(REPORTS.all(session, {"user_id": user_id}))


def reports_of(rows: Sequence[tuple[Any, ...]]) -> list[EpisodeReport]:
    """`REPORTS`' rows as the engine's episodes."""
    return [
        EpisodeReport.model_validate(
            {
                "onset_date": onset_date,
                "pain_now": pain_now,
                "red_flags": red_flags,
                "resolved_on": resolved_on,
                "cleared_by_clinician": cleared_by_clinician,
            }
        )
        for onset_date, pain_now, red_flags, resolved_on, cleared_by_clinician in rows
    ]


def page_episodes(
    session: Session, *, user_id: str, after: int | None, limit: int
) -> list[Episode]:
    """Up to `limit` of the user's episodes in report order, after the `after`-th."""
    statement = select(Episode).where(Episode.user_id == user_id)
    if after is not None:
        statement = statement.where(col(Episode.seq) > after)
    return list(session.exec(statement.order_by(col(Episode.seq)).limit(limit)).all())


def lock_episode(session: Session, *, row: Episode) -> None:
    """Reload the episode and lock its row until the transaction ends
    (PostgreSQL); NotFound when a concurrent request deleted it meanwhile."""
    lock_row(session, row, what="episode", ident=row.id)


def update_episode(session: Session, *, row: Episode, report: EpisodeReport, now: datetime) -> None:
    before = report_of(row)
    if before == report:
        return
    _apply(row, report)
    row.updated_at = now
    session.add(row)
    session.flush()
    changes.announce(session, changes.user_topic(row.user_id))


def report_of(row: Episode) -> EpisodeReport:
    """The stored episode as the engine's input."""
    return EpisodeReport.model_validate(
        {
            "onset_date": row.onset_date,
            "pain_now": row.pain_now,
            "red_flags": row.red_flags,
            "resolved_on": row.resolved_on,
            "cleared_by_clinician": row.cleared_by_clinician,
        }
    )


def _apply(row: Episode, report: EpisodeReport) -> None:
    row.onset_date = report.onset_date
    row.pain_now = report.pain_now
    row.red_flags = [flag.value for flag in report.red_flags]
    row.resolved_on = report.resolved_on
    row.cleared_by_clinician = report.cleared_by_clinician
