from tests.conftest import Api


def test_lists_the_library(api: Api) -> None:
    response = api.get("/v1/exercises")
    assert response.status_code == 200
    data = response.json()["items"]
    assert len(data) > 10
    assert {"slug", "name", "category", "region", "level", "equipment"} <= set(data[0])


def test_filters_combine(api: Api) -> None:
    data = api.get(
        "/v1/exercises", params={"category": "strengthening", "region": "back_extensor"}
    ).json()["items"]
    assert data
    assert all(e["category"] == "strengthening" and e["region"] == "back_extensor" for e in data)
    level_one = api.get("/v1/exercises", params={"level": 1}).json()["items"]
    assert level_one
    assert all(e["level"] == 1 for e in level_one)


def test_equipment_filter_keeps_what_can_be_done_with_it(api: Api) -> None:
    everything = api.get("/v1/exercises").json()["items"]
    bodyweight = api.get("/v1/exercises", params={"equipment": "none"}).json()["items"]
    with_band = api.get("/v1/exercises", params=[("equipment", "band")]).json()["items"]
    assert len(bodyweight) < len(with_band) <= len(everything)
    assert all("dumbbells" not in e["equipment"] for e in with_band)


def test_bad_filters_are_422_naming_the_parameter(api: Api) -> None:
    response = api.get("/v1/exercises", params={"level": 9, "category": "yoga"})
    assert response.status_code == 422
    assert {e["parameter"] for e in response.json()["errors"]} == {"level", "category"}


def test_reads_one_exercise(api: Api) -> None:
    slug = api.get("/v1/exercises").json()["items"][0]["slug"]
    response = api.get(f"/v1/exercises/{slug}")
    assert response.status_code == 200
    assert response.json()["slug"] == slug


def test_an_unknown_slug_is_a_404_problem(api: Api) -> None:
    response = api.get("/v1/exercises/levitation")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "levitation" in response.json()["detail"]
