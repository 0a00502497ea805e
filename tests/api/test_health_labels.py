from tests.conftest import Api

# HKWorkoutActivityType and Health Connect ExerciseSessionRecord names, as the
# library documents them (programs/library.py).
HEALTHKIT = {
    "walking",
    "cycling",
    "swimming",
    "flexibility",
    "coreTraining",
    "traditionalStrengthTraining",
    "functionalStrengthTraining",
    "yoga",
    "pilates",
    "preparationAndRecovery",
    "elliptical",
    "waterFitness",
}
HEALTH_CONNECT = {
    f"EXERCISE_TYPE_{name}"
    for name in (
        "STRETCHING",
        "STRENGTH_TRAINING",
        "CALISTHENICS",
        "PILATES",
        "YOGA",
        "WALKING",
        "BIKING",
        "SWIMMING_POOL",
        "OTHER_WORKOUT",
        "ELLIPTICAL",
    )
}


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
