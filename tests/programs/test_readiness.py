"""The readiness gate: refer, recovering or ready (DOMAIN.md, "Before any plan")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs import constants as c
from programs.models import URGENT_RED_FLAGS, Episode, ReadinessStatus, RedFlag
from programs.readiness import Readiness, assess, safety_notes

ON = date(2025, 3, 10)
FORBIDDEN = ("belt", "corset", "traction")


def days_before(n: int) -> date:
    return ON - timedelta(days=n)


def episode(
    *,
    days_ago: int = 30,
    pain: int = 0,
    flags: tuple[RedFlag, ...] = (),
    resolved_days_ago: int | None = None,
    cleared: bool = False,
) -> Episode:
    return Episode(
        onset_date=days_before(days_ago),
        pain_now=pain,
        red_flags=flags,
        resolved_on=None if resolved_days_ago is None else days_before(resolved_days_ago),
        cleared_by_clinician=cleared,
    )


def all_text(readiness: Readiness) -> str:
    return " ".join(readiness.reasons + readiness.guidance).lower()


def ice_index(readiness: Readiness) -> int:
    return next(i for i, line in enumerate(readiness.guidance) if "ice wrapped in a cloth" in line)


def heat_index(readiness: Readiness) -> int:
    return next(i for i, line in enumerate(readiness.guidance) if "moist heat" in line)


# --- ready ------------------------------------------------------------------------


def test_no_episodes_is_ready_without_a_start_date() -> None:
    result = assess([], on=ON)
    assert result.status is ReadinessStatus.ready
    assert result.earliest_start is None
    assert result.reasons == ()
    assert result.guidance
    assert not result.urgent


def test_only_future_episodes_count_as_no_episode() -> None:
    future = Episode(onset_date=ON + timedelta(days=1), pain_now=9, red_flags=(RedFlag.fever,))
    result = assess([future], on=ON)
    assert result.status is ReadinessStatus.ready
    assert result.earliest_start is None


def test_recovered_episode_is_ready_from_fourteen_days_after_onset() -> None:
    result = assess([episode(days_ago=20, pain=1)], on=ON)
    assert result.status is ReadinessStatus.ready
    assert result.earliest_start == days_before(20) + timedelta(days=c.MIN_DAYS_AFTER_ONSET)
    assert result.earliest_start == days_before(6)


def test_episode_with_onset_after_on_is_ignored() -> None:
    settled = episode(days_ago=30, pain=0)
    later = Episode(
        onset_date=ON + timedelta(days=2), pain_now=8, red_flags=(RedFlag.saddle_numbness,)
    )
    result = assess([settled, later], on=ON)
    assert result.status is ReadinessStatus.ready
    assert result.earliest_start == days_before(16)
    # Once that day arrives the same report refers.
    assert assess([settled, later], on=ON + timedelta(days=2)).status is ReadinessStatus.refer


# --- refer: red flags ---------------------------------------------------------------


@pytest.mark.parametrize("flag", list(RedFlag))
def test_every_red_flag_refers(flag: RedFlag) -> None:
    result = assess([episode(days_ago=60, pain=0, flags=(flag,))], on=ON)
    assert result.status is ReadinessStatus.refer
    assert result.earliest_start is None
    assert result.urgent is (flag in URGENT_RED_FLAGS)
    assert len(result.reasons) == 1
    # Plain words, never an API code such as "saddle_numbness".
    assert "_" not in result.reasons[0]
    assert result.reasons[0] != f"Red flag reported: {flag.value}."
    assert any("no exercises" in line.lower() for line in result.guidance)
    assert any("cleared by a clinician" in line for line in result.guidance)


@pytest.mark.parametrize("flag", sorted(URGENT_RED_FLAGS))
def test_urgent_flag_puts_urgent_care_first(flag: RedFlag) -> None:
    result = assess([episode(flags=(flag,))], on=ON)
    assert result.urgent
    first = result.guidance[0].lower()
    assert "urgent" in first
    assert "today" in first
    assert "emergency department" in first
    assert "nerve compression" in first


@pytest.mark.parametrize("flag", sorted(set(RedFlag) - URGENT_RED_FLAGS))
def test_other_flags_refer_promptly_not_urgently(flag: RedFlag) -> None:
    result = assess([episode(flags=(flag,))], on=ON)
    assert not result.urgent
    assert "emergency" not in all_text(result)
    assert any("promptly" in line for line in result.guidance)


def test_urgent_line_names_the_urgent_symptoms() -> None:
    flags = (RedFlag.fever, RedFlag.saddle_numbness, RedFlag.unsteady_walking)
    result = assess([episode(flags=flags)], on=ON)
    assert result.urgent
    first = result.guidance[0].lower()
    assert "numbness around the genitals" in first
    assert "unsteady walking" in first
    assert "fever" not in first
    assert len(result.reasons) == 3


def test_repeated_flags_give_one_reason_each() -> None:
    flags = (RedFlag.fever, RedFlag.fever)
    result = assess([episode(days_ago=40, flags=flags), episode(flags=(RedFlag.fever,))], on=ON)
    assert result.status is ReadinessStatus.refer
    assert len(result.reasons) == 1


def test_flag_on_an_earlier_episode_still_refers() -> None:
    result = assess([episode(days_ago=90, flags=(RedFlag.major_trauma,)), episode()], on=ON)
    assert result.status is ReadinessStatus.refer


# --- refer: clearance ---------------------------------------------------------------


def test_clearance_on_the_same_episode_lifts_the_referral() -> None:
    result = assess([episode(flags=(RedFlag.bladder_bowel_change,), cleared=True)], on=ON)
    assert result.status is ReadinessStatus.ready
    assert not result.urgent


def test_clearance_on_a_later_episode_lifts_the_referral() -> None:
    flagged = episode(days_ago=60, flags=(RedFlag.history_of_cancer,))
    clearance = episode(days_ago=30, cleared=True)
    assert assess([flagged, clearance], on=ON).status is ReadinessStatus.ready


def test_clearance_on_an_earlier_episode_does_not_lift_a_later_flag() -> None:
    clearance = episode(days_ago=60, cleared=True)
    flagged = episode(days_ago=30, flags=(RedFlag.leg_weakness_progressive,))
    result = assess([clearance, flagged], on=ON)
    assert result.status is ReadinessStatus.refer
    assert result.urgent


def test_clearance_reported_with_a_future_onset_does_not_count() -> None:
    flagged = episode(days_ago=30, flags=(RedFlag.fever,))
    clearance = Episode(onset_date=ON + timedelta(days=1), pain_now=0, cleared_by_clinician=True)
    assert assess([flagged, clearance], on=ON).status is ReadinessStatus.refer


def test_clearance_lifts_only_the_referral_not_the_recovery_rules() -> None:
    result = assess([episode(days_ago=5, flags=(RedFlag.fever,), cleared=True)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == days_before(5) + timedelta(days=14)


# --- refer: no improvement after 4 weeks -----------------------------------------


@pytest.mark.parametrize(
    ("days_ago", "pain", "expected"),
    [
        (27, 3, ReadinessStatus.recovering),
        (27, 4, ReadinessStatus.recovering),
        (28, 3, ReadinessStatus.recovering),
        (28, 4, ReadinessStatus.refer),
        (60, 10, ReadinessStatus.refer),
    ],
)
def test_pain_not_improving_after_four_weeks_refers(
    days_ago: int, pain: int, expected: ReadinessStatus
) -> None:
    result = assess([episode(days_ago=days_ago, pain=pain)], on=ON)
    assert result.status is expected
    if expected is ReadinessStatus.refer:
        assert result.earliest_start is None
        assert not result.urgent
        assert len(result.reasons) == 1
        assert "not improved" in result.reasons[0]
        assert any("promptly" in line for line in result.guidance)


def test_no_improvement_ignores_a_resolved_episode() -> None:
    result = assess([episode(days_ago=40, pain=6, resolved_days_ago=5)], on=ON)
    assert result.status is ReadinessStatus.ready


def test_no_improvement_counts_a_resolution_after_on_as_unresolved() -> None:
    late = Episode(onset_date=days_before(40), pain_now=6, resolved_on=ON + timedelta(days=1))
    assert assess([late], on=ON).status is ReadinessStatus.refer


def test_no_improvement_is_judged_on_the_latest_episode_only() -> None:
    old = episode(days_ago=90, pain=6)
    latest = episode(days_ago=20, pain=1)
    assert assess([old, latest], on=ON).status is ReadinessStatus.ready


def test_clearance_lifts_no_improvement_but_pain_still_holds_the_start() -> None:
    result = assess([episode(days_ago=40, pain=6, cleared=True)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == ON + timedelta(days=1)


def test_flags_and_no_improvement_give_a_reason_each() -> None:
    result = assess([episode(days_ago=40, pain=6, flags=(RedFlag.constant_night_pain,))], on=ON)
    assert result.status is ReadinessStatus.refer
    assert len(result.reasons) == 2


# --- recovering -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        (0, ReadinessStatus.recovering),
        (13, ReadinessStatus.recovering),
        (14, ReadinessStatus.ready),
    ],
)
def test_fourteen_days_after_onset_boundary(days_ago: int, expected: ReadinessStatus) -> None:
    result = assess([episode(days_ago=days_ago, pain=0)], on=ON)
    assert result.status is expected
    assert result.earliest_start == days_before(days_ago) + timedelta(days=14)


def test_too_soon_even_when_resolved() -> None:
    result = assess([episode(days_ago=10, pain=0, resolved_days_ago=2)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == days_before(10) + timedelta(days=14)


@pytest.mark.parametrize(
    ("pain", "expected"), [(2, ReadinessStatus.ready), (3, ReadinessStatus.recovering)]
)
def test_pain_at_rest_boundary(pain: int, expected: ReadinessStatus) -> None:
    assert assess([episode(days_ago=20, pain=pain)], on=ON).status is expected


def test_resolved_episode_with_high_pain_is_ready_after_fourteen_days() -> None:
    result = assess([episode(days_ago=14, pain=8, resolved_days_ago=1)], on=ON)
    assert result.status is ReadinessStatus.ready
    assert result.earliest_start == ON


def test_resolution_after_on_does_not_count_yet() -> None:
    late = Episode(onset_date=days_before(20), pain_now=5, resolved_on=ON + timedelta(days=3))
    result = assess([late], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == ON + timedelta(days=1)


def test_pain_blocking_after_fourteen_days_starts_tomorrow_at_the_earliest() -> None:
    result = assess([episode(days_ago=20, pain=5)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == ON + timedelta(days=1)
    assert len(result.reasons) == 1
    assert "5/10" in result.reasons[0]


def test_pain_blocking_on_day_fourteen_starts_tomorrow() -> None:
    result = assess([episode(days_ago=14, pain=3)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == ON + timedelta(days=1)


def test_pain_blocking_before_fourteen_days_keeps_onset_plus_fourteen() -> None:
    result = assess([episode(days_ago=3, pain=7)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == days_before(3) + timedelta(days=14)
    assert len(result.reasons) == 2


def test_latest_episode_decides_recovery() -> None:
    old = episode(days_ago=100, pain=0, resolved_days_ago=80)
    new = episode(days_ago=4, pain=6)
    result = assess([old, new], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == days_before(4) + timedelta(days=14)


@pytest.mark.parametrize("days_ago", [0, 1, 2])
def test_ice_comes_first_within_72_hours(days_ago: int) -> None:
    result = assess([episode(days_ago=days_ago, pain=6)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert ice_index(result) == 0
    assert heat_index(result) == 1


@pytest.mark.parametrize("days_ago", [3, 7, 13, 20])
def test_heat_comes_first_after_72_hours(days_ago: int) -> None:
    result = assess([episode(days_ago=days_ago, pain=6)], on=ON)
    assert result.status is ReadinessStatus.recovering
    assert heat_index(result) == 0
    assert ice_index(result) == 1


def test_recovering_guidance_covers_self_care() -> None:
    text = all_text(assess([episode(days_ago=2, pain=6)], on=ON))
    assert "stay active" in text
    assert "slower pace" in text
    assert f"no more than {c.MAX_BED_REST_DAYS} days" in text
    assert "bare skin" in text
    assert f"longer than {c.ICE_MINUTES[1]} minutes" in text
    assert "several times a day" in text
    assert "warm bath" in text
    assert "walk" in text
    assert "knees-to-chest" in text
    assert "if it does not hurt" in text
    assert "pharmacist or doctor" in text


# --- wording across every outcome ----------------------------------------------


SCENARIOS: list[list[Episode]] = [
    [],
    [episode(days_ago=20)],
    [episode(days_ago=1, pain=8)],
    [episode(days_ago=10, pain=4)],
    [episode(days_ago=40, pain=7)],
    [episode(flags=tuple(RedFlag))],
    [episode(flags=(RedFlag.fever,))],
]


@pytest.mark.parametrize("episodes", SCENARIOS)
def test_never_mentions_belts_corsets_or_traction(episodes: list[Episode]) -> None:
    result = assess(episodes, on=ON)
    text = all_text(result) + " ".join(safety_notes()).lower()
    for word in FORBIDDEN:
        assert word not in text


@pytest.mark.parametrize("episodes", SCENARIOS)
def test_bed_rest_is_never_recommended_beyond_two_days(episodes: list[Episode]) -> None:
    for line in assess(episodes, on=ON).guidance:
        if "bed rest" in line.lower():
            assert f"no more than {c.MAX_BED_REST_DAYS} days" in line
            assert c.MAX_BED_REST_DAYS <= 2


def test_safety_notes_say_when_to_stop_and_whom_to_call() -> None:
    notes = safety_notes()
    text = " ".join(notes).lower()
    assert "not a diagnosis" in text
    assert "stop" in text
    assert "sharp" in text
    assert "numbness" in text
    assert f"above {c.AMBER_MAX_PAIN}/10" in text
    assert "doctor or physiotherapist" in text
    assert "emergency department" in text
    assert safety_notes() == notes


def test_assess_is_keyword_only_for_the_day() -> None:
    with pytest.raises(TypeError):
        assess([], ON)  # type: ignore[call-arg]


# --- properties -------------------------------------------------------------------

DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 4, 30))
FLAGS = st.one_of(
    st.just(()), st.lists(st.sampled_from(list(RedFlag)), min_size=1, max_size=2).map(tuple)
)
EPISODES = st.builds(
    Episode,
    onset_date=DATES,
    pain_now=st.integers(min_value=0, max_value=10),
    red_flags=FLAGS,
    resolved_on=st.one_of(st.none(), DATES),
    cleared_by_clinician=st.booleans(),
)


def has_unlifted_flag(counted: list[Episode]) -> bool:
    return any(
        episode.red_flags and not any(later.cleared_by_clinician for later in counted[i:])
        for i, episode in enumerate(counted)
    )


@given(episodes=st.lists(EPISODES, max_size=5), on=DATES)
def test_gate_invariants(episodes: list[Episode], on: date) -> None:
    result = assess(episodes, on=on)
    counted = [e for e in episodes if e.onset_date <= on]

    # Only episodes that have begun by `on` matter.
    assert result == assess(counted, on=on)

    if result.status is ReadinessStatus.refer:
        assert result.earliest_start is None
        assert result.reasons
        assert any("no exercises" in line.lower() for line in result.guidance)
    else:
        assert not result.urgent
        assert not has_unlifted_flag(counted)

    if result.status is ReadinessStatus.recovering:
        assert result.earliest_start is not None
        assert result.earliest_start > on
        assert result.reasons

    if result.status is ReadinessStatus.ready:
        assert result.reasons == ()
        if not counted:
            assert result.earliest_start is None
        else:
            latest = counted[-1]
            resolved = latest.resolved_on is not None and latest.resolved_on <= on
            assert result.earliest_start is not None
            assert result.earliest_start <= on
            assert (on - latest.onset_date).days >= c.MIN_DAYS_AFTER_ONSET
            assert resolved or latest.pain_now <= c.READY_MAX_PAIN

    if result.urgent:
        assert result.status is ReadinessStatus.refer
        assert "urgent" in result.guidance[0].lower()

    text = all_text(result)
    for word in FORBIDDEN:
        assert word not in text


@given(
    episodes=st.lists(EPISODES, max_size=4),
    on=DATES,
    flag=st.sampled_from(list(RedFlag)),
)
def test_a_new_uncleared_flag_always_refers(
    episodes: list[Episode], on: date, flag: RedFlag
) -> None:
    new = Episode(onset_date=on, pain_now=0, red_flags=(flag,))
    result = assess([*episodes, new], on=on)
    assert result.status is ReadinessStatus.refer
    # Earlier flags may make it urgent too; an urgent new flag always does.
    if flag in URGENT_RED_FLAGS:
        assert result.urgent


@given(episodes=st.lists(EPISODES, min_size=1, max_size=4), on=DATES)
def test_a_final_clearance_lifts_every_flag(episodes: list[Episode], on: date) -> None:
    clearance = Episode(onset_date=on, pain_now=0, cleared_by_clinician=True)
    result = assess([*episodes, clearance], on=on)
    # A fresh episode on `on` is in its acute phase, so the gate says recovering.
    assert result.status is ReadinessStatus.recovering
    assert result.earliest_start == on + timedelta(days=c.MIN_DAYS_AFTER_ONSET)
