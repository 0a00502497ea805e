"""The person's program as a FHIR R5 Bundle."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import fhir_bundle, planning
from api.deps import ClockDep, ReadPlans, SessionDep, UserDep
from api.errors import problem_responses
from api.routing import Route
from db import plans as plan_store
from db import privacy

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["fhir"],
    responses=problem_responses(401, 403, 404, 500),
    route_class=Route,
)


@router.get(
    "/fhir",
    response_class=Response,
    responses={
        200: {
            "content": {fhir_bundle.MEDIA_TYPE: {"schema": {"type": "object"}}},
            "description": "A FHIR R5 Bundle of type collection.",
        }
    },
    dependencies=[ReadPlans],
)
def read_fhir(user: UserDep, session: SessionDep, now: ClockDep) -> Response:
    """The program as a FHIR R5 Bundle (`application/fhir+json`), after the HL7
    Physical Activity implementation guide: the Patient (identified by your
    `external_id`), a CarePlan (`active`, or `on-hold` while the person is
    not ready), a ServiceRequest per exercise of this week (SNOMED CT
    229065009 "Exercise therapy", with `patientInstruction` and
    `occurrenceTiming`), and per completed session a Procedure with
    Observations of pain (LOINC 72514-3), effort (LOINC 82289-0) and
    duration (LOINC 55411-3). Resource ids are stable across exports.
    Scope `plans:read`."""
    plan = planning.serve_plan(session, user=user, week=None, now=now)
    document = fhir_bundle.bundle(
        user=user,
        plan=plan,
        completed=plan_store.completed_sessions(session, user_id=user.id),
        last_change=privacy.last_change(session, user=user),
        now=now,
    )
    return Response(document.model_dump_json().encode(), media_type=fhir_bundle.MEDIA_TYPE)
