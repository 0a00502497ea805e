"""backplan's pure domain: exercise library, readiness gate, stages and planner.

Nothing here knows about HTTP or storage; a test proves that importing this
package loads neither. The public surface is `__all__`.
"""

from programs.errors import InvalidInput, InvalidWeek, ProgramError, UnknownExercise
from programs.library import DoseKind, Exercise, all_exercises, get_exercise
from programs.models import (
    AerobicActivity,
    Balance,
    Block,
    BlockType,
    Category,
    Completion,
    EducationTip,
    Episode,
    Equipment,
    FitnessLevel,
    Intensity,
    PainSignal,
    Plan,
    PlannedSession,
    PrescribedExercise,
    Profile,
    ReadinessStatus,
    RedFlag,
    Region,
    SessionLog,
    StageRef,
    Weekday,
)
from programs.planner import first_ready_day, plan_week, session_volume, summarize
from programs.progress import (
    NextStage,
    Progress,
    StageProgress,
    WeekProgress,
    current_stage,
    plan_with_stage,
    progress,
)
from programs.readiness import Readiness, assess, safety_notes
from programs.weeks import IsoWeek

__all__ = [
    "AerobicActivity",
    "Balance",
    "Block",
    "BlockType",
    "Category",
    "Completion",
    "DoseKind",
    "EducationTip",
    "Episode",
    "Equipment",
    "Exercise",
    "FitnessLevel",
    "Intensity",
    "InvalidInput",
    "InvalidWeek",
    "IsoWeek",
    "NextStage",
    "PainSignal",
    "Plan",
    "PlannedSession",
    "PrescribedExercise",
    "Profile",
    "ProgramError",
    "Progress",
    "Readiness",
    "ReadinessStatus",
    "RedFlag",
    "Region",
    "SessionLog",
    "StageProgress",
    "StageRef",
    "UnknownExercise",
    "WeekProgress",
    "Weekday",
    "all_exercises",
    "assess",
    "current_stage",
    "first_ready_day",
    "get_exercise",
    "plan_week",
    "plan_with_stage",
    "progress",
    "safety_notes",
    "session_volume",
    "summarize",
]
