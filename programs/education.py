"""One short education tip a week (DOMAIN.md, "Education").

Exercise with education prevents more episodes than exercise alone
(Steffens 2016), so every weekly plan carries one of these tips.
"""

from __future__ import annotations

from programs import constants as c
from programs.models import EducationTip

# Order matters only for the rotation: the first weeks get the tips that help
# most while the person is fresh from an episode.
TIPS: tuple[EducationTip, ...] = (
    EducationTip(
        topic="Staying active",
        text=(
            "Your back recovers and stays strong when you keep moving. Spread activity "
            "through the day instead of resting for long stretches."
        ),
    ),
    EducationTip(
        topic="Regular exercise you enjoy",
        text=(
            "The exercise that protects your back is the one you keep doing. Pick activities "
            "you enjoy, such as walking, cycling or swimming, and put them in your week "
            "like any other appointment."
        ),
    ),
    EducationTip(
        topic="Why maintenance never ends",
        text=(
            "Exercise roughly halves the chance of another episode, but the benefit fades "
            "within about a year once you stop. That is why the last stage of this program "
            "has no end date."
        ),
    ),
    EducationTip(
        topic="Posture at a desk",
        text=(
            "Sit with your feet flat on the floor, your lower back supported and your screen "
            "at eye level. Keep your shoulders relaxed and your elbows close to your sides."
        ),
    ),
    EducationTip(
        topic="Breaks from sitting",
        text=(
            "Sitting still for a long time loads the same tissues without a break. Stand up, "
            "walk or stretch for a minute or two at least every "
            f"{c.SITTING_BREAK_MINUTES} minutes."
        ),
    ),
    EducationTip(
        topic="Lifting",
        text=(
            "Lift with bent knees and hips rather than a rounded back, and keep the load "
            "close to your body. Turn with your feet, and never twist while you lift."
        ),
    ),
    EducationTip(
        topic="Bending",
        text=(
            "To reach something low, hinge at the hips or bend your knees into a squat "
            "instead of rounding your back. For small things, steady yourself with one hand "
            "on a table or your knee."
        ),
    ),
    EducationTip(
        topic="Sleep positions",
        text=(
            "On your side, bend your knees slightly and put a pillow between them; on your "
            "back, put a pillow under your knees. Choose a mattress that keeps your spine "
            "straight, neither sagging nor hard as a board."
        ),
    ),
    EducationTip(
        topic="Warming up before sport",
        text=(
            "Cold muscles strain more easily. Before sport, spend at least "
            f"{c.WARM_UP_MINUTES_LONG} minutes moving gently until you are slightly warm, "
            "then stretch the muscles you will use."
        ),
    ),
    EducationTip(
        topic="Balancing back and abdominal work",
        text=(
            "Muscles work against one another, so a strong back needs equally strong "
            "abdominal and side muscles. That is why each week in this program matches back "
            "exercises with stomach work."
        ),
    ),
    EducationTip(
        topic="At the first sign of a new spasm",
        text=(
            "Ease off, but stay gently active, and report the new episode: the program "
            "pauses and checks your readiness again. Use ice wrapped in a cloth for the first "
            "couple of days and moist heat after that, never ice on bare skin or for longer "
            f"than {c.ICE_MINUTES[1]} minutes."
        ),
    ),
)


def weekly_tip(*, week_in_program: int) -> EducationTip:
    """The tip for a week of the program, counted from 0; rotates through `TIPS`."""
    if week_in_program < 0:
        raise ValueError(f"week_in_program must be 0 or more, not {week_in_program}")
    return TIPS[week_in_program % len(TIPS)]
