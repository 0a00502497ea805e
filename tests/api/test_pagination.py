from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Api, Clock


def every_page(
    api: Api, path: str, limit: int, cursor: str | None = None, **filters: str
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    while True:
        params: dict[str, Any] = {"limit": limit, **filters} | (
            {"cursor": cursor} if cursor else {}
        )
        body = api.get(path, params=params).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_users_page_by_creation_and_rows_added_meanwhile_neither_repeat_nor_shift(
    api: Api, clock: Clock
) -> None:
    created = []
    for number in range(5):
        clock.now += timedelta(seconds=number % 2)  # some share a creation time
        user = api.user(external_id=f"u{number}")
        created.append((user["created_at"], user["id"]))
    order = [ident for _, ident in sorted(created)]
    first = api.get("/v1/users", params={"limit": 2}).json()
    assert [user["id"] for user in first["items"]] == order[:2]
    clock.now += timedelta(seconds=1)
    order.append(api.user(external_id="late")["id"])
    rest = every_page(api, "/v1/users", 2, first["next_cursor"])
    assert [len(page) for page in rest] == [2, 2]
    assert [user["id"] for page in rest for user in page] == order[2:]


def test_ties_in_creation_time_are_ordered_by_id(api: Api) -> None:
    ids = [api.user()["id"] for _ in range(3)]
    pages = every_page(api, "/v1/users", 1)
    assert [user["id"] for page in pages for user in page] == sorted(ids)


def test_episodes_page_in_report_order(api: Api) -> None:
    user = api.user()
    for day in ("2026-10-01", "2026-10-20", "2026-11-10"):
        api.post(f"/v1/users/{user['id']}/episodes", json={"onset_date": day, "pain_now": 1})
    pages = every_page(api, f"/v1/users/{user['id']}/episodes", 2)
    assert [[e["onset_date"] for e in page] for page in pages] == [
        ["2026-10-01", "2026-10-20"],
        ["2026-11-10"],
    ]


def test_exercises_page_by_slug(api: Api) -> None:
    everything = api.get("/v1/exercises", params={"limit": 100}).json()
    assert everything["next_cursor"] is None
    slugs = [exercise["slug"] for exercise in everything["items"]]
    assert slugs == sorted(slugs)
    pages = every_page(api, "/v1/exercises", 20)
    assert [exercise["slug"] for page in pages for exercise in page] == slugs
    filtered = every_page(api, "/v1/exercises", 5, category="strengthening")
    assert all(e["category"] == "strengthening" for page in filtered for e in page)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ1c2VycyJd"}, "cursor"),  # ["users"]: no position
        ({"cursor": "WyJleGVyY2lzZXMiLCJhIl0"}, "cursor"),  # another list's cursor
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
    ],
)
def test_bad_paging_parameters_are_422(api: Api, params: dict[str, Any], parameter: str) -> None:
    response = api.get("/v1/users", params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == parameter
