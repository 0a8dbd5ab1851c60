"""Reported adverse events: at most one per term per session, each with a planted probability.

A term's probability depends on route and dose (per kg, relative to the reference IV dose); reported
hypertension and desaturation are likelier when the session's planted peak crossed the derived line.
Truth is 100 x the mean marginal probability, so it is exactly the expected reported rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate import params
from ingest.generate.arrays import choice
from ingest.generate.clinical import Clinical
from ingest.generate.population import ROUTES
from ingest.generate.schedule import Schedule
from ingest.generate.vitals import Vitals

RESOLVED = tuple(params.AE_RESOLVED_SHARES)


@dataclass(frozen=True)
class Events:
    session: np.ndarray  # index into the chunk's sessions; rows ordered by session, then term
    term: np.ndarray  # index into Clinical.event_terms
    grade: np.ndarray
    serious: np.ndarray
    serious_missing: np.ndarray
    resolved: np.ndarray  # index into RESOLVED
    expected_reported: np.ndarray  # per term: sum over sessions of the marginal probability
    expected_derived: dict[str, float]  # derived-only events expected (vitals crossed, nothing reported)


def draw_events(rng: np.random.Generator, clinical: Clinical, schedule: Schedule, vitals: Vitals) -> Events:
    terms = clinical.event_terms
    n = schedule.size
    dose_factor = schedule.mg_per_kg / params.REFERENCE_MG_PER_KG
    peak_flags = {"hypertension": (vitals.severe, vitals.severe_probability),
                  "desaturation": (vitals.desaturation, vitals.desaturation_probability)}
    occurred = np.zeros((n, len(terms)), dtype=bool)
    expected = np.zeros(len(terms), dtype=np.float64)
    derived: dict[str, float] = {}
    draws = rng.random((n, len(terms)))
    for j, term in enumerate(terms):
        multiplier = np.array([params.AE_ROUTE_MULTIPLIER.get(r, {}).get(term, 1.0) for r in ROUTES])[schedule.route]
        usual = params.AE_BASE_PER_100.get(term, 0.0) / 100.0 * multiplier
        usual = np.minimum(usual * dose_factor ** params.AE_DOSE_EXPONENT.get(term, 0.0), 1.0)
        if term in peak_flags:
            crossed, crossing_probability = peak_flags[term]
            when_peak = params.AE_REPORTED_WHEN_PEAK[term]
            occurred[:, j] = draws[:, j] < np.where(crossed, when_peak, usual)
            expected[j] = float(np.sum(crossing_probability * when_peak + (1.0 - crossing_probability) * usual))
            # a derived event needs recorded vitals and no reported event of the term in that session
            derived[term] = float(np.sum(~vitals.missing * crossing_probability * (1.0 - when_peak)))
        else:
            occurred[:, j] = draws[:, j] < usual
            expected[j] = float(np.sum(usual))
    session, term = np.nonzero(occurred)  # row-major: by session, then term
    k = session.size
    grade = np.array(list(params.AE_GRADE_SHARES))[choice(rng, params.AE_GRADE_SHARES, k)]
    serious = rng.random(k) < np.where(grade >= 3, params.AE_SERIOUS_IF_GRADE_3_PLUS, params.AE_SERIOUS_IF_LOWER)
    # an empty `serious` cell means false (contract default), so only non-serious events lose the value
    serious_missing = ~serious & (rng.random(k) < params.AE_SERIOUS_MISSING)
    return Events(
        session=session.astype(np.int64), term=term.astype(np.int64), grade=grade, serious=serious,
        serious_missing=serious_missing, resolved=choice(rng, params.AE_RESOLVED_SHARES, k),
        expected_reported=expected, expected_derived=derived,
    )
