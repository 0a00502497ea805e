"""The exercise library: every exercise backplan may prescribe, as data.

Slugs are the public identifiers; the planner refers to them by name, so a
slug never changes once published.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache

from pydantic import Field

from programs.errors import UnknownExercise
from programs.models import AerobicActivity, Category, Equipment, Frozen, Region


class DoseKind(StrEnum):
    """How an exercise is dosed, which decides the fields the planner fills."""

    stretch = "stretch"  # static hold, 15-30 s (30-60 s from 65), 2-4 reps
    mobility = "mobility"  # slow dynamic range of motion, counted in reps
    hold = "hold"  # core endurance isometric, holds of 10 s or less
    reps = "reps"  # dynamic strength, 8-12 reps, 1-3 sets
    minutes = "minutes"  # aerobic, in minutes at an intensity


class Exercise(Frozen):
    slug: str
    name: str
    category: Category
    region: Region
    dose: DoseKind
    per_side: bool = False
    equipment: tuple[Equipment, ...] = (Equipment.none,)
    level: int = Field(ge=1, le=4)
    instructions: tuple[str, ...]
    cues: tuple[str, ...]
    cautions: tuple[str, ...]
    easier: str | None = None
    harder: str | None = None
    activity: AerobicActivity | None = None
    healthkit_activity: str | None = None
    health_connect_exercise: str | None = None

    def __hash__(self) -> int:
        # Slugs are unique, so equal exercises share one: hashing the slug alone
        # keeps the planner's caches, keyed on exercises, cheap.
        return hash(self.slug)

    def usable_with(self, equipment: Iterable[Equipment]) -> bool:
        have = set(equipment) | {Equipment.none, Equipment.mat, Equipment.chair, Equipment.wall}
        return all(item in have for item in self.equipment)


# Health platform labels are names, never integers (INTEGRATION.md, "Labels health
# platforms understand"): Apple HealthKit HKWorkoutActivityType case names and
# Android Health Connect ExerciseSessionRecord constant names. Beyond that list,
# the elliptical uses `elliptical` / EXERCISE_TYPE_ELLIPTICAL and water walking
# uses HealthKit's `waterFitness` (Health Connect has no water-fitness type).
EXERCISES: tuple[Exercise, ...] = (
    # --- Stretching and mobility ----------------------------------------------------
    Exercise(
        slug="knees-to-chest",
        name="Knees-to-chest stretch",
        category=Category.stretching,
        region=Region.back_extensor,
        dose=DoseKind.stretch,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet flat.",
            "Bring one knee and then the other up towards your chest.",
            "Hold behind your thighs and gently draw both knees closer to your chest.",
            "Stop where you feel a gentle stretch in your lower back and hold it, "
            "breathing slowly.",
            "Lower one foot at a time back to the floor.",
        ),
        cues=(
            "Keep your head and shoulders relaxed on the floor.",
            "Pull gently and steadily; do not bounce.",
        ),
        cautions=(
            "Stop if you feel sharp pain or pain spreading down a leg.",
            "Hold behind your thighs, not over your knees, if your knees are sore.",
        ),
        easier="single-knee-to-chest",
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="single-knee-to-chest",
        name="Single knee-to-chest stretch",
        category=Category.stretching,
        region=Region.back_extensor,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet flat.",
            "Bring one knee up towards your chest and hold behind that thigh with both hands.",
            "Keep the other foot flat on the floor.",
            "Draw the knee gently closer until you feel a stretch in your lower back "
            "and buttock, and hold it.",
            "Lower the foot slowly and repeat with the other leg.",
        ),
        cues=(
            "Keep your lower back resting on the floor.",
            "Breathe slowly and let the muscles relax.",
        ),
        cautions=(
            "Stop if you feel sharp pain or pain spreading down a leg.",
            "Ease off if the stretch turns into pain rather than a gentle pull.",
        ),
        harder="knees-to-chest",
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="cat-camel",
        name="Cat-camel",
        category=Category.stretching,
        region=Region.back_extensor,
        dose=DoseKind.mobility,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Get on your hands and knees on a mat or carpet, hands under your shoulders "
            "and knees under your hips.",
            "Slowly round your back up towards the ceiling and let your head drop.",
            "Then slowly let your back sag a little and lift your head.",
            "Move between the two positions smoothly, without pausing at the ends.",
        ),
        cues=(
            "Move slowly and only as far as is comfortable.",
            "Breathe out as you round your back and in as you let it sag.",
        ),
        cautions=(
            "This is a gentle loosening movement: do not push into the end of the range.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="child-pose",
        name="Child's pose",
        category=Category.stretching,
        region=Region.back_extensor,
        dose=DoseKind.stretch,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Kneel on a mat or carpet with your big toes together and knees apart.",
            "Sit your hips back towards your heels.",
            "Walk your hands forward and lower your chest towards the floor.",
            "Rest your forehead on the floor or on a cushion and hold, breathing slowly.",
            "Walk your hands back to come up.",
        ),
        cues=(
            "Let your back and shoulders relax with each breath out.",
            "Reach long through your arms.",
        ),
        cautions=(
            "Put a cushion between your hips and heels if your knees are uncomfortable.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="lower-trunk-rotation",
        name="Lower trunk rotation",
        category=Category.stretching,
        region=Region.abdominal_side,
        dose=DoseKind.mobility,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet together.",
            "Rest your arms out to the sides on the floor.",
            "Keeping your shoulders down, slowly let both knees fall to one side.",
            "Go only as far as is comfortable, pause, then bring the knees back to the middle.",
            "Repeat to the other side.",
        ),
        cues=(
            "Keep both shoulders on the floor.",
            "Move slowly and keep your knees together.",
        ),
        cautions=(
            "Keep the range small if twisting is uncomfortable.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="hip-flexor-stretch",
        name="Half-kneeling hip flexor stretch",
        category=Category.stretching,
        region=Region.hip,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Kneel on one knee on a mat or cushion with the other foot flat in front of you.",
            "Hold a chair or wall for balance if you need to.",
            "Squeeze the buttock of the kneeling leg and tuck your tailbone slightly under.",
            "Shift your weight gently forward until you feel a stretch at the front of "
            "the kneeling hip, and hold.",
            "Come back and repeat with the other leg in front.",
        ),
        cues=(
            "Stand tall through your trunk.",
            "Keep the front knee over the ankle.",
        ),
        cautions=(
            "Do not arch your lower back to go further.",
            "Pad the kneeling knee; use the standing version if kneeling hurts.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="standing-hip-flexor-stretch",
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="standing-hip-flexor-stretch",
        name="Standing hip flexor stretch",
        category=Category.stretching,
        region=Region.hip,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand tall holding the back of a chair or a wall.",
            "Step one foot back into a short stride, back heel lifted.",
            "Squeeze the buttock of the back leg and tuck your tailbone slightly under.",
            "Bend the front knee a little until you feel a stretch at the front of the "
            "back hip, and hold.",
            "Step the feet together and repeat with the other leg back.",
        ),
        cues=(
            "Keep your trunk upright.",
            "Keep your hips facing forward.",
        ),
        cautions=(
            "Do not arch your lower back to go further.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        harder="hip-flexor-stretch",
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="hamstring-stretch",
        name="Lying hamstring stretch with a towel",
        category=Category.stretching,
        region=Region.legs,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with both knees bent.",
            "Loop a towel or strap around the sole of one foot.",
            "Straighten that leg up towards the ceiling, holding the ends of the towel.",
            "Stop where you feel a gentle stretch at the back of the thigh, and hold.",
            "Lower the leg with the knee bent and repeat on the other side.",
        ),
        cues=(
            "Keep your lower back and head resting on the floor.",
            "Keep the other knee bent and that foot flat.",
        ),
        cautions=(
            "Ease off if you feel tingling or numbness in the leg or foot.",
            "Stop if you feel sharp pain or pain spreading down the leg.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="piriformis-stretch",
        name="Figure-4 piriformis stretch",
        category=Category.stretching,
        region=Region.hip,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet flat.",
            "Cross one ankle over the opposite knee to make a figure 4.",
            "Hold behind the thigh of the bottom leg with both hands.",
            "Draw that thigh gently towards your chest until you feel a stretch in the "
            "buttock of the crossed leg, and hold.",
            "Uncross slowly and repeat on the other side.",
        ),
        cues=(
            "Keep your head and shoulders relaxed on the floor.",
            "Let the crossed knee open gently away from you.",
        ),
        cautions=(
            "Keep the foot flat on the floor instead of pulling if that already gives a stretch.",
            "Stop if you feel sharp pain, numbness or pain spreading down a leg.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="quad-stretch",
        name="Standing quadriceps stretch",
        category=Category.stretching,
        region=Region.legs,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Stand tall next to a wall and rest one hand on it.",
            "Bend one knee and hold that ankle behind you with your free hand.",
            "Draw your heel gently towards your buttock until you feel a stretch at the "
            "front of the thigh, and hold.",
            "Lower the foot slowly and repeat on the other side.",
        ),
        cues=(
            "Keep your knees close together.",
            "Tuck your tailbone slightly under and stand tall.",
        ),
        cautions=(
            "Loop a towel around your ankle if you cannot reach it.",
            "Do not arch your lower back to go further.",
            "Stop if you feel sharp pain in the knee or back.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="calf-stretch",
        name="Calf stretch at a wall",
        category=Category.stretching,
        region=Region.legs,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand facing a wall with both hands on it at shoulder height.",
            "Step one foot back and press that heel into the floor, back knee straight.",
            "Bend the front knee and lean towards the wall until you feel a stretch in "
            "the back calf, and hold.",
            "Step back together and repeat with the other leg back.",
        ),
        cues=(
            "Keep both feet pointing straight at the wall.",
            "Keep your body in a straight line from head to back heel.",
        ),
        cautions=(
            "Ease off if you feel pain in the heel or Achilles tendon.",
            "Stop if you feel sharp pain.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="shoulder-stretch",
        name="Cross-body shoulder stretch",
        category=Category.stretching,
        region=Region.upper_body,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand or sit tall.",
            "Bring one arm across your chest at shoulder height.",
            "With the other hand, press gently just above the elbow to draw the arm closer.",
            "Hold where you feel a stretch at the back of the shoulder.",
            "Release slowly and repeat with the other arm.",
        ),
        cues=(
            "Keep your shoulders down, away from your ears.",
            "Keep your trunk facing forward.",
        ),
        cautions=(
            "Press above the elbow, not on the joint.",
            "Stop if you feel pinching or sharp pain in the shoulder.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="triceps-stretch",
        name="Overhead triceps stretch",
        category=Category.stretching,
        region=Region.upper_body,
        dose=DoseKind.stretch,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand or sit tall.",
            "Raise one arm and bend the elbow so your hand drops behind your head.",
            "With the other hand, press gently on the raised elbow.",
            "Hold where you feel a stretch at the back of the upper arm.",
            "Lower the arm slowly and repeat on the other side.",
        ),
        cues=(
            "Keep your head upright; do not push it forward.",
            "Keep your ribs down rather than arching your back.",
        ),
        cautions=(
            "Skip this stretch if raising your arm overhead hurts your shoulder.",
            "Stop if you feel sharp pain.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="chest-doorway-stretch",
        name="Doorway chest stretch",
        category=Category.stretching,
        region=Region.upper_body,
        dose=DoseKind.stretch,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand in an open doorway.",
            "Place your forearms on each side of the door frame, elbows at shoulder height.",
            "Step one foot forward and lean gently until you feel a stretch across your "
            "chest, and hold.",
            "Step back to release.",
        ),
        cues=(
            "Keep your trunk upright and your belly gently braced.",
            "Keep your shoulders down, away from your ears.",
        ),
        cautions=(
            "Keep your elbows no higher than your shoulders.",
            "Stop if you feel tingling in your arms or hands, or sharp shoulder pain.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    Exercise(
        slug="open-book",
        name="Open book (upper back rotation)",
        category=Category.stretching,
        region=Region.upper_body,
        dose=DoseKind.mobility,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your side on a mat or carpet with your knees bent up to hip height.",
            "Stretch both arms out in front of you at shoulder height, palms together.",
            "Keeping your knees together on the floor, lift the top arm and open it "
            "across your body, turning your chest towards the ceiling.",
            "Follow your hand with your eyes, go only as far as is comfortable, then "
            "bring the arm back.",
            "After your repetitions, turn over and repeat on the other side.",
        ),
        cues=(
            "Let the turn come from your upper back, not your lower back.",
            "Breathe out as you open.",
        ),
        cautions=(
            "Keep your knees on the floor so your lower back does not twist.",
            "Stop if you feel sharp pain or pain spreading down a leg or arm.",
        ),
        healthkit_activity="flexibility",
        health_connect_exercise="EXERCISE_TYPE_STRETCHING",
    ),
    # --- Strengthening: abdominal front ---------------------------------------------
    Exercise(
        slug="abdominal-bracing",
        name="Abdominal bracing",
        category=Category.strengthening,
        region=Region.abdominal_front,
        dose=DoseKind.hold,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet flat.",
            "Rest your fingertips on your belly just inside your hip bones.",
            "Gently tighten your belly muscles as if bracing for a light poke, without "
            "sucking in or pushing out.",
            "Hold the brace while breathing normally.",
            "Relax fully before the next hold.",
        ),
        cues=(
            "Use about a quarter of your full effort.",
            "Keep breathing; do not hold your breath.",
            "Keep your lower back still, neither flattened nor arched.",
        ),
        cautions=(
            "Stop if bracing brings on sharp pain or pain spreading down a leg.",
            "If you have high blood pressure, be sure to keep breathing throughout.",
        ),
        harder="curl-up",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="curl-up",
        name="McGill curl-up",
        category=Category.strengthening,
        region=Region.abdominal_front,
        dose=DoseKind.hold,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with one knee bent and the other leg straight.",
            "Slide your hands, palms down, under the arch of your lower back.",
            "Gently brace your belly.",
            "Lift your head and shoulders just a few centimetres off the floor, keeping "
            "your neck in line with your trunk.",
            "Hold while breathing, then lower slowly.",
            "Swap which knee is bent halfway through your repetitions.",
        ),
        cues=(
            "Imagine your head resting on a plate that lifts with you; do not tuck your chin.",
            "Keep the natural curve of your lower back resting on your hands.",
        ),
        cautions=(
            "This is not a sit-up: do not curl your lower back off the floor.",
            "Stop if you feel neck strain, sharp pain or pain spreading down a leg.",
        ),
        easier="abdominal-bracing",
        harder="dead-bug",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="dead-bug",
        name="Dead bug",
        category=Category.strengthening,
        region=Region.abdominal_front,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Lie on your back on a mat or carpet with hips and knees bent to a right "
            "angle and arms reaching to the ceiling.",
            "Gently brace your belly so your lower back stays still.",
            "Slowly straighten one leg and lower the opposite arm overhead, keeping both "
            "just above the floor.",
            "Hold briefly, then bring them back to the start.",
            "Repeat with the other arm and leg.",
        ),
        cues=(
            "Keep your lower back still; it should not arch off the floor.",
            "Move slowly and breathe out as you reach.",
        ),
        cautions=(
            "Reach less far if your back starts to arch.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="curl-up",
        harder="front-plank-knees",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="front-plank-knees",
        name="Front plank on knees",
        category=Category.strengthening,
        region=Region.abdominal_front,
        dose=DoseKind.hold,
        per_side=False,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Lie face down on a mat or carpet with your elbows under your shoulders.",
            "Keep your knees on the floor and gently brace your belly.",
            "Lift your hips so your body makes a straight line from head to knees.",
            "Hold while breathing, then lower gently.",
        ),
        cues=(
            "Do not let your hips sag or poke up.",
            "Push the floor away with your forearms.",
        ),
        cautions=(
            "Lower down as soon as your back starts to sag or ache.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="dead-bug",
        harder="front-plank",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="front-plank",
        name="Front plank",
        category=Category.strengthening,
        region=Region.abdominal_front,
        dose=DoseKind.hold,
        per_side=False,
        equipment=(Equipment.none,),
        level=3,
        instructions=(
            "Lie face down on a mat or carpet with your elbows under your shoulders.",
            "Tuck your toes under and gently brace your belly.",
            "Lift your knees and hips so your body makes a straight line from head to heels.",
            "Hold while breathing, then lower your knees first.",
        ),
        cues=(
            "Do not let your hips sag or poke up.",
            "Squeeze your buttocks and keep your neck in line.",
        ),
        cautions=(
            "Drop to your knees as soon as your back starts to sag or ache.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="front-plank-knees",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    # --- Strengthening: abdominal side ----------------------------------------------
    Exercise(
        slug="side-plank-knees",
        name="Side plank on knees",
        category=Category.strengthening,
        region=Region.abdominal_side,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your side on a mat or carpet with your knees bent so your feet are behind you.",
            "Prop yourself up on your elbow, placed directly under your shoulder.",
            "Gently brace your belly and lift your hips so your body is straight from "
            "head to knees.",
            "Hold while breathing, then lower gently.",
            "Repeat on the other side.",
        ),
        cues=(
            "Keep your hips pushed forward, not bent back.",
            "Keep your head in line with your spine.",
        ),
        cautions=(
            "Put a folded towel under your elbow if it is uncomfortable.",
            "Stop if you feel sharp pain, shoulder pain or pain spreading down a leg.",
        ),
        harder="side-plank",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="side-plank",
        name="Side plank",
        category=Category.strengthening,
        region=Region.abdominal_side,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.none,),
        level=3,
        instructions=(
            "Lie on your side on a mat or carpet with your legs straight and the top "
            "foot in front of the bottom foot.",
            "Prop yourself up on your elbow, placed directly under your shoulder.",
            "Gently brace your belly and lift your hips so your body is straight from "
            "head to feet.",
            "Hold while breathing, then lower gently.",
            "Repeat on the other side.",
        ),
        cues=(
            "Keep your hips lifted and in line; do not let them sag.",
            "Rest your top hand on your opposite shoulder or your hip.",
        ),
        cautions=(
            "Go back to the knee version if you cannot keep your body straight.",
            "Stop if you feel sharp pain, shoulder pain or pain spreading down a leg.",
        ),
        easier="side-plank-knees",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="pallof-press",
        name="Pallof press",
        category=Category.strengthening,
        region=Region.abdominal_side,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.band,),
        level=3,
        instructions=(
            "Anchor a resistance band at chest height to something sturdy.",
            "Stand side-on to the anchor, feet hip-width apart and knees soft, holding "
            "the band with both hands at your chest.",
            "Gently brace your belly and press your hands straight out in front of your chest.",
            "Hold without letting the band turn you, then bring your hands back.",
            "Turn around and repeat facing the other way.",
        ),
        cues=(
            "Keep your chest and hips facing straight ahead.",
            "Stand tall with your shoulders down.",
        ),
        cautions=(
            "Check that the band is securely anchored before you start.",
            "Step closer to the anchor to make it lighter if you cannot stay still.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="side-plank-knees",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    # --- Strengthening: back extensors ----------------------------------------------
    Exercise(
        slug="quadruped-arm-reach",
        name="Arm reach on hands and knees",
        category=Category.strengthening,
        region=Region.back_extensor,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Get on your hands and knees on a mat or carpet, hands under your shoulders "
            "and knees under your hips.",
            "Gently brace your belly so your back stays flat.",
            "Slowly reach one arm straight forward to shoulder height, thumb up.",
            "Hold, then lower the hand back to the floor.",
            "Repeat with the other arm.",
        ),
        cues=(
            "Keep your back flat like a table; do not twist or sag.",
            "Keep your neck in line and look at the floor.",
        ),
        cautions=(
            "Put a cushion under your knees if kneeling is uncomfortable.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        harder="bird-dog",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="bird-dog",
        name="Bird dog",
        category=Category.strengthening,
        region=Region.back_extensor,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Get on your hands and knees on a mat or carpet, hands under your shoulders "
            "and knees under your hips.",
            "Gently brace your belly so your back stays flat.",
            "Slide one leg back and lift it to hip height while reaching the opposite "
            "arm forward to shoulder height.",
            "Hold, then bring the hand and knee back to the floor.",
            "Repeat with the other arm and leg.",
        ),
        cues=(
            "Imagine a glass of water on your lower back that must not spill.",
            "Reach long rather than high.",
        ),
        cautions=(
            "Lift the leg only to hip height; do not arch your back.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="quadruped-arm-reach",
        harder="prone-arm-leg-lift",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="prone-arm-leg-lift",
        name="Opposite arm and leg lift, lying face down",
        category=Category.strengthening,
        region=Region.back_extensor,
        dose=DoseKind.hold,
        per_side=True,
        equipment=(Equipment.none,),
        level=3,
        instructions=(
            "Lie face down on a mat or carpet with your arms stretched out overhead.",
            "Rest your forehead on a folded towel.",
            "Gently tighten your belly and buttocks.",
            "Lift one arm and the opposite leg a few centimetres off the floor and hold.",
            "Lower slowly and repeat with the other arm and leg.",
        ),
        cues=(
            "Reach long through your fingers and toes.",
            "Keep looking at the floor so your neck stays long.",
        ),
        cautions=(
            "Keep the lift small: a few centimetres is enough.",
            "Place a pillow under your hips if lying flat is uncomfortable.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="bird-dog",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="back-extension",
        name="Back extension, lying face down",
        category=Category.strengthening,
        region=Region.back_extensor,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=3,
        instructions=(
            "Lie face down on a mat or carpet with your arms by your sides.",
            "Gently tighten your buttocks.",
            "Lift your head and chest a few centimetres off the floor, keeping your eyes "
            "on the floor.",
            "Pause for a moment, then lower slowly.",
        ),
        cues=(
            "Keep your neck long; do not look up.",
            "Move slowly and smoothly.",
        ),
        cautions=(
            "Keep the range small; do not push up as high as you can.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="bird-dog",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="hip-hinge",
        name="Hip hinge with a broom",
        category=Category.strengthening,
        region=Region.back_extensor,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Stand with your feet hip-width apart.",
            "Hold a broom handle or stick along your back so it touches your head, upper "
            "back and tailbone.",
            "Soften your knees and push your hips back, leaning your trunk forward.",
            "Keep all three points touching the stick and stop before any of them loses contact.",
            "Squeeze your buttocks and push your hips forward to stand tall.",
        ),
        cues=(
            "Move at the hips, not the lower back.",
            "Keep your weight over the middle of your feet.",
        ),
        cautions=(
            "Only bend as far as you can while the stick stays in contact.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        harder="dumbbell-romanian-deadlift",
        healthkit_activity="coreTraining",
        health_connect_exercise="EXERCISE_TYPE_CALISTHENICS",
    ),
    Exercise(
        slug="dumbbell-romanian-deadlift",
        name="Dumbbell Romanian deadlift",
        category=Category.strengthening,
        region=Region.back_extensor,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.dumbbells,),
        level=4,
        instructions=(
            "Stand with your feet hip-width apart, holding a dumbbell in each hand in "
            "front of your thighs.",
            "Soften your knees and gently brace your belly.",
            "Push your hips back and slide the dumbbells down close to your legs, "
            "keeping your back flat.",
            "Stop when you feel a stretch at the back of your thighs, around knee height.",
            "Squeeze your buttocks and push your hips forward to stand tall.",
        ),
        cues=(
            "Keep the weights close to your legs the whole time.",
            "Bend at the hips; your back stays flat.",
        ),
        cautions=(
            "Start light, with a weight you could lift 12 times with good form.",
            "Do not round your back or twist while holding the weights.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="hip-hinge",
        healthkit_activity="traditionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    # --- Strengthening: hips --------------------------------------------------------
    Exercise(
        slug="glute-bridge",
        name="Glute bridge",
        category=Category.strengthening,
        region=Region.hip,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet flat, "
            "hip-width apart.",
            "Gently brace your belly and squeeze your buttocks.",
            "Lift your hips until your body is straight from shoulders to knees.",
            "Pause, then lower slowly.",
        ),
        cues=(
            "Push through your heels.",
            "Lift with your buttocks, not by arching your lower back.",
        ),
        cautions=(
            "Bring your feet closer to your hips if the backs of your thighs cramp.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        harder="single-leg-glute-bridge",
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="single-leg-glute-bridge",
        name="Single-leg glute bridge",
        category=Category.strengthening,
        region=Region.hip,
        dose=DoseKind.reps,
        per_side=True,
        equipment=(Equipment.none,),
        level=3,
        instructions=(
            "Lie on your back on a mat or carpet with your knees bent and feet flat.",
            "Straighten one leg so the thighs stay level with each other.",
            "Gently brace your belly and push through the heel of the bent leg to lift your hips.",
            "Pause with your hips level, then lower slowly.",
            "Finish your repetitions, then switch legs.",
        ),
        cues=(
            "Keep both hips at the same height; do not let one drop.",
            "Lift with your buttock, not by arching your lower back.",
        ),
        cautions=(
            "Go back to the two-leg bridge if your hips tilt or your back aches.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="glute-bridge",
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="clamshell",
        name="Clamshell",
        category=Category.strengthening,
        region=Region.hip,
        dose=DoseKind.reps,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your side on a mat or carpet with hips and knees bent and your head "
            "resting on your arm.",
            "Keep your feet together, heels in line with your buttocks.",
            "Lift your top knee as high as you can without rolling your hips back.",
            "Pause, then lower slowly.",
            "Finish your repetitions, then turn over and switch sides.",
        ),
        cues=(
            "Keep your hips stacked one above the other.",
            "Keep your feet touching.",
        ),
        cautions=(
            "Keep the movement small if you feel your lower back twisting.",
            "Stop if you feel sharp pain in the hip or back.",
        ),
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="side-lying-hip-abduction",
        name="Side-lying leg raise",
        category=Category.strengthening,
        region=Region.hip,
        dose=DoseKind.reps,
        per_side=True,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Lie on your side on a mat or carpet with the bottom knee bent for balance.",
            "Keep the top leg straight and in line with your body, toes pointing forward.",
            "Lift the top leg to about hip-width above the other, leading with the heel.",
            "Pause, then lower slowly.",
            "Finish your repetitions, then turn over and switch sides.",
        ),
        cues=(
            "Keep your hips stacked; do not roll back.",
            "Lift only as high as you can without tilting your trunk.",
        ),
        cautions=(
            "Keep the leg in line with your body, not in front of it.",
            "Stop if you feel sharp pain in the hip or back.",
        ),
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    # --- Strengthening: legs --------------------------------------------------------
    Exercise(
        slug="sit-to-stand",
        name="Sit to stand",
        category=Category.strengthening,
        region=Region.legs,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Sit near the front of a sturdy chair with your feet flat, hip-width apart.",
            "Lean forward from your hips, keeping your chest up.",
            "Push through your feet to stand up tall.",
            "Slowly sit back down with control.",
        ),
        cues=(
            "Keep your knees in line with your toes.",
            "Use your hands on your thighs only if you need to.",
        ),
        cautions=(
            "Put the chair against a wall so it cannot slide.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        harder="bodyweight-squat",
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="bodyweight-squat",
        name="Bodyweight squat",
        category=Category.strengthening,
        region=Region.legs,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Stand with your feet shoulder-width apart, toes turned slightly out.",
            "Push your hips back and bend your knees as if sitting into a chair.",
            "Go only as low as is comfortable, keeping your chest up.",
            "Push through your feet to stand tall.",
        ),
        cues=(
            "Keep your knees in line with your toes.",
            "Keep your heels on the floor.",
        ),
        cautions=(
            "Go back to sit-to-stand if you lose balance or your back rounds.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="sit-to-stand",
        harder="goblet-squat",
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="goblet-squat",
        name="Goblet squat",
        category=Category.strengthening,
        region=Region.legs,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.dumbbells,),
        level=3,
        instructions=(
            "Stand with your feet shoulder-width apart, holding one dumbbell upright "
            "against your chest with both hands.",
            "Gently brace your belly.",
            "Push your hips back and bend your knees, keeping your chest up.",
            "Go only as low as you can with a straight back.",
            "Push through your feet to stand tall.",
        ),
        cues=(
            "Keep the dumbbell close to your chest.",
            "Keep your knees in line with your toes.",
        ),
        cautions=(
            "Start light, with a weight you could lift 12 times with good form.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="bodyweight-squat",
        healthkit_activity="traditionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="split-squat",
        name="Split squat",
        category=Category.strengthening,
        region=Region.legs,
        dose=DoseKind.reps,
        per_side=True,
        equipment=(Equipment.none,),
        level=3,
        instructions=(
            "Stand in a long stride, one foot forward and the back heel lifted.",
            "Hold a chair or wall for balance if you need to.",
            "Bend both knees to lower the back knee towards the floor.",
            "Push through the front foot to rise.",
            "Finish your repetitions, then switch legs.",
        ),
        cues=(
            "Keep your trunk upright.",
            "Keep the front knee in line with the toes.",
        ),
        cautions=(
            "Lower only as far as your knees are comfortable.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="bodyweight-squat",
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    # --- Strengthening: upper body --------------------------------------------------
    Exercise(
        slug="wall-push-up",
        name="Wall push-up",
        category=Category.strengthening,
        region=Region.upper_body,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand facing a wall, a little more than arm's length away.",
            "Place your hands on the wall at shoulder height, slightly wider than your shoulders.",
            "Gently brace your belly and bend your elbows to bring your chest towards the wall.",
            "Push back until your arms are straight.",
        ),
        cues=(
            "Keep your body straight from head to heels.",
            "Keep your elbows angled slightly towards your body.",
        ),
        cautions=(
            "Stand closer to the wall to make it easier.",
            "Stop if you feel sharp pain in the shoulder, wrist or back.",
        ),
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="prone-y-raise",
        name="Y raise, lying face down",
        category=Category.strengthening,
        region=Region.upper_body,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.none,),
        level=2,
        instructions=(
            "Lie face down on a mat or carpet with your forehead on a folded towel.",
            "Stretch your arms overhead in a Y shape with your thumbs pointing up.",
            "Draw your shoulder blades back and down and lift your arms a few centimetres.",
            "Pause, then lower slowly.",
        ),
        cues=(
            "Keep your forehead on the towel and your neck long.",
            "Lift from the shoulder blades, not by arching your back.",
        ),
        cautions=(
            "Place a pillow under your hips if lying flat is uncomfortable.",
            "Stop if you feel pinching in the shoulder or sharp pain in the back.",
        ),
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="band-row",
        name="Band row",
        category=Category.strengthening,
        region=Region.upper_body,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.band,),
        level=2,
        instructions=(
            "Anchor a resistance band at chest height to something sturdy.",
            "Sit or stand tall facing the anchor, holding one end of the band in each "
            "hand with your arms straight.",
            "Pull your elbows back close to your sides, squeezing your shoulder blades together.",
            "Return slowly until your arms are straight.",
        ),
        cues=(
            "Keep your shoulders down, away from your ears.",
            "Keep your trunk still; do not lean back.",
        ),
        cautions=(
            "Check that the band is securely anchored before you start.",
            "Stop if you feel sharp pain in the shoulder or back.",
        ),
        harder="dumbbell-row",
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="dumbbell-row",
        name="One-arm dumbbell row",
        category=Category.strengthening,
        region=Region.upper_body,
        dose=DoseKind.reps,
        per_side=True,
        equipment=(Equipment.dumbbells,),
        level=3,
        instructions=(
            "Put one hand on the seat of a sturdy chair or on a bench.",
            "Step back and bend forward from the hips with a flat back, holding a "
            "dumbbell in the other hand with the arm hanging down.",
            "Pull your elbow up towards your hip, keeping it close to your body.",
            "Lower the dumbbell slowly.",
            "Finish your repetitions, then switch arms.",
        ),
        cues=(
            "Keep your back flat and your trunk still; do not twist.",
            "Squeeze your shoulder blade back as you lift.",
        ),
        cautions=(
            "Start light, with a weight you could lift 12 times with good form.",
            "Stop if you feel sharp pain or pain spreading down a leg or arm.",
        ),
        easier="band-row",
        healthkit_activity="traditionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    Exercise(
        slug="band-pull-apart",
        name="Band pull-apart",
        category=Category.strengthening,
        region=Region.upper_body,
        dose=DoseKind.reps,
        per_side=False,
        equipment=(Equipment.band,),
        level=2,
        instructions=(
            "Stand tall holding a resistance band in front of you at shoulder height, "
            "hands shoulder-width apart.",
            "Keep your arms almost straight.",
            "Pull the band apart by moving your hands out to the sides, squeezing your "
            "shoulder blades together.",
            "Return slowly to the start.",
        ),
        cues=(
            "Keep your shoulders down, away from your ears.",
            "Keep your ribs down; do not arch your back.",
        ),
        cautions=(
            "Hold your hands further apart to make it easier.",
            "Stop if you feel pinching or sharp pain in the shoulder.",
        ),
        healthkit_activity="functionalStrengthTraining",
        health_connect_exercise="EXERCISE_TYPE_STRENGTH_TRAINING",
    ),
    # --- Aerobic --------------------------------------------------------------------
    Exercise(
        slug="march-in-place",
        name="Marching on the spot",
        category=Category.aerobic,
        region=Region.full_body,
        dose=DoseKind.minutes,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Stand tall with your feet hip-width apart.",
            "March on the spot, lifting your knees to a comfortable height.",
            "Swing your arms in time with your steps.",
            "Start slowly and raise the pace a little over the first minutes.",
        ),
        cues=(
            "Keep your trunk upright and your belly gently braced.",
            "Keep it easy: this is a warm-up.",
        ),
        cautions=(
            "Hold the back of a chair if your balance is unsteady.",
            "Stop if you feel dizzy, or feel sharp pain or pain spreading down a leg.",
        ),
        healthkit_activity="preparationAndRecovery",
        health_connect_exercise="EXERCISE_TYPE_OTHER_WORKOUT",
    ),
    Exercise(
        slug="walking",
        name="Walking",
        category=Category.aerobic,
        region=Region.full_body,
        dose=DoseKind.minutes,
        per_side=False,
        equipment=(Equipment.none,),
        level=1,
        instructions=(
            "Put on comfortable, supportive shoes.",
            "Walk at an easy pace for the first few minutes.",
            "Build up to a brisk pace at which you can talk but not sing.",
            "Stand tall and let your arms swing naturally.",
            "Slow down for the last few minutes.",
        ),
        cues=(
            "Look ahead, not down at your feet.",
            "Take comfortable, even steps.",
        ),
        cautions=(
            "Choose flat routes at first and add hills later.",
            "Stop and rest if pain spreads into a leg or you feel numbness.",
        ),
        activity=AerobicActivity.walking,
        healthkit_activity="walking",
        health_connect_exercise="EXERCISE_TYPE_WALKING",
    ),
    Exercise(
        slug="cycling",
        name="Cycling",
        category=Category.aerobic,
        region=Region.full_body,
        dose=DoseKind.minutes,
        per_side=False,
        equipment=(Equipment.bike,),
        level=1,
        instructions=(
            "Set the seat so your knee stays slightly bent at the bottom of each pedal stroke.",
            "Set the handlebars high enough that you sit fairly upright.",
            "Pedal against light resistance for the first few minutes.",
            "Build up to a steady pace at which you can talk but not sing.",
            "Ease off for the last few minutes.",
        ),
        cues=(
            "Keep your trunk relaxed and your shoulders down.",
            "Pedal smoothly at an even rhythm.",
        ),
        cautions=(
            "Do not hunch low over the handlebars if it aggravates your back.",
            "Wear a helmet when cycling outdoors.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        activity=AerobicActivity.cycling,
        healthkit_activity="cycling",
        health_connect_exercise="EXERCISE_TYPE_BIKING",
    ),
    Exercise(
        slug="swimming",
        name="Swimming",
        category=Category.aerobic,
        region=Region.full_body,
        dose=DoseKind.minutes,
        per_side=False,
        equipment=(Equipment.pool,),
        level=2,
        instructions=(
            "Warm up with a few minutes of easy swimming or walking in the water.",
            "Swim front crawl or backstroke at a steady, comfortable pace.",
            "Build up to an effort at which you could still talk between lengths.",
            "Rest at the wall whenever you need to.",
            "Finish with a few easy minutes.",
        ),
        cues=(
            "Keep your body long and level in the water.",
            "Breathe out steadily into the water.",
        ),
        cautions=(
            "Avoid breaststroke with your head held up and your back hollowed if it hurts.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        easier="water-walking",
        activity=AerobicActivity.swimming,
        healthkit_activity="swimming",
        health_connect_exercise="EXERCISE_TYPE_SWIMMING_POOL",
    ),
    Exercise(
        slug="water-walking",
        name="Water walking",
        category=Category.aerobic,
        region=Region.full_body,
        dose=DoseKind.minutes,
        per_side=False,
        equipment=(Equipment.pool,),
        level=1,
        instructions=(
            "Stand in waist- to chest-deep water in the shallow end of the pool.",
            "Walk forwards with a normal stride, swinging your arms through the water.",
            "Stand tall and keep your belly gently braced.",
            "Add walking backwards and sideways as you get comfortable.",
            "Build up to a pace at which you can talk but not sing.",
        ),
        cues=(
            "Place your whole foot down, heel first.",
            "Keep your shoulders relaxed.",
        ),
        cautions=(
            "Stay where you can stand securely with your head well above the water.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        harder="swimming",
        activity=AerobicActivity.swimming,
        healthkit_activity="waterFitness",
        health_connect_exercise="EXERCISE_TYPE_SWIMMING_POOL",
    ),
    Exercise(
        slug="elliptical",
        name="Elliptical trainer",
        category=Category.aerobic,
        region=Region.full_body,
        dose=DoseKind.minutes,
        per_side=False,
        equipment=(Equipment.elliptical,),
        level=1,
        instructions=(
            "Step onto the pedals while holding the handrails.",
            "Start moving at an easy pace with low resistance.",
            "Stand tall and keep your feet flat on the pedals.",
            "Build up to a steady pace at which you can talk but not sing.",
            "Slow down for the last few minutes before stepping off.",
        ),
        cues=(
            "Keep your trunk upright rather than leaning on the handles.",
            "Move smoothly, pushing and pulling evenly with both arms.",
        ),
        cautions=(
            "Wait until the pedals stop before you step off.",
            "Stop if you feel sharp pain or pain spreading down a leg.",
        ),
        activity=AerobicActivity.elliptical,
        healthkit_activity="elliptical",
        health_connect_exercise="EXERCISE_TYPE_ELLIPTICAL",
    ),
)


@cache
def _by_slug() -> dict[str, Exercise]:
    return {exercise.slug: exercise for exercise in EXERCISES}


def get_exercise(slug: str) -> Exercise:
    """The exercise with this slug; raises UnknownExercise."""
    try:
        return _by_slug()[slug]
    except KeyError:
        raise UnknownExercise(slug) from None


def all_exercises() -> tuple[Exercise, ...]:
    return EXERCISES
