from collections import Counter
from datetime import datetime
from typing import Any

from fhir.resources import get_fhir_model_class
from fhir.resources.bundle import Bundle

from tests.conftest import Api

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
WEEKDAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}


def a_person_with_a_completed_session(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    user = api.user(program_start="2026-11-16", external_id="app-42", birth_year=1980)
    episode = {"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"}
    api.post(f"/v1/users/{user['id']}/episodes", json=episode)
    session = api.get(f"/v1/users/{user['id']}/plan").json()["sessions"][0]
    completion = {"completed_at": f"{session['date']}T19:00:00Z", "pain_during": 2, "effort": 4}
    api.put(f"/v1/users/{user['id']}/sessions/{session['id']}/completion", json=completion)
    return user, session


def read_bundle(api: Api, user: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/v1/users/{user['id']}/fhir")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    document: dict[str, Any] = response.json()
    return document


def codings(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(coding["system"], coding["code"]) for coding in concept["coding"]}


def test_the_bundle_is_valid_r5_and_holds_the_program(api: Api) -> None:
    user, session = a_person_with_a_completed_session(api)
    document = read_bundle(api, user)
    Bundle.model_validate(document)
    assert document["type"] == "collection"
    resources: dict[str, dict[str, Any]] = {}
    for entry in document["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        resources[entry["fullUrl"]] = resource
    kinds = Counter(resource["resourceType"] for resource in resources.values())
    exercises = {
        exercise["slug"]
        for planned in api.get(f"/v1/users/{user['id']}/plan").json()["sessions"]
        for block in planned["blocks"]
        for exercise in block["exercises"]
    }
    assert kinds == {
        "Patient": 1,
        "CarePlan": 1,
        "ServiceRequest": len(exercises),
        "Procedure": 1,
        "Observation": 3,
    }

    def only(kind: str) -> dict[str, Any]:
        [found] = [r for r in resources.values() if r["resourceType"] == kind]
        return found

    def the(reference: dict[str, Any], kind: str) -> dict[str, Any]:
        resource = resources[reference["reference"]]
        assert resource["resourceType"] == kind
        return resource

    patient = only("Patient")
    assert {"system": f"urn:backplan:client:{api.client_id}", "value": "app-42"} in patient[
        "identifier"
    ]
    assert patient["birthDate"] == "1980"

    care_plan = only("CarePlan")
    assert (care_plan["status"], care_plan["intent"]) == ("active", "plan")
    assert the(care_plan["subject"], "Patient") is patient
    assert care_plan["period"]["start"] == "2026-11-16"
    planned = [the(a["plannedActivityReference"], "ServiceRequest") for a in care_plan["activity"]]
    assert len(planned) == len(exercises)

    for request in planned:
        assert (request["status"], request["intent"]) == ("active", "order")
        assert (SNOMED, "229065009") in codings(request["category"][0])
        assert (SNOMED, "229065009") in codings(request["code"]["concept"])
        slugs = {code for system, code in codings(request["code"]["concept"]) if system != SNOMED}
        assert slugs <= exercises
        assert len(slugs) == 1
        assert request["patientInstruction"][0]["instructionMarkdown"]
        repeat = request["occurrenceTiming"]["repeat"]
        assert set(repeat["dayOfWeek"]) <= WEEKDAYS
        assert repeat["frequency"] == len(repeat["dayOfWeek"])
        assert (repeat["period"], repeat["periodUnit"]) == (1, "wk")
        assert the(request["basedOn"][0], "CarePlan") is care_plan
        assert the(request["subject"], "Patient") is patient

    procedure = only("Procedure")
    assert procedure["status"] == "completed"
    assert the(procedure["basedOn"][0], "CarePlan") is care_plan
    period = procedure["occurrencePeriod"]
    start, end = (datetime.fromisoformat(period[key]) for key in ("start", "end"))
    assert end == datetime.fromisoformat(f"{session['date']}T19:00:00+00:00")
    assert (end - start).total_seconds() == session["minutes"] * 60

    observations = {
        next(code for system, code in codings(o["code"]) if system == LOINC): o
        for o in resources.values()
        if o["resourceType"] == "Observation"
    }
    assert set(observations) == {"72514-3", "82289-0", "55411-3"}
    for observation in observations.values():
        assert observation["status"] == "final"
        assert the(observation["partOf"][0], "Procedure") is procedure
        assert the(observation["subject"], "Patient") is patient
    assert observations["72514-3"]["valueInteger"] == 2
    assert observations["82289-0"]["valueInteger"] == 4
    duration = observations["55411-3"]["valueQuantity"]
    assert duration == {
        "value": session["minutes"],
        "unit": "min",
        "system": "http://unitsofmeasure.org",
        "code": "min",
    }


def test_resource_ids_are_stable_across_exports(api: Api) -> None:
    user, _ = a_person_with_a_completed_session(api)
    first, second = read_bundle(api, user), read_bundle(api, user)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_a_paused_program_is_on_hold(api: Api) -> None:
    user = api.user()
    api.post(f"/v1/users/{user['id']}/episodes", json={"onset_date": "2026-11-15", "pain_now": 6})
    document = read_bundle(api, user)
    Bundle.model_validate(document)
    kinds = Counter(entry["resource"]["resourceType"] for entry in document["entry"])
    assert kinds == {"Patient": 1, "CarePlan": 1}
    [care_plan] = [
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "CarePlan"
    ]
    assert care_plan["status"] == "on-hold"
    assert "activity" not in care_plan
