"""The synthetic clinic's realism parameters: every share, rate and distribution the generator draws from.

Clinical thresholds (course gap, windows, response line, derived-event cut-offs, instrument ranges) are
not here: they are read through core.definitions, so the generator plants exactly what the models
measure. Figures follow ../shared/spec/domain-facts.md; where a figure is a guess it says so.
"""

from __future__ import annotations

import datetime as dt

GENERATOR_VERSION = "1.0.0"
CHUNK_PATIENTS = 50_000  # patients per chunk: fixed, so a seed's output never depends on the machine

# A fixed calendar keeps the output independent of today's date; dates are per-patient shifted anyway.
CALENDAR_FIRST = dt.date(2017, 1, 1)
CALENDAR_LAST = dt.date(2025, 10, 31)
RECENT_SKEW = 0.7  # anchor position = u ** RECENT_SKEW: more patients in later years (clinics grow)

# ---- sites -------------------------------------------------------------------------------------------
# (state, first ZIP3, last ZIP3) of the states a site can be in; several ranges hold restricted prefixes
# (036, 059, 063, 102, 203, 556, 692, 790, 821, 823, 830, 831, 878, 879, 884, 890, 893) on purpose.
SITE_STATES: tuple[tuple[str, int, int], ...] = (
    ("CO", 800, 816), ("NY", 100, 149), ("TX", 750, 799), ("CA", 900, 961), ("WY", 820, 831),
    ("NM", 870, 884), ("NV", 889, 898), ("MN", 550, 567), ("NE", 680, 693), ("NH", 30, 38),
    ("VT", 50, 59), ("CT", 60, 69), ("DC", 200, 205), ("WA", 980, 994), ("IL", 600, 629),
)
SITE_SIZE_EXPONENT = 0.6  # site k gets a patient share proportional to k ** -SITE_SIZE_EXPONENT
MADRS_SITE_SHARE = 0.4  # sites whose clinicians also rate MADRS (at least one when sites >= 2)
ZIP3_OUT_OF_STATE = 0.12
ZIP3_MISSING = 0.04

# ---- patients ----------------------------------------------------------------------------------------
INDICATION_MIX: dict[str, float] = {
    "TRD": 0.35, "MDD": 0.20, "PTSD": 0.12, "ANXIETY": 0.10, "BIPOLAR_DEP": 0.09, "CHRONIC_PAIN": 0.07,
    "OCD": 0.03, "SUICIDAL_IDEATION": 0.02, "OTHER": 0.02,
}
# ICD-10-CM codes written for each indication; checked against the seeds when the generator starts.
ICD10_CODES: dict[str, tuple[str, ...]] = {
    "TRD": ("F33.2", "F33.1", "F32.2", "F33.9", "F32.9", "F33.3"),
    "MDD": ("F33.1", "F32.1", "F33.2", "F32.9", "F33.0", "F32.2"),
    "BIPOLAR_DEP": ("F31.4", "F31.32", "F31.5", "F31.81", "F31.9"),
    "PTSD": ("F43.10", "F43.12"),
    "ANXIETY": ("F41.1", "F41.0", "F41.9", "F41.8"),
    "OCD": ("F42.2", "F42.9"),
    "CHRONIC_PAIN": ("G89.29", "G89.4", "M79.7", "G89.28"),
    "SUICIDAL_IDEATION": ("R45.851",),
    "OTHER": ("F43.21", "F60.3", "F34.1", "F40.10"),
}
DX_WITHOUT_DOT = 0.12  # the contract allows F4310 for F43.10 ...
DX_LOWER_CASE = 0.06  # ... and any case
TRD_EXTRA_FAILED_MAX = 6  # TRD: failed trials = threshold + 0..this
MDD_FAILED_MISSING = 0.30  # MDD: the count is often not recorded (still MDD by the contract)
OTHER_FAILED_MISSING = 0.60
OTHER_FAILED_MAX = 4

AGE_MEAN, AGE_SD, AGE_MIN, AGE_CAP = 43.0, 13.0, 18, 90  # 90 stands for 90+ (Safe Harbor)
AGE_MISSING = 0.01
SEX_SHARES: dict[str, float] = {"female": 0.57, "male": 0.40, "other": 0.015, "unknown": 0.015}
SEX_MISSING = 0.01
SUBSTANCE_USE_TRUE, SUBSTANCE_USE_MISSING = 0.18, 0.10
WEIGHT_MEDIAN_KG, WEIGHT_LOG_SD, WEIGHT_MIN_KG, WEIGHT_MAX_KG = 80.0, 0.20, 45.0, 150.0
WEIGHT_MISSING_PATIENT = 0.03  # never weighed
WEIGHT_MISSING_SESSION = 0.04
WEIGHT_SESSION_SD_KG = 0.7  # re-weighing between sessions

# ---- courses and sessions ----------------------------------------------------------------------------
SECOND_COURSE_SHARE = 0.18
THIRD_COURSE_SHARE = 0.20  # of patients with a second course
NEXT_COURSE_MARGIN_DAYS = (7, 300)  # a new course starts course_gap_days + this after the last session
ROUTE_SHARES: dict[str, float] = {"IV": 0.75, "IM": 0.07, "INTRANASAL": 0.10, "ORAL": 0.04, "SUBLINGUAL": 0.04}
ROUTE_KEPT_NEXT_COURSE = 0.85
MG_PER_KG_SHARES: dict[float, float] = {0.5: 0.70, 0.75: 0.20, 1.0: 0.10}  # IV and IM, weight-based
REFERENCE_MG_PER_KG = 0.5  # the usual IV dose: dose effects on events and CADSS are relative to it
INTRANASAL_MG: dict[float, float] = {56.0: 0.45, 84.0: 0.55}  # esketamine, fixed doses
ORAL_MG = (50.0, 100.0, 150.0, 200.0, 250.0, 300.0)
SUBLINGUAL_MG = (25.0, 50.0, 100.0, 150.0, 200.0)
COMPLETE_INDUCTION_SHARE = 0.53  # Sakurai 2020: 47% stop around the end of induction
INDUCTION_GAP_DAYS: dict[int, float] = {2: 0.05, 3: 0.35, 4: 0.35, 5: 0.10, 6: 0.05, 7: 0.10}  # ~twice weekly
MAINTENANCE_SHARE = {True: 0.70, False: 0.25}  # of completers, by planted response
MAINTENANCE_MEAN_SESSIONS, MAINTENANCE_MAX_SESSIONS = 3.0, 8
MAINTENANCE_GAP_DAYS = {"INTRANASAL": (7, 14), "other": (14, 42)}  # every 2-6 weeks; esketamine weekly
DURATION_MIN = {"IV": (42, 6), "IM": (60, 10), "INTRANASAL": (125, 10), "ORAL": (90, 15), "SUBLINGUAL": (90, 15)}
DURATION_MISSING = 0.03
INCOMPLETE_DURATION_SHARE = (0.2, 0.8)  # a session stopped early lasts this share of a full one
INCOMPLETE_SESSION = 0.02
INCOMPLETE_LAST_SESSION_OF_STOPPER = 0.15

# ---- vitals (Yale 2024: mean SBP rise ~16 mmHg, severe hypertension in ~1% of infusions) ----------
SBP_PRE = (128.0, 12.0, 9.0)  # mean, between-patient sd, within-patient sd: total sd ~15
DBP_PRE = (80.0, 8.0, 6.0)
HR_PRE = (76.0, 9.0, 7.0)
SBP_RISE = {"IV": (16.0, 8.0), "IM": (18.0, 9.0), "INTRANASAL": (14.0, 8.0), "ORAL": (8.0, 6.0),
            "SUBLINGUAL": (8.0, 6.0)}
DBP_RISE_PER_SBP, DBP_RISE_SD = 0.5, 4.0
HR_RISE = (9.0, 6.0)
SEVERE_HYPERTENSION = {"IV": 0.0100, "IM": 0.0120, "INTRANASAL": 0.0080, "ORAL": 0.0030, "SUBLINGUAL": 0.0030}
SEVERE_BY_DBP_ONLY = 0.2  # of severe peaks: diastolic crossing alone
DESATURATION = {"IV": 0.0030, "IM": 0.0040, "INTRANASAL": 0.0020, "ORAL": 0.0010, "SUBLINGUAL": 0.0010}
SPO2_USUAL, SPO2_DIP_SD = 98.0, 1.5
VITALS_RESTING_BOUNDS = {"sbp": 85, "dbp": 45, "hr": (45, 130)}  # lower bounds; upper ones sit under the lines
VITALS_ROOM_UNDER_LINE = {"sbp": 10, "dbp": 8}  # resting values stay this far under the derived-event lines
SEVERE_PEAK_ABOVE_LINE = {"sbp": 30, "dbp": 12}  # a severe peak lands 0..this above its line
HR_MAX_CEILING = 200
DESATURATION_DEPTH = (1, 8)  # a desaturation dips this far under the derived-desaturation line
VITALS_MISSING = 0.08
CADSS_MISSING = 0.20
CADSS_MEAN = {"IV": 16.0, "IM": 18.0, "INTRANASAL": 14.0, "ORAL": 5.0, "SUBLINGUAL": 6.0}
CADSS_DOSE_EXPONENT, CADSS_GAMMA_SHAPE = 0.8, 2.0

# ---- reported adverse events, per 100 sessions at the reference IV dose (guesses fit to the ranges of
# Rodrigues 2022 and the Spravato label, converted from per-patient to per-session) -------------------
AE_BASE_PER_100: dict[str, float] = {
    "sedation": 12.0, "dissociation": 12.0, "dizziness": 9.0, "nausea": 6.0, "headache": 5.0, "vomiting": 2.0,
    "hypertension": 2.5, "anxiety": 3.0, "tachycardia": 2.0, "hallucination": 1.5, "agitation": 1.0,
    "emergence_reaction": 0.5, "desaturation": 0.3, "other": 1.0,
}
AE_ROUTE_MULTIPLIER: dict[str, dict[str, float]] = {
    "INTRANASAL": {"dissociation": 1.4, "dizziness": 1.3, "nausea": 1.5, "vomiting": 1.5, "hypertension": 1.4,
                   "desaturation": 0.5},
    "IM": {"dissociation": 1.2, "sedation": 1.1, "emergence_reaction": 1.5},
    "ORAL": {"dissociation": 0.5, "sedation": 0.8, "nausea": 1.2, "hypertension": 0.5, "hallucination": 0.5,
             "emergence_reaction": 0.3, "desaturation": 0.3},
    "SUBLINGUAL": {"dissociation": 0.5, "sedation": 0.8, "nausea": 1.2, "hypertension": 0.5,
                   "hallucination": 0.5, "emergence_reaction": 0.3, "desaturation": 0.3},
}
AE_DOSE_EXPONENT: dict[str, float] = {"dissociation": 0.8, "sedation": 0.6, "hallucination": 0.8,
                                      "emergence_reaction": 1.0, "hypertension": 0.5}
AE_REPORTED_WHEN_PEAK = {"hypertension": 0.60, "desaturation": 0.70}  # when the vitals crossed the line
AE_GRADE_SHARES = {1: 0.720, 2: 0.240, 3: 0.035, 4: 0.005}  # CTCAE-style; no deaths
AE_SERIOUS_IF_GRADE_3_PLUS, AE_SERIOUS_IF_LOWER = 0.5, 0.002
AE_SERIOUS_MISSING = 0.05
AE_RESOLVED_SHARES = {"true": 0.95, "false": 0.03, "missing": 0.02}

# ---- planted response: logit(p) = logit(base) + effects (base is p at the reference covariates) ----
RESPONSE_BASE: dict[str, float] = {
    "TRD": 0.50, "MDD": 0.58, "BIPOLAR_DEP": 0.48, "PTSD": 0.55, "ANXIETY": 0.52, "OCD": 0.40,
    "CHRONIC_PAIN": 0.45, "SUICIDAL_IDEATION": 0.55, "OTHER": 0.42,
}
RESPONSE_LOGIT_EFFECTS: dict[str, float] = {
    "substance_use_history": -0.35,  # per recorded true
    "baseline_severity_z": -0.20,  # per SD of the course's latent severity
    "repeat_course": -0.30,  # course_number >= 2
    "oral_or_sublingual": -0.40,
}
REMISSION_GIVEN_RESPONSE: dict[str, float] = {
    "TRD": 0.50, "MDD": 0.60, "BIPOLAR_DEP": 0.50, "PTSD": 0.55, "ANXIETY": 0.55, "OCD": 0.45,
    "CHRONIC_PAIN": 0.50, "SUICIDAL_IDEATION": 0.55, "OTHER": 0.50,
}
# Durability: exponential time from endpoint to loss of response (McInnes 2022: ~80% at 4 weeks,
# ~60% at 8 weeks for real-world IV; Feder 2021: PTSD median 27.5 days).
RELAPSE_MEDIAN_DAYS: dict[str, float] = {
    "TRD": 75.0, "MDD": 95.0, "BIPOLAR_DEP": 60.0, "PTSD": 40.0, "ANXIETY": 80.0, "OCD": 60.0,
    "CHRONIC_PAIN": 50.0, "SUICIDAL_IDEATION": 60.0, "OTHER": 70.0,
}

# ---- assessments -------------------------------------------------------------------------------------
# Baseline score model per instrument: mean, sd (a guess at a ketamine clinic's intake severity).
SCORE_MODEL: dict[str, tuple[float, float]] = {
    "PHQ9": (17.5, 4.5), "GAD7": (14.5, 4.0), "MADRS": (30.0, 7.0), "QIDS_SR16": (16.0, 4.0),
    "PCL5": (50.0, 13.0), "BDI_II": (31.0, 9.0), "PAIN_NRS": (6.5, 1.8),
}
SEVERITY_LOADING = 0.8  # share of each instrument's baseline driven by the course's latent severity
NON_RESPONSE_ENDPOINT_RATIO = (0.6, 1.1)  # a non-responder's endpoint / baseline, before it is kept above the line
# score noise around the planted value, in instrument SDs: an old intake score, an earlier in-window
# score, weekly scores on the way to the endpoint, follow-ups while response holds, and the rise after relapse
SCORE_NOISE_SD = {"old": 0.5, "early": 0.4, "weekly": 0.15, "held": 0.15, "relapse_rise": 0.2}
# Which patients an instrument is used for: (share of everyone, {indication: share}).
INSTRUMENT_USE: dict[str, tuple[float, dict[str, float]]] = {
    "PHQ9": (0.97, {}),
    "GAD7": (0.80, {"ANXIETY": 1.0}),
    "PCL5": (0.04, {"PTSD": 1.0}),
    "PAIN_NRS": (0.0, {"CHRONIC_PAIN": 1.0}),
    "QIDS_SR16": (0.0, {"TRD": 0.05, "MDD": 0.05}),
    "BDI_II": (0.0, {"TRD": 0.04, "MDD": 0.04, "BIPOLAR_DEP": 0.04}),
}
MADRS_USE_AT_MADRS_SITE = 0.70  # of patients whose indication prefers MADRS, at sites that rate it
NO_BASELINE_VISIT = 0.06  # the whole intake battery is missing
NO_ENDPOINT_VISIT = {"complete": 0.05, "stopped_by_2": 0.50, "stopped_later": 0.25}
ITEM_MISSING = 0.03  # one instrument skipped at a visit that happened
MADRS_MISSING = {"baseline": 0.10, "endpoint": 0.25, "follow_up": 0.50}  # clinician time is scarce
OLD_SCORE_SHARE, OLD_SCORE_DAYS_BEFORE_WINDOW = 0.25, (1, 60)  # an intake score too old to be baseline
EARLY_BASELINE_SHARE = 0.20  # a second, earlier score inside the baseline window
BASELINE_DAYS_BEFORE_FIRST_SESSION = (0, 14)
INTERMEDIATE_EVERY_DAYS, INTERMEDIATE_SHARE = 7, 0.60  # weekly scores during induction
LATE_SCORE_SHARE, LATE_SCORE_MAX_DAYS = 0.30, 14  # a score just after the endpoint window (never counted)
FOLLOW_UP_FIRST_MAX_DAYS = 21  # after the endpoint window closes
FOLLOW_UP_GAP_DAYS = (14, 35)
FOLLOW_UP_DURATION_DAYS = (28, 300)
FOLLOW_UP_MAX_SCORES = 20
FOLLOW_UP_SCORE_SHARE = 0.90
FOLLOW_UP_STOP_DAYS_BEFORE_NEXT_BASELINE = 14
