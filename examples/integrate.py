#!/usr/bin/env python3
"""A fitness app's integration with backplan, end to end, on httpx.

It registers a client with the operator's admin token, onboards a person,
reports an episode that has resolved, fetches this week's plan, reports the
sessions due so far as done and prints the person's progress. Every write
carries an Idempotency-Key, so any of them may be retried safely; the script
retries one on purpose to show the replay.

    python examples/integrate.py [BASE_URL] [ADMIN_TOKEN]

BASE_URL defaults to $BACKPLAN_URL or http://127.0.0.1:8000, ADMIN_TOKEN to
$BACKPLAN_ADMIN_TOKEN (the token the service runs with). Exits 0 on success.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ApiProblem(Exception):
    """An RFC 9457 problem the service answered with."""


def call(
    http: httpx.Client,
    method: str,
    path: str,
    *,
    token: str,
    body: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key is not None:
        # A structured-field string, as the IETF draft writes it.
        headers["Idempotency-Key"] = f'"{idempotency_key}"'
    response = http.request(method, path, json=body, headers=headers)
    if response.is_error:
        problem = response.json() if response.content else {}
        raise ApiProblem(f"{method} {path}: {response.status_code} {problem.get('detail', '')}")
    return response


def write(
    http: httpx.Client, method: str, path: str, *, token: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A write with a fresh Idempotency-Key: a retry with the same key is safe."""
    response = call(http, method, path, token=token, body=body, idempotency_key=str(uuid.uuid4()))
    document: dict[str, Any] = response.json() if response.content else {}
    return document


def run(base_url: str, admin_token: str) -> None:
    today = datetime.now(UTC).date()
    with httpx.Client(base_url=base_url, timeout=30) as http:
        client = write(http, "POST", "/v1/clients", token=admin_token, body={"name": "Example app"})
        key = client["api_key"]
        print(f"client {client['id']} registered; its key is shown once: {key[:24]}...")

        user = write(http, "POST", "/v1/users", token=key, body=_person(today))
        start = user["program_start"]
        print(f"onboarded {user['external_id']} as {user['id']} (program from {start})")
        base = f"/v1/users/{user['id']}"

        episode = {
            "onset_date": (today - timedelta(days=42)).isoformat(),
            "pain_now": 1,
            "resolved_on": (today - timedelta(days=21)).isoformat(),
        }
        write(http, "POST", f"{base}/episodes", token=key, body=episode)
        readiness = call(http, "GET", f"{base}/readiness", token=key).json()
        print(f"reported a resolved episode; readiness: {readiness['status']}")

        plan = call(http, "GET", f"{base}/plan", token=key).json()
        stage = plan["stage"]
        print(
            f"week {plan['week']}: stage {stage['number']} ({stage['name']}), "
            f"{len(plan['sessions'])} sessions, {plan['aerobic_minutes']} aerobic minutes"
        )
        for session in plan["sessions"]:
            labels = f"{session['healthkit_activity']} / {session['health_connect_exercise']}"
            print(f"  {session['date']}  {session['minutes']} min  {labels}")

        due = [s for s in plan["sessions"] if date.fromisoformat(s["date"]) <= today]
        for session in due:
            report = {
                "completed_at": datetime.now(UTC).isoformat(),
                "pain_during": 1,
                "effort": 4,
            }
            path = f"{base}/sessions/{session['id']}/completion"
            retry_key = str(uuid.uuid4())
            first = call(http, "PUT", path, token=key, body=report, idempotency_key=retry_key)
            again = call(http, "PUT", path, token=key, body=report, idempotency_key=retry_key)
            replayed = again.headers.get("Idempotent-Replayed") == "true"
            print(
                f"marked {session['date']} done ({first.status_code}); retry replayed: {replayed}"
            )

        progress = call(http, "GET", f"{base}/progress", token=key).json()
        week = progress["weeks"][-1] if progress["weeks"] else None
        if week is not None:
            print(
                f"progress: {week['done']} of {week['planned']} sessions done in {week['week']}, "
                f"streak {progress['streak_sessions']} sessions"
            )
        print("done")


def _person(today: date) -> dict[str, Any]:
    """Six training days that include today, from this week's Monday, so that
    some sessions are already due."""
    rest_day = WEEKDAYS[(today.weekday() + 3) % 7]
    return {
        "external_id": f"example-{uuid.uuid4().hex[:8]}",
        "timezone": "UTC",
        "training_days": [day for day in WEEKDAYS if day != rest_day],
        "session_minutes": 30,
        "fitness_level": "moderate",
        "equipment": ["mat", "band"],
        "aerobic_activities": ["walking"],
        "program_start": (today - timedelta(days=today.weekday())).isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "base_url", nargs="?", default=os.environ.get("BACKPLAN_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument("admin_token", nargs="?", default=os.environ.get("BACKPLAN_ADMIN_TOKEN"))
    args = parser.parse_args(argv)
    if not args.admin_token:
        parser.error("give the admin token as an argument or in BACKPLAN_ADMIN_TOKEN")
    try:
        run(args.base_url, args.admin_token)
    except (ApiProblem, httpx.HTTPError) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
