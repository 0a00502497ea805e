from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.tables import CalendarFeed
from tests.conftest import Api, Clock

RESOLVED = {"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"}


def a_ready_user(api: Api, **fields: Any) -> dict[str, Any]:
    user = api.user(program_start="2026-11-16", **fields)
    assert api.post(f"/v1/users/{user['id']}/episodes", json=RESOLVED).status_code == 201
    return user


def span(event: Event) -> tuple[datetime, datetime]:
    start, end = event.start, event.end
    assert isinstance(start, datetime)
    assert isinstance(end, datetime)
    return start, end


def events_of(body: bytes) -> list[Event]:
    calendar = Calendar.from_ical(body)
    assert calendar.errors == []
    return list(calendar.events)


def test_the_calendar_holds_this_and_next_weeks_sessions(api: Api) -> None:
    user = a_ready_user(api, timezone="Europe/Berlin")
    response = api.get(f"/v1/users/{user['id']}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = events_of(response.content)

    this_week = api.get(f"/v1/users/{user['id']}/plan").json()["sessions"]
    next_week = api.get(f"/v1/users/{user['id']}/plan", params={"week": "2026-W48"}).json()
    planned = this_week + next_week["sessions"]
    assert [event.uid for event in events] == [f"session-{s['id']}@backplan" for s in planned]
    assert len({event.uid for event in events}) == len(events) == 6
    berlin = ZoneInfo("Europe/Berlin")
    for event, session in zip(events, planned, strict=True):
        assert event.errors == []
        start, end = span(event)
        assert event.DTSTAMP.tzinfo is not None
        assert start.tzinfo == berlin
        assert end.tzinfo == berlin
        assert start.date().isoformat() == session["date"]
        assert start.time() == time(18, 0)
        assert end - start == timedelta(minutes=session["minutes"])
        assert str(event.get("SUMMARY")).startswith("Back program")
        assert session["blocks"][0]["exercises"][0]["name"] in str(event.get("DESCRIPTION"))


def test_exporting_again_gives_the_same_uids_and_stamps(api: Api, clock: Clock) -> None:
    user = a_ready_user(api)
    first = api.get(f"/v1/users/{user['id']}/calendar.ics").content
    clock.now += timedelta(hours=3)
    second = api.get(f"/v1/users/{user['id']}/calendar.ics").content
    assert [(e.uid, e.DTSTAMP) for e in events_of(first)] == [
        (e.uid, e.DTSTAMP) for e in events_of(second)
    ]
    assert first == second


def test_events_start_at_the_persons_session_time(api: Api) -> None:
    user = a_ready_user(api, timezone="America/New_York", session_time="07:30")
    assert user["session_time"] == "07:30"
    events = events_of(api.get(f"/v1/users/{user['id']}/calendar.ics").content)
    assert {span(event)[0].time() for event in events} == {time(7, 30)}
    patched = api.patch(f"/v1/users/{user['id']}", json={"session_time": "19:15"})
    assert patched.json()["session_time"] == "19:15"
    events = events_of(api.get(f"/v1/users/{user['id']}/calendar.ics").content)
    assert {span(event)[0].time() for event in events} == {time(19, 15)}
    for wrong in ("25:00", "7:30", "19:15:00", 1915, None):
        response = api.patch(f"/v1/users/{user['id']}", json={"session_time": wrong})
        assert response.status_code == 422, wrong


def test_a_person_who_is_not_ready_has_an_empty_calendar(api: Api) -> None:
    user = api.user()
    api.post(f"/v1/users/{user['id']}/episodes", json={"onset_date": "2026-11-15", "pain_now": 6})
    assert events_of(api.get(f"/v1/users/{user['id']}/calendar.ics").content) == []


def test_the_secret_feed_works_without_a_key_until_revoked(api: Api) -> None:
    user = a_ready_user(api)
    path = f"/v1/users/{user['id']}/calendar-feed"
    assert api.get(path).status_code == 404
    issued = api.post(path)
    assert issued.status_code == 201
    url = issued.json()["url"]
    feed = urlsplit(url).path
    assert feed.startswith("/v1/calendar/bpcal_")
    assert feed.endswith(".ics")

    anonymous = api.http.get(feed)
    assert anonymous.status_code == 200
    assert anonymous.content == api.get(f"/v1/users/{user['id']}/calendar.ics").content
    assert api.get(path).json() == {"created_at": issued.json()["created_at"]}
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        stored = session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user["id"])).one()
        assert stored.token_hash not in url
        assert feed.split("/")[-1][:-4] not in stored.token_hash

    reissued = urlsplit(api.post(path).json()["url"]).path
    assert reissued != feed
    assert api.http.get(feed).status_code == 404
    assert api.http.get(reissued).status_code == 200
    assert api.delete(path).status_code == 204
    assert api.http.get(reissued).status_code == 404
    assert api.get(path).status_code == 404
    assert api.http.get("/v1/calendar/bpcal_never-issued-token.ics").status_code == 404


def test_feed_urls_use_the_public_url_when_set(api: Api) -> None:
    user = api.user()
    state = api.http.app.state  # type: ignore[attr-defined]
    settings = state.settings
    state.settings = settings.model_copy(update={"public_url": "https://plans.example.com/"})
    try:
        url = api.post(f"/v1/users/{user['id']}/calendar-feed").json()["url"]
    finally:
        state.settings = settings
    assert url.startswith("https://plans.example.com/v1/calendar/bpcal_")
