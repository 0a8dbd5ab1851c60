"""When a course's scores are taken: one row of visit slots per course, placed by the definitions' windows.

Slots, in time order within a course (days relative to the patient's first session):

    OLD    before the baseline window (first course only): never a baseline
    EARLY  inside the baseline window, before BASE: a baseline candidate that BASE must outrank
    BASE   latest score in [first - baseline_window_days, first]: carries the planted baseline
    INTER  weekly during induction, strictly before END: endpoint candidates END must outrank
    END    latest score in (first, last induction + endpoint_window_days]: carries the planted endpoint
    LATE   just after the endpoint window (courses without follow-up): must never count
    FOLLOW responders after the endpoint window, until a random stop well before the next baseline window

Every slot of a course falls on a different day, and a course's slots end before the next course's
baseline window opens, so no instrument has two scores on one date and no score can serve two courses.

Durability counts every score after the endpoint and before the next course's first session, so the
next course's intake scores are follow-ups of this one: a patient who comes back for a new course has
lost response by then. The effective relapse is therefore capped at the next course's first intake
visit, and scores.py keeps those intake scores above this course's response line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ingest.generate import params
from ingest.generate.arrays import uniform_int
from ingest.generate.clinical import Clinical
from ingest.generate.courses import Courses
from ingest.generate.schedule import Schedule

OLD, EARLY, BASE, INTER, END, LATE, FOLLOW = range(7)


@dataclass(frozen=True)
class Visits:
    kind: np.ndarray  # (slots,): slot kind
    day: np.ndarray  # (courses, slots)
    happens: np.ndarray  # (courses, slots): the visit took place (instruments may still be skipped)
    start_day: np.ndarray  # (courses,): first session
    endpoint_day: np.ndarray  # (courses,)
    followed: np.ndarray  # (courses,): responders with an endpoint visit are scored after it
    relapse_days: np.ndarray  # (courses,): endpoint -> loss of response, capped at the next course's intake


def slot_kinds(clinical: Clinical) -> np.ndarray:
    d = clinical.definitions
    weekly = math.ceil((d.induction_window_days + d.endpoint_window_days) / params.INTERMEDIATE_EVERY_DAYS)
    return np.array([OLD, EARLY, BASE] + [INTER] * weekly + [END, LATE] + [FOLLOW] * params.FOLLOW_UP_MAX_SCORES)


def draw_visits(rng: np.random.Generator, clinical: Clinical, courses: Courses, schedule: Schedule) -> Visits:
    d = clinical.definitions
    kind = slot_kinds(clinical)
    n = courses.size
    start, last_induction = schedule.start_day, schedule.last_induction_day
    # Anything of this course must precede the next course's baseline window (open-ended for the last one).
    horizon = schedule.next_start_day - d.baseline_window_days
    day = np.zeros((n, kind.size), dtype=np.int64)
    happens = np.zeros((n, kind.size), dtype=bool)

    low, high = params.BASELINE_DAYS_BEFORE_FIRST_SESSION
    base_day = start - uniform_int(rng, min(low, d.baseline_window_days), min(high, d.baseline_window_days), n)
    day[:, BASE], happens[:, BASE] = base_day, ~courses.no_baseline_visit
    window_opens = start - d.baseline_window_days
    day[:, EARLY] = uniform_int(rng, window_opens, base_day - 1, n)
    happens[:, EARLY] = (base_day > window_opens) & (rng.random(n) < params.EARLY_BASELINE_SHARE)
    day[:, OLD] = window_opens - uniform_int(rng, *params.OLD_SCORE_DAYS_BEFORE_WINDOW, n)
    happens[:, OLD] = courses.old_score

    window_closes = last_induction + d.endpoint_window_days
    endpoint_day = np.maximum(last_induction + uniform_int(rng, 0, d.endpoint_window_days, n), start + 1)
    has_endpoint = ~courses.no_endpoint_visit
    day[:, kind == END], happens[:, kind == END] = endpoint_day[:, None], has_endpoint[:, None]
    inter = np.flatnonzero(kind == INTER)
    day[:, inter] = start[:, None] + params.INTERMEDIATE_EVERY_DAYS * np.arange(1, inter.size + 1)
    happens[:, inter] = has_endpoint[:, None] & (day[:, inter] < endpoint_day[:, None])

    followed = courses.responder & has_endpoint
    follow = np.flatnonzero(kind == FOLLOW)
    gaps = uniform_int(rng, *params.FOLLOW_UP_GAP_DAYS, n * follow.size).reshape(n, follow.size)
    gaps[:, 0] = uniform_int(rng, 1, params.FOLLOW_UP_FIRST_MAX_DAYS, n)
    day[:, follow] = window_closes[:, None] + np.cumsum(gaps, axis=1)
    stop = np.minimum(endpoint_day + courses.follow_up_days,
                      horizon - params.FOLLOW_UP_STOP_DAYS_BEFORE_NEXT_BASELINE)
    happens[:, follow] = followed[:, None] & (day[:, follow] <= stop[:, None])

    late = np.flatnonzero(kind == LATE)
    day[:, late] = (window_closes + uniform_int(rng, 1, params.LATE_SCORE_MAX_DAYS, n))[:, None]
    happens[:, late] = (~followed & (rng.random(n) < params.LATE_SCORE_SHARE) & (day[:, late[0]] < horizon))[:, None]
    first_intake = np.where(happens[:, EARLY], day[:, EARLY], day[:, BASE])
    next_intake = np.append(first_intake[1:], 0)  # a patient's courses are consecutive rows
    relapse = np.where(courses.has_next, np.minimum(courses.relapse_days, next_intake - endpoint_day),
                       courses.relapse_days)
    return Visits(kind=kind, day=day, happens=happens, start_day=start, endpoint_day=endpoint_day,
                  followed=followed, relapse_days=relapse)
