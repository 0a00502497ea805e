"""The readiness gate: may a program start (or go on) on a given day?

Red flags refer to a clinician, an acute episode gets self-care guidance
instead of exercises, and otherwise the program may start. The rules and their
sources are in DOMAIN.md, "Before any plan: the readiness gate".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Final

from programs import constants as c
from programs.models import URGENT_RED_FLAGS, Episode, Frozen, ReadinessStatus, RedFlag


class Readiness(Frozen):
    """The gate's verdict for one day."""

    status: ReadinessStatus
    reasons: tuple[str, ...]
    earliest_start: date | None
    guidance: tuple[str, ...]
    urgent: bool = False


# Lay wording: the person reads these, so no codes and no jargon.
_FLAG_WORDS: Final[Mapping[RedFlag, str]] = {
    RedFlag.bladder_bowel_change: "new trouble controlling or passing urine or stools",
    RedFlag.saddle_numbness: "numbness around the genitals, buttocks or inner thighs",
    RedFlag.leg_weakness_progressive: "leg weakness that is getting worse",
    RedFlag.bilateral_leg_symptoms: "pain, numbness or tingling in both legs",
    RedFlag.unsteady_walking: "unsteady walking or loss of balance",
    RedFlag.fever: "fever together with back pain",
    RedFlag.unexplained_weight_loss: "weight loss without a known reason",
    RedFlag.history_of_cancer: "a history of cancer",
    RedFlag.immunosuppression: "a weakened immune system, from illness or medicines",
    RedFlag.constant_night_pain: "constant pain at night that rest or moving does not ease",
    RedFlag.major_trauma: "back pain after a major injury, such as a bad fall or a car crash",
    RedFlag.long_term_steroids: "long-term use of steroid medicines",
}

_ICE_DAYS = (c.ICE_FIRST_HOURS[0] // 24, c.ICE_FIRST_HOURS[1] // 24)
_ICE_LINE: Final = (
    f"In the first {_ICE_DAYS[0]}-{_ICE_DAYS[1]} days after the pain began, use ice "
    f"wrapped in a cloth for {c.ICE_MINUTES[0]}-{c.ICE_MINUTES[1]} minutes at a time, "
    "several times a day. Never put ice on bare skin and never keep it on longer than "
    f"{c.ICE_MINUTES[1]} minutes."
)
_HEAT_LINE: Final = (
    f"After the first {_ICE_DAYS[0]}-{_ICE_DAYS[1]} days, use moist heat instead: "
    "a heat wrap, a warm bath or a warm shower."
)
# NICE NG59 rules out belts, corsets and traction, so none of these lines may name them.
_RECOVERING_LINES: Final = (
    "Stay active within comfort and keep up your routine activities, at a slower pace.",
    f"If you need bed rest at all, keep it to a day or two (no more than "
    f"{c.MAX_BED_REST_DAYS} days): staying in bed longer slows recovery.",
    "Go for gentle walks, short and often, as comfort allows.",
    "Try the knees-to-chest stretch: lie on your back and gently hug your knees towards "
    "your chest. Only do it if it does not hurt.",
    "Take over-the-counter pain relief only as a pharmacist or doctor advises.",
)
_READY_LINES: Final = (
    "Your exercise program can start now.",
    "Keep moving every day: regular activity is what keeps the next spasm away.",
)
_NO_EXERCISE_LINE: Final = "No exercises for now: do not start or continue this program."
_SEE_CLINICIAN_LINE: Final = (
    "See a doctor or physiotherapist promptly, within the next few days, about these symptoms."
)
_CLEARANCE_LINE: Final = (
    "Once a clinician has checked you and says exercise is safe, report that you were "
    "cleared by a clinician and the program can go ahead."
)
_SAFETY_NOTES: Final = (
    "backplan gives general exercise guidance, not a diagnosis.",
    "Stop the exercise straight away if you feel sharp pain, pain that spreads into a leg, "
    f"numbness or tingling, or pain above {c.AMBER_MAX_PAIN}/10.",
    "If that pain does not settle after you stop, or comes back at the next session, call "
    "your doctor or physiotherapist before you carry on.",
    "Seek urgent medical care today (emergency department or urgent care) for new trouble "
    "controlling your bladder or bowels, numbness around the genitals or buttocks, leg "
    "weakness that is getting worse, or symptoms in both legs.",
    "A new spasm is a new episode: pause the program and report it, so that readiness is "
    "checked again before you restart.",
)


def assess(episodes: Sequence[Episode], *, on: date) -> Readiness:
    """Decide whether a program may run on `on`, given episodes in report order."""
    # An episode that has not begun by `on` cannot say anything about that day.
    counted = [episode for episode in episodes if episode.onset_date <= on]
    if not counted:
        return Readiness(
            status=ReadinessStatus.ready, reasons=(), earliest_start=None, guidance=_READY_LINES
        )

    cleared = _cleared_from(counted)
    flags = tuple(
        dict.fromkeys(
            flag
            for episode, lifted in zip(counted, cleared, strict=True)
            if not lifted
            for flag in episode.red_flags
        )
    )
    latest = counted[-1]
    days = (on - latest.onset_date).days
    resolved = latest.resolved_on is not None and latest.resolved_on <= on
    not_improving = (
        not cleared[-1]
        and not resolved
        and latest.pain_now > c.NO_IMPROVEMENT_PAIN
        and days >= c.NO_IMPROVEMENT_DAYS
    )
    if flags or not_improving:
        return _refer(flags, pain=latest.pain_now if not_improving else None, days=days)

    start = latest.onset_date + timedelta(days=c.MIN_DAYS_AFTER_ONSET)
    reasons: list[str] = []
    if days < c.MIN_DAYS_AFTER_ONSET:
        began = "today" if days == 0 else f"{_days(days)} ago"
        reasons.append(
            f"The episode began {began}; programs start {c.MIN_DAYS_AFTER_ONSET} days "
            "after onset, once the acute phase has settled."
        )
    if not resolved and latest.pain_now > c.READY_MAX_PAIN:
        reasons.append(
            f"Pain at rest is {latest.pain_now}/10; the program starts once it is "
            f"{c.READY_MAX_PAIN}/10 or less, or the episode has resolved."
        )
    if reasons:
        # Only pain can hold the start past onset + 14 days; then the soonest
        # day worth checking again is tomorrow.
        earliest = start if start > on else on + c.ONE_DAY
        return Readiness(
            status=ReadinessStatus.recovering,
            reasons=tuple(reasons),
            earliest_start=earliest,
            guidance=_recovering_guidance(days_since_onset=days),
        )
    return Readiness(
        status=ReadinessStatus.ready, reasons=(), earliest_start=start, guidance=_READY_LINES
    )


def safety_notes() -> tuple[str, ...]:
    """When to stop and whom to call: printed with every plan."""
    return _SAFETY_NOTES


def _cleared_from(episodes: Sequence[Episode]) -> list[bool]:
    # A clearance lifts the flags it was reported with and every flag before it,
    # never a flag reported afterwards.
    lifted: list[bool] = []
    seen = False
    for episode in reversed(episodes):
        seen = seen or episode.cleared_by_clinician
        lifted.append(seen)
    return lifted[::-1]


def _refer(flags: tuple[RedFlag, ...], *, pain: int | None, days: int) -> Readiness:
    reasons = [f"Red flag reported: {_FLAG_WORDS[flag]}." for flag in flags]
    if pain is not None:
        reasons.append(
            f"Pain is still {pain}/10, {_days(days)} after the episode began; pain that has "
            f"not improved after {c.NO_IMPROVEMENT_DAYS // 7} weeks needs a clinician's check."
        )
    urgent_flags = [flag for flag in flags if flag in URGENT_RED_FLAGS]
    guidance: list[str] = []
    if urgent_flags:
        symptoms = _join([_FLAG_WORDS[flag] for flag in urgent_flags])
        guidance.append(
            "Seek urgent medical care today: go to an emergency department or urgent care. "
            f"{symptoms[0].upper()}{symptoms[1:]} can be signs of nerve compression (pressure "
            "on the nerves at the base of the spine) and need to be checked straight away."
        )
    guidance.append(_NO_EXERCISE_LINE)
    if not urgent_flags:
        guidance.append(_SEE_CLINICIAN_LINE)
    guidance.append(_CLEARANCE_LINE)
    return Readiness(
        status=ReadinessStatus.refer,
        reasons=tuple(reasons),
        earliest_start=None,
        guidance=tuple(guidance),
        urgent=bool(urgent_flags),
    )


def _recovering_guidance(*, days_since_onset: int) -> tuple[str, ...]:
    # Only dates are known, so day 0-2 counts as within the first 72 hours.
    ice_first = days_since_onset * 24 < c.ICE_FIRST_HOURS[1]
    cold_heat = (_ICE_LINE, _HEAT_LINE) if ice_first else (_HEAT_LINE, _ICE_LINE)
    return cold_heat + _RECOVERING_LINES


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
