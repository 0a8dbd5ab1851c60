"""Session days: induction twice weekly inside the induction window, maintenance every few weeks, and
later courses at least course_gap_days after the previous session.

Days are integers relative to the patient's first session (day 0); the calendar anchors them later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate import params
from ingest.generate.arrays import choice, cumsum_within, expand, uniform_int
from ingest.generate.clinical import Clinical
from ingest.generate.courses import WEIGHT_BASED_ROUTES, Courses
from ingest.generate.population import ROUTES, Patients

NO_NEXT_COURSE = np.iinfo(np.int64).max // 4  # "next course starts" for a patient's last course


@dataclass(frozen=True)
class Schedule:
    # per session, ordered by patient, then day (which is also the session id order)
    course: np.ndarray
    day: np.ndarray
    position: np.ndarray  # 0-based place in its course
    route: np.ndarray
    dose_mg: np.ndarray
    mg_per_kg: np.ndarray  # true dose per kg for weight-based routes, the reference elsewhere
    weight_kg: np.ndarray
    weight_missing: np.ndarray
    # per course, days relative to the patient's day 0
    start_day: np.ndarray
    last_induction_day: np.ndarray
    last_day: np.ndarray
    next_start_day: np.ndarray  # NO_NEXT_COURSE for a patient's last course

    @property
    def size(self) -> int:
        return int(self.course.size)


def draw_schedule(rng: np.random.Generator, clinical: Clinical, patients: Patients, courses: Courses) -> Schedule:
    definitions = clinical.definitions
    n_courses = courses.size
    sessions = courses.induction_sessions + courses.maintenance_sessions
    course, position = expand(sessions)
    n = course.size
    induction = position < courses.induction_sessions[course]

    # Induction gaps are capped so the whole induction fits its window (day induction_window_days counts).
    gap_values = np.array(list(params.INDUCTION_GAP_DAYS), dtype=np.int64)
    induction_gap = gap_values[choice(rng, params.INDUCTION_GAP_DAYS, n)]
    induction_gap = np.minimum(induction_gap,
                               definitions.induction_window_days // max(definitions.induction_sessions - 1, 1))
    # Maintenance gaps stay below course_gap_days, or a maintenance session would start a new course.
    intranasal = courses.route[course] == ROUTES.index("INTRANASAL")
    low = np.where(intranasal, params.MAINTENANCE_GAP_DAYS["INTRANASAL"][0], params.MAINTENANCE_GAP_DAYS["other"][0])
    high = np.where(intranasal, params.MAINTENANCE_GAP_DAYS["INTRANASAL"][1], params.MAINTENANCE_GAP_DAYS["other"][1])
    maintenance_gap = np.minimum(uniform_int(rng, low, high, n), definitions.course_gap_days - 1)
    gap = np.where(position == 0, 0, np.where(induction, induction_gap, maintenance_gap))
    day_in_course = cumsum_within(gap, course, n_courses)

    first_row = np.cumsum(sessions) - sessions
    length = day_in_course[first_row + sessions - 1]
    last_induction = day_in_course[first_row + courses.induction_sessions - 1]
    step = length + courses.gap_to_next_days
    start = cumsum_within(step, courses.patient, patients.size) - step
    next_start = np.where(courses.has_next, start + step, NO_NEXT_COURSE)

    route, dose, per_kg, weight, weight_missing = _dosing(rng, patients, courses, course, position)
    return Schedule(
        course=course, day=start[course] + day_in_course, position=position, route=route, dose_mg=dose,
        mg_per_kg=per_kg, weight_kg=weight, weight_missing=weight_missing, start_day=start,
        last_induction_day=start + last_induction, last_day=start + length, next_start_day=next_start,
    )


def _dosing(rng: np.random.Generator, patients: Patients, courses: Courses, course: np.ndarray,
            position: np.ndarray) -> tuple[np.ndarray, ...]:
    n = course.size
    patient = courses.patient[course]
    route = courses.route[course]
    true_weight = patients.weight_kg[patient]
    weight_based = np.isin(route, [ROUTES.index(r) for r in WEIGHT_BASED_ROUTES])
    # Esketamine usually starts at 56 mg; a course meant for 84 mg steps up from the second session.
    intranasal_start = (route == ROUTES.index("INTRANASAL")) & (position == 0)
    fixed = np.where(intranasal_start, np.minimum(courses.fixed_mg[course], min(params.INTRANASAL_MG)),
                     courses.fixed_mg[course])
    dose = np.where(weight_based, np.round(courses.mg_per_kg[course] * true_weight, 1), fixed)
    per_kg = np.where(weight_based, courses.mg_per_kg[course], params.REFERENCE_MG_PER_KG)
    scale_drift = rng.normal(0.0, params.WEIGHT_SESSION_SD_KG, n)
    weight = np.round(np.clip(true_weight + scale_drift, params.WEIGHT_MIN_KG, params.WEIGHT_MAX_KG), 1)
    missing = patients.weight_missing[patient] | (rng.random(n) < params.WEIGHT_MISSING_SESSION)
    return route, dose, per_kg, weight, missing
