"""Every clinical number backplan uses, with its source.

A clinician reviewing the product should only need this file. Where the
evidence is thin the comment says "product decision" instead of a source.
"""

from __future__ import annotations

from datetime import timedelta

# --- Readiness gate -----------------------------------------------------------
# Trunk conditioning is commonly delayed two weeks after onset (AHCPR 1994).
MIN_DAYS_AFTER_ONSET = 14
# Pain at rest at or below this counts as recovered enough to start.
# Product decision; Kamper 2010 found 0/10 best matches "recovered".
READY_MAX_PAIN = 2
# "No improvement after a month" refers (NICE NG59, AHCPR 1994):
# pain now above this, with onset at least NO_IMPROVEMENT_DAYS ago.
NO_IMPROVEMENT_PAIN = 3
NO_IMPROVEMENT_DAYS = 28
# Bed rest, if any, for no more than this many days (AHCPR 1994; Dahm 2010).
MAX_BED_REST_DAYS = 2
# Ice wrapped in cloth, 10-20 minutes at a time, in the first 48-72 hours,
# then moist heat (ACP 2017; French 2006 for heat).
ICE_MINUTES = (10, 20)
ICE_FIRST_HOURS = (48, 72)

# --- Education ------------------------------------------------------------------
# Break from sitting at least this often, in minutes (product decision;
# common ergonomic advice, no trial fixes the interval).
SITTING_BREAK_MINUTES = 30

# --- Stages (McGill; GLA:D Back; ACSM initial conditioning) ---------------------
# Minimum weeks per stage; stage 4 (maintain) never ends.
STAGE_MIN_WEEKS = {1: 2, 2: 4, 3: 6}
# Advance only with at least this share of planned sessions done over the
# last ADHERENCE_WINDOW_WEEKS weeks. Product decision (GLA:D Back attendance).
ADVANCE_MIN_ADHERENCE = 0.75
ADHERENCE_WINDOW_WEEKS = 2

# --- Pain monitoring (Silbernagel 2007, 0-10 numeric rating) -------------------
GREEN_MAX_PAIN = 3  # 0-3: may progress
AMBER_MAX_PAIN = 5  # 4-5: hold; above 5, or worse next morning: regress

# --- Dosage ---------------------------------------------------------------------
# Stretching (ACSM, Garber 2011): holds 15-30 s, 30-60 s from age 65,
# 2-4 repetitions, about 60 s in total per stretch.
STRETCH_HOLD_SECONDS = (15, 30)
STRETCH_HOLD_SECONDS_OLDER = (30, 60)
STRETCH_REPS = (2, 4)
STRETCH_TOTAL_SECONDS = 60
OLDER_ADULT_AGE = 65
# Core endurance (McGill): holds of 10 s or less, repeated in sets.
CORE_HOLD_SECONDS = (5, 10)
CORE_REPS = (2, 10)
# Fewer exercises rather than token doses: at least this many holds in a set
# where the work allows (product decision; McGill's pyramids start at 6-4-2).
CORE_MIN_HOLDS = 4
# Strength (ACSM 2009): beginners 8-12 repetitions, 1-3 sets,
# on 2-3 non-consecutive days a week.
STRENGTH_REPS = (8, 12)
STRENGTH_SETS = (1, 3)
MIN_STRENGTH_DAYS_FROM_STAGE_2 = 2
# A dynamic repetition counts as this many seconds under tension (product decision).
SECONDS_PER_DYNAMIC_REP = 3
# Rest between sets when estimating block minutes (product decision).
REST_BETWEEN_SETS_SECONDS = 30
# Aerobic (WHO 2020; ACSM): 150-300 min/week of moderate activity.
AEROBIC_GOAL_MINUTES = 150
AEROBIC_UPPER_MINUTES = 300
# Moderate intensity on the 0-10 RPE scale: "can talk, cannot sing".
MODERATE_RPE = (3, 4)
LIGHT_RPE = (1, 2)
# Start at what the person can do: 10-20 min, 3 times a week (ACSM).
AEROBIC_START_SESSION_MINUTES = {"low": 10, "moderate": 15, "high": 20}
AEROBIC_START_SESSIONS = 3
# Weekly aerobic ceiling per stage: ~100 min in stage 2, towards 150 after
# (DOMAIN stage table; numbers for stage 1 are a product decision).
AEROBIC_STAGE_CAP_MINUTES = {1: 60, 2: 100, 3: 150, 4: AEROBIC_GOAL_MINUTES}

# --- Progression (Nielsen 2014; the 10% rule is convention) --------------------
PROGRESSION_STEP = 0.10  # usual week-on-week rise when progressing
MAX_WEEKLY_INCREASE = 0.30  # rises above 30% raised injury risk
REGRESSION_STEP = 0.20  # cut after a red pain signal (product decision)

# --- Balance (seed text; McGill's endurance norms) -----------------------------
# Back-extensor work equals abdominal work (front + side) within +-10% a week.
BALANCE_TOLERANCE = 0.10

# --- Session layout (product decisions) ----------------------------------------
WARM_UP_MINUTES_SHORT = 3
WARM_UP_MINUTES_LONG = 5
LONG_SESSION_MINUTES = 45
COOL_DOWN_FROM_SESSION_MINUTES = 30

# --- Profile limits --------------------------------------------------------------
TRAINING_DAYS_RANGE = (2, 6)
SESSION_MINUTES_RANGE = (15, 90)

ONE_DAY = timedelta(days=1)
