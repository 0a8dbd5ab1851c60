"""Score values: a planted baseline and endpoint per course and instrument, and the rows of assessments.

The latent responder flag holds on every instrument of a course (endpoint on the right side of
(1 - response_reduction) x baseline), so whichever instrument the definitions pick as primary
measures it. Eligible non-responders also stay above the remission ceiling, so expected remission is
exactly P(respond) x P(remission score | respond).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate import params
from ingest.generate.arrays import uniform_int
from ingest.generate.clinical import Clinical
from ingest.generate.courses import Courses
from ingest.generate.visits import BASE, EARLY, END, FOLLOW, INTER, LATE, OLD, Visits


@dataclass(frozen=True)
class Planted:
    # (courses, instruments)
    baseline: np.ndarray
    endpoint: np.ndarray
    has_baseline: np.ndarray  # the BASE slot was scored on this instrument
    has_endpoint: np.ndarray  # the END slot was scored on this instrument
    remission_possible: np.ndarray  # a responder may score above the remission ceiling (else it must remit)


@dataclass(frozen=True)
class Assessments:
    patient: np.ndarray  # ordered by patient, day, instrument
    day: np.ndarray
    instrument: np.ndarray
    score: np.ndarray


def plant_scores(rng: np.random.Generator, clinical: Clinical, courses: Courses) -> tuple[np.ndarray, ...]:
    """Baseline and endpoint (courses x instruments) on the flag's side of the response line.

    Also returns whether a responder may still miss remission, and each course's floor for intake
    scores (one above the previous course's response line; 0 for first courses).
    """
    n, k = courses.size, len(clinical.instruments)
    top = np.array([i.score_max for i in clinical.instruments], dtype=np.int64)
    ceiling = np.array([i.remission_max for i in clinical.instruments], dtype=np.int64)
    eligible_from = np.array([i.min_baseline for i in clinical.instruments])
    mean = np.array([params.SCORE_MODEL[i.instrument][0] for i in clinical.instruments])
    sd = np.array([params.SCORE_MODEL[i.instrument][1] for i in clinical.instruments])
    loading = params.SEVERITY_LOADING
    z = loading * courses.severity_z[:, None] + np.sqrt(1.0 - loading**2) * rng.normal(0.0, 1.0, (n, k))
    # at least 1 and below the top, so both a responding and a non-responding endpoint exist
    baseline = np.clip(np.rint(mean + sd * z), 1, top - 1).astype(np.int64)
    # A later course starts above the previous course's response line: its intake scores are that
    # course's last follow-ups, and the patient came back because response was lost.
    previous_floor = np.zeros_like(baseline)
    for number in range(2, int(courses.number.max()) + 1):
        later = np.flatnonzero(courses.number == number)
        previous_floor[later] = clinical.response_line(baseline[later - 1]) + 1
        baseline[later] = np.maximum(baseline[later], previous_floor[later])
    line = clinical.response_line(baseline)

    remission_possible = line > ceiling
    remit = courses.remitter_intent[:, None] | ~remission_possible
    remit_score = uniform_int(rng, 0, np.minimum(ceiling, line).ravel(), n * k).reshape(n, k)
    keep_score = uniform_int(rng, np.broadcast_to(ceiling + 1, (n, k)).ravel(), line.ravel(), n * k).reshape(n, k)
    responder_score = np.where(remit, remit_score, keep_score)
    floor = np.where(baseline >= eligible_from, np.maximum(line + 1, ceiling + 1), line + 1)
    drift = np.rint(baseline * rng.uniform(*params.NON_RESPONSE_ENDPOINT_RATIO, (n, k))).astype(np.int64)
    endpoint = np.where(courses.responder[:, None], responder_score, np.clip(drift, floor, top))
    return baseline, endpoint, remission_possible, previous_floor


def _skip_share(kind: np.ndarray, madrs: bool) -> np.ndarray:
    """Per slot: the share of visits at which the instrument is not scored (1.0 = never scored there)."""
    if madrs:  # clinician-rated: intake, endpoint and some follow-ups only
        table = {BASE: params.MADRS_MISSING["baseline"], END: params.MADRS_MISSING["endpoint"],
                 FOLLOW: params.MADRS_MISSING["follow_up"]}
        return np.array([table.get(int(s), 1.0) for s in kind])
    table = {OLD: params.ITEM_MISSING, EARLY: 0.0, BASE: params.ITEM_MISSING, INTER: 1.0 - params.INTERMEDIATE_SHARE,
             END: params.ITEM_MISSING, LATE: 1.0 - params.FOLLOW_UP_SCORE_SHARE,
             FOLLOW: 1.0 - params.FOLLOW_UP_SCORE_SHARE}
    return np.array([table[int(s)] for s in kind])


def draw_assessments(rng: np.random.Generator, clinical: Clinical, courses: Courses, uses: np.ndarray,
                     visits: Visits) -> tuple[Assessments, Planted]:
    """Assessment rows for every instrument a course's patient is scored on, and what was planted.

    `uses` is (courses, instruments): the instrument is used for the course's patient.
    """
    baseline, endpoint, remission_possible, previous_floor = plant_scores(rng, clinical, courses)
    n, slots = visits.day.shape
    kind = visits.kind
    base_col, end_col = int(np.flatnonzero(kind == BASE)[0]), int(np.flatnonzero(kind == END)[0])
    line = clinical.response_line(baseline)
    # how far through induction a weekly score is: it drifts from baseline toward the endpoint
    progress = (visits.day - visits.start_day[:, None]) / (visits.endpoint_day - visits.start_day)[:, None]
    relapsed = visits.day - visits.endpoint_day[:, None] >= visits.relapse_days[:, None]
    has_baseline = np.zeros(baseline.shape, dtype=bool)
    has_endpoint = np.zeros(baseline.shape, dtype=bool)
    pieces: list[tuple[np.ndarray, ...]] = []
    for j, instrument in enumerate(clinical.instruments):
        scored = uses[:, j:j + 1] & visits.happens
        scored &= rng.random((n, slots)) >= _skip_share(kind, instrument.instrument == "MADRS")
        scored[:, kind == EARLY] &= scored[:, [base_col]]  # a second in-window score only beside the baseline
        scored[:, kind == INTER] &= scored[:, [end_col]]  # no in-window score unless the endpoint is there
        has_baseline[:, j], has_endpoint[:, j] = scored[:, base_col], scored[:, end_col]

        b, e, ln = baseline[:, j:j + 1], endpoint[:, j:j + 1], line[:, j:j + 1]
        top, sd = int(instrument.score_max), params.SCORE_MODEL[instrument.instrument][1]
        noise = rng.normal(0.0, 1.0, (n, slots))
        spread = {name: share * sd for name, share in params.SCORE_NOISE_SD.items()}
        held = np.clip(np.rint(e + spread["held"] * noise), 0, ln)  # before relapse: at or under the line
        rise = np.maximum(b + np.rint(spread["relapse_rise"]) - ln, 1)
        lost = ln + 1 + np.floor(rng.random((n, slots)) * rise)  # after relapse: above the line
        late = np.floor(rng.random((n, slots)) * (ln + 1))  # looks like a response, but is out of window
        value = np.select(
            [kind == OLD, kind == EARLY, kind == BASE, kind == INTER, kind == END, kind == LATE],
            [b + np.rint(spread["old"] * noise), b + np.rint(spread["early"] * noise), b,
             np.rint(b + (e - b) * progress + spread["weekly"] * noise), e, late],
            np.where(relapsed, lost, held),
        )
        value = np.clip(value, 0, top).astype(np.int64)
        value[:, kind == EARLY] = np.maximum(value[:, kind == EARLY], previous_floor[:, j:j + 1])
        row, slot = np.nonzero(scored)
        pieces.append((courses.patient[row], visits.day[row, slot], np.full(row.size, j), value[row, slot]))
    patient, day, instrument_index, score = (np.concatenate(p) for p in zip(*pieces, strict=True))
    order = np.lexsort((instrument_index, day, patient))
    rows = Assessments(patient=patient[order], day=day[order], instrument=instrument_index[order],
                       score=score[order])
    return rows, Planted(baseline, endpoint, has_baseline, has_endpoint, remission_possible)
