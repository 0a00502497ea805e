"""Weekly education tips (DOMAIN.md, "Education")."""

from __future__ import annotations

import re

import pytest

from programs.education import TIPS, weekly_tip
from programs.models import EducationTip


def test_at_least_ten_tips() -> None:
    assert len(TIPS) >= 10
    assert all(isinstance(tip, EducationTip) for tip in TIPS)


def test_topics_and_texts_are_unique() -> None:
    assert len({tip.topic for tip in TIPS}) == len(TIPS)
    assert len({tip.text for tip in TIPS}) == len(TIPS)


@pytest.mark.parametrize("tip", TIPS, ids=lambda tip: tip.topic)
def test_each_tip_is_one_to_three_sentences(tip: EducationTip) -> None:
    assert tip.topic.strip()
    sentences = re.findall(r"[.!?](?:\s|$)", tip.text)
    assert 1 <= len(sentences) <= 3
    assert tip.text.rstrip().endswith((".", "!", "?"))


@pytest.mark.parametrize(
    "phrase",
    [
        "desk",  # posture at a desk
        "sitting",  # breaks from sitting
        "bent knees and hips",  # lifting
        "close to your body",
        "never twist",
        "stay gently active",  # first sign of a new spasm
        "keep moving",  # staying active
        "pillow",  # sleep positions
        "before sport",  # warming up
        "abdominal",  # balance of back and stomach work
        "enjoy",  # regular exercise the person keeps doing
        "fades",  # why maintenance never ends
        "hinge at the hips",  # bending
        "new spasm",
    ],
)
def test_tips_cover_the_domain_topics(phrase: str) -> None:
    assert any(phrase in tip.text.lower() or phrase in tip.topic.lower() for tip in TIPS)


def test_tips_never_recommend_belts_corsets_traction_or_bed_rest() -> None:
    text = " ".join(tip.text for tip in TIPS).lower()
    for word in ("belt", "corset", "traction", "bed rest"):
        assert word not in text


def test_first_week_gets_the_first_tip() -> None:
    assert weekly_tip(week_in_program=0) == TIPS[0]


def test_rotation_shows_every_tip_once_per_cycle_and_repeats() -> None:
    cycle = [weekly_tip(week_in_program=week) for week in range(len(TIPS))]
    assert cycle == list(TIPS)
    for week in range(3 * len(TIPS)):
        assert weekly_tip(week_in_program=week) == weekly_tip(week_in_program=week + len(TIPS))


def test_consecutive_weeks_get_different_tips() -> None:
    for week in range(2 * len(TIPS)):
        assert weekly_tip(week_in_program=week) != weekly_tip(week_in_program=week + 1)


def test_weekly_tip_is_deterministic() -> None:
    assert weekly_tip(week_in_program=57) == weekly_tip(week_in_program=57)


@pytest.mark.parametrize("week", [-1, -12])
def test_negative_week_raises(week: int) -> None:
    with pytest.raises(ValueError, match="week_in_program"):
        weekly_tip(week_in_program=week)
