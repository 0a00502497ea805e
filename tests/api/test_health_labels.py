from tests.conftest import Api
from tests.programs.test_library import HEALTH_CONNECT_EXERCISES, HEALTHKIT_ACTIVITIES

# The platform names the library may use (HKWorkoutActivityType and Health
# Connect ExerciseSessionRecord), as pinned by the library's own tests.
HEALTHKIT = HEALTHKIT_ACTIVITIES
HEALTH_CONNECT = HEALTH_CONNECT_EXERCISES


def test_sessions_and_exercises_carry_platform_names(api: Api) -> None:
    user = api.user(
        program_start="2026-10-05",
        equipment=["mat", "band", "bike"],
        aerobic_activities=["cycling"],
    )
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"},
    )
    plan = api.get(f"/v1/users/{user['id']}/plan").json()
    assert plan["sessions"]
    for session in plan["sessions"]:
        assert session["healthkit_activity"] in HEALTHKIT
        assert session["health_connect_exercise"] in HEALTH_CONNECT
        for block in session["blocks"]:
            for exercise in block["exercises"]:
                assert exercise["healthkit_activity"] in HEALTHKIT, exercise["slug"]
                assert exercise["health_connect_exercise"] in HEALTH_CONNECT, exercise["slug"]
    for exercise in api.get("/v1/exercises", params={"limit": 100}).json()["items"]:
        assert exercise["healthkit_activity"] in HEALTHKIT, exercise["slug"]
        assert exercise["health_connect_exercise"] in HEALTH_CONNECT, exercise["slug"]


def test_the_schema_documents_them_as_names(api: Api) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    for model in ("PlannedSession", "PrescribedExercise", "Exercise"):
        for field in ("healthkit_activity", "health_connect_exercise"):
            options = schemas[model]["properties"][field].get("anyOf", [])
            assert {"type": "string"} in options, (model, field)
