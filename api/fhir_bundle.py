"""The person's program as a FHIR R5 Bundle (type `collection`), after the HL7
Physical Activity implementation guide:

- `Patient`: identified by the app's id (`urn:backplan:client:<client id>`)
  and backplan's (`urn:backplan:user`);
- `CarePlan`: the program; status `active` while the person is ready,
  `on-hold` while recovering or referred; one activity per prescribed
  exercise, pointing at its ServiceRequest;
- `ServiceRequest`: each exercise of this week's plan (SNOMED CT 229065009
  "Exercise therapy"), with its dose as `patientInstruction` and its days as
  `occurrenceTiming`;
- `Procedure`: each completed session; its period ends when the person said
  they finished and lasts the session's planned minutes;
- `Observation`s `partOf` each Procedure: pain during the session (LOINC
  72514-3, 0-10), effort (LOINC 82289-0, RPE 0-10) and duration (LOINC
  55411-3, minutes).

Resource ids are UUIDs derived from backplan's ids, so they are the same in
every export; entries are `urn:uuid:` URLs and references point at them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from fhir.resources.bundle import Bundle, BundleEntry
from fhir.resources.careplan import CarePlan, CarePlanActivity
from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.codeablereference import CodeableReference
from fhir.resources.coding import Coding
from fhir.resources.identifier import Identifier
from fhir.resources.meta import Meta
from fhir.resources.observation import Observation
from fhir.resources.patient import Patient
from fhir.resources.period import Period
from fhir.resources.procedure import Procedure, ProcedurePerformer
from fhir.resources.quantity import Quantity
from fhir.resources.reference import Reference
from fhir.resources.resource import Resource
from fhir.resources.servicerequest import ServiceRequest, ServiceRequestPatientInstruction
from fhir.resources.timing import Timing, TimingRepeat

from api.schemas import PlanPublic
from db.plans import StoredSession
from db.tables import User
from programs import Category, IsoWeek, PlannedSession, PrescribedExercise, ReadinessStatus

MEDIA_TYPE = "application/fhir+json"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EXERCISE_SYSTEM = "urn:backplan:exercise"

EXERCISE_THERAPY = ("229065009", "Exercise therapy")
PAIN = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
EFFORT = ("82289-0", "Rating of perceived exertion [Score]")
DURATION = ("55411-3", "Exercise duration")

# Fixed, so that the same backplan ids give the same resource ids in every export.
_NAMESPACE = uuid.UUID("5b7c5ed5-8b3f-4ec0-9776-c70198c66194")


def bundle(
    *,
    user: User,
    plan: PlanPublic,
    completed: Sequence[StoredSession],
    last_change: datetime,
    now: datetime,
) -> Bundle:
    """Patient, CarePlan, this week's ServiceRequests, and a Procedure with
    three Observations per completed session."""
    patient = _patient(user)
    care_plan_id = _id(user.id, "care-plan")
    requests = _service_requests(user, plan, care_plan_id=care_plan_id)
    care_plan = CarePlan(
        id=care_plan_id,
        status="active" if plan.status is ReadinessStatus.ready else "on-hold",
        intent="plan",
        title="Exercise program to prevent the next episode of back pain",
        description=_care_plan_description(plan),
        subject=_ref(patient),
        period=Period(start=user.program_start) if user.program_start else None,
        created=user.created_at,
        activity=[CarePlanActivity(plannedActivityReference=_ref(request)) for request in requests]
        or None,
    )
    resources: list[Resource] = [patient, care_plan, *requests]
    for stored in completed:
        resources.extend(_performed(user, stored, patient=patient, care_plan=care_plan))
    return Bundle(
        id=_id(user.id, "bundle"),
        meta=Meta(lastUpdated=last_change),
        type="collection",
        timestamp=now,
        entry=[BundleEntry(fullUrl=_url(resource), resource=resource) for resource in resources],
    )


def _patient(user: User) -> Patient:
    return Patient(
        id=_id(user.id, "patient"),
        identifier=[
            Identifier(system=f"urn:backplan:client:{user.client_id}", value=user.external_id),
            Identifier(system="urn:backplan:user", value=user.id),
        ],
        birthDate=str(user.birth_year) if user.birth_year else None,
    )


def _care_plan_description(plan: PlanPublic) -> str:
    stage = f" Stage {plan.stage.number}: {plan.stage.name}." if plan.stage else ""
    reasons = " ".join(plan.reasons)
    return f"Week {plan.week}: {plan.status.value}.{stage} {reasons}".strip()


def _service_requests(user: User, plan: PlanPublic, *, care_plan_id: str) -> list[ServiceRequest]:
    """One request per exercise of the week, on the days it is planned."""
    days: dict[str, list[PlannedSession]] = defaultdict(list)
    exercises: dict[str, PrescribedExercise] = {}
    for planned in plan.sessions:
        for block in planned.blocks:
            for exercise in block.exercises:
                exercises.setdefault(exercise.slug, exercise)
                if planned not in days[exercise.slug]:
                    days[exercise.slug].append(planned)
    week = IsoWeek.parse(plan.week)
    requests = []
    for slug, exercise in exercises.items():
        sessions = days[slug]
        requests.append(
            ServiceRequest(
                id=_id(user.id, plan.week, slug),
                status="active",
                intent="order",
                category=[_concept(SNOMED, EXERCISE_THERAPY)],
                code=CodeableReference(
                    concept=CodeableConcept(
                        coding=[
                            _coding(SNOMED, EXERCISE_THERAPY),
                            Coding(system=EXERCISE_SYSTEM, code=slug, display=exercise.name),
                        ],
                        text=exercise.name,
                    )
                ),
                subject=_ref_id("Patient", _id(user.id, "patient")),
                basedOn=[_ref_id("CarePlan", care_plan_id)],
                occurrenceTiming=Timing(
                    event=[planned.date for planned in sessions],
                    repeat=TimingRepeat(
                        boundsPeriod=Period(start=week.monday(), end=week.sunday()),
                        frequency=len(sessions),
                        period=1,
                        periodUnit="wk",
                        dayOfWeek=[f"{planned.date:%a}".lower() for planned in sessions],
                        timeOfDay=[user.session_time],
                    ),
                ),
                patientInstruction=[
                    ServiceRequestPatientInstruction(instructionMarkdown=_instruction(exercise))
                ],
            )
        )
    return requests


def _instruction(exercise: PrescribedExercise) -> str:
    if exercise.category is Category.aerobic:
        intensity = f" at {exercise.intensity.value} intensity" if exercise.intensity else ""
        dose = f"{exercise.minutes} minutes{intensity}"
    else:
        hold = f", holding {exercise.hold_seconds} s" if exercise.hold_seconds else ""
        side = " on each side" if exercise.per_side else ""
        dose = f"{exercise.sets} x {exercise.reps}{hold}{side}"
    steps = "\n".join(f"{number}. {step}" for number, step in enumerate(exercise.instructions, 1))
    cautions = "".join(f"\n\n**Caution:** {caution}" for caution in exercise.cautions)
    return f"**{exercise.name}**: {dose}.\n\n{steps}{cautions}"


def _performed(
    user: User, stored: StoredSession, *, patient: Patient, care_plan: CarePlan
) -> list[Resource]:
    """The Procedure of a completed session and its Observations."""
    completion = stored.completion
    assert completion is not None
    planned = stored.planned
    end = completion.completed_at
    procedure = Procedure(
        id=_id(user.id, "session", planned.id),
        status="completed",
        code=_concept(SNOMED, EXERCISE_THERAPY, text="Back program session"),
        subject=_ref(patient),
        basedOn=[_ref(care_plan)],
        occurrencePeriod=Period(start=end - timedelta(minutes=planned.minutes), end=end),
        performer=[ProcedurePerformer(actor=_ref(patient))],
    )
    measured: list[tuple[tuple[str, str], str, dict[str, object]]] = [
        (PAIN, "survey", {"valueInteger": completion.pain_during}),
        (EFFORT, "survey", {"valueInteger": completion.effort}),
        (
            DURATION,
            "activity",
            {"valueQuantity": Quantity(value=planned.minutes, unit="min", system=UCUM, code="min")},
        ),
    ]
    observations = [
        Observation(
            id=_id(user.id, "session", planned.id, code),
            status="final",
            category=[_concept(OBSERVATION_CATEGORY, (category, category.capitalize()))],
            code=_concept(LOINC, (code, display)),
            subject=_ref(patient),
            partOf=[_ref(procedure)],
            effectiveDateTime=end,
            **value,
        )
        for (code, display), category, value in measured
    ]
    return [procedure, *observations]


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _url(resource: Resource) -> str:
    return f"urn:uuid:{resource.id}"


def _ref(resource: Resource) -> Reference:
    return Reference(reference=_url(resource), type=resource.get_resource_type())


def _ref_id(kind: str, ident: str) -> Reference:
    return Reference(reference=f"urn:uuid:{ident}", type=kind)


def _coding(system: str, code: tuple[str, str]) -> Coding:
    return Coding(system=system, code=code[0], display=code[1])


def _concept(system: str, code: tuple[str, str], *, text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=[_coding(system, code)], text=text)
