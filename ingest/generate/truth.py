"""What was planted, measured the way definitions.md measures it: truth.json and truth_courses.parquet.

Per course the primary instrument, baseline and endpoint are picked from the planted scores exactly as
the definitions would pick them from the files; the response truth of an indication is then the mean
planted probability over its courses evaluable on their primary instrument.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.generate import params
from ingest.generate.clinical import Clinical
from ingest.generate.courses import Courses
from ingest.generate.events import Events
from ingest.generate.population import ROUTES
from ingest.generate.scores import Planted
from ingest.generate.vitals import Vitals

REASONS = ("no_baseline", "below_min_baseline", "no_endpoint")  # checked in this order (definitions.md)


@dataclass(frozen=True)
class CourseTruth:
    primary: np.ndarray  # instrument index
    baseline: np.ndarray
    endpoint: np.ndarray
    has_baseline: np.ndarray
    has_endpoint: np.ndarray
    reason: np.ndarray  # index into REASONS, -1 when evaluable
    responder: np.ndarray  # measured on the primary instrument (meaningful when evaluable)
    remitter: np.ndarray
    expected_remission: np.ndarray  # p x P(remission score | responder) on the primary instrument

    @property
    def evaluable(self) -> np.ndarray:
        return self.reason < 0


def measure_courses(clinical: Clinical, courses: Courses, planted: Planted) -> CourseTruth:
    """Primary instrument (first preference with both a baseline and an endpoint, else the last one)."""
    n = courses.size
    rows = np.arange(n)
    widest = max(len(order) for order in clinical.primary_preference)
    preference = np.array([order + (order[-1],) * (widest - len(order)) for order in clinical.primary_preference])
    length = np.array([len(order) for order in clinical.primary_preference])[courses.indication]
    choices = preference[courses.indication]
    primary = choices[rows, length - 1]
    decided = np.zeros(n, dtype=bool)
    for position in range(widest - 1):
        candidate = choices[:, position]
        both = planted.has_baseline[rows, candidate] & planted.has_endpoint[rows, candidate]
        take = ~decided & (position < length - 1) & both
        primary = np.where(take, candidate, primary)
        decided |= take

    baseline, endpoint = planted.baseline[rows, primary], planted.endpoint[rows, primary]
    has_baseline, has_endpoint = planted.has_baseline[rows, primary], planted.has_endpoint[rows, primary]
    min_baseline = np.array([i.min_baseline for i in clinical.instruments])[primary]
    ceiling = np.array([i.remission_max for i in clinical.instruments])[primary]
    reason = np.select([~has_baseline, baseline < min_baseline, ~has_endpoint], [0, 1, 2], -1)
    # the definitions' own comparison, in floating point: endpoint <= (1 - response_reduction) x baseline
    responder = endpoint <= (1.0 - clinical.definitions.response_reduction) * baseline
    remission_given_response = np.array([params.REMISSION_GIVEN_RESPONSE[i] for i in clinical.indications])
    possible = planted.remission_possible[rows, primary]
    expected_remission = courses.probability * np.where(possible, remission_given_response[courses.indication], 1.0)
    return CourseTruth(primary, baseline, endpoint, has_baseline, has_endpoint, reason, responder,
                       endpoint <= ceiling, expected_remission)


@dataclass
class TruthTotals:
    """Sums over chunks; truth.json divides them at the end."""

    clinical: Clinical
    courses: np.ndarray = field(init=False)
    evaluable: np.ndarray = field(init=False)
    probability_sum: np.ndarray = field(init=False)
    remission_sum: np.ndarray = field(init=False)
    reasons: np.ndarray = field(init=False)
    sessions: int = 0
    sessions_by_route: np.ndarray = field(init=False)
    severe_expected_by_route: np.ndarray = field(init=False)
    reported_expected: np.ndarray = field(init=False)
    derived_expected: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = len(self.clinical.indications)
        self.courses, self.evaluable = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
        self.probability_sum, self.remission_sum = np.zeros(k), np.zeros(k)
        self.reasons = np.zeros((k, len(REASONS)), dtype=np.int64)
        self.sessions_by_route = np.zeros(len(ROUTES), dtype=np.int64)
        self.severe_expected_by_route = np.zeros(len(ROUTES))
        self.reported_expected = np.zeros(len(self.clinical.event_terms))

    def add(self, courses: Courses, truth: CourseTruth, route: np.ndarray, vitals: Vitals, events: Events) -> None:
        k = len(self.clinical.indications)
        ev = truth.evaluable
        self.courses += np.bincount(courses.indication, minlength=k)
        self.evaluable += np.bincount(courses.indication[ev], minlength=k)
        self.probability_sum += np.bincount(courses.indication[ev], weights=courses.probability[ev], minlength=k)
        self.remission_sum += np.bincount(courses.indication[ev], weights=truth.expected_remission[ev], minlength=k)
        for r in range(len(REASONS)):
            self.reasons[:, r] += np.bincount(courses.indication[truth.reason == r], minlength=k)
        self.sessions += int(route.size)
        self.sessions_by_route += np.bincount(route, minlength=len(ROUTES))
        self.severe_expected_by_route += np.bincount(route, weights=vitals.severe_probability, minlength=len(ROUTES))
        self.reported_expected += events.expected_reported
        for term, value in events.expected_derived.items():
            self.derived_expected[term] = self.derived_expected.get(term, 0.0) + value

    def as_json(self, *, seed: int, patients: int, sites: int, fmt: str, code: str, rows: dict[str, int]) -> dict:
        names = self.clinical.indications

        def per_indication(values: np.ndarray, counts: np.ndarray) -> dict[str, float | None]:
            return {name: (float(v / c) if c else None) for name, v, c in zip(names, values, counts, strict=True)}

        per_100 = 100.0 / max(self.sessions, 1)
        return {
            "generator_version": params.GENERATOR_VERSION,
            "seed": seed, "patients": patients, "sites": sites, "format": fmt, "clinic_code": code,
            "calendar": {"first_date": params.CALENDAR_FIRST.isoformat(),
                         "last_date": params.CALENDAR_LAST.isoformat()},
            "definitions": self.clinical.definitions.as_dict(),
            "rows": rows,
            "courses": int(self.courses.sum()),
            "courses_by_indication": dict(zip(names, self.courses.tolist(), strict=True)),
            "evaluable_courses_by_indication": dict(zip(names, self.evaluable.tolist(), strict=True)),
            "not_evaluable_by_indication": {name: dict(zip(REASONS, row.tolist(), strict=True))
                                            for name, row in zip(names, self.reasons, strict=True)},
            "response_rate_by_indication": per_indication(self.probability_sum, self.evaluable),
            "remission_rate_by_indication": per_indication(self.remission_sum, self.evaluable),
            "response_model": {
                "base_probability_by_indication": params.RESPONSE_BASE,
                "logit_effects": params.RESPONSE_LOGIT_EFFECTS,
                "remission_given_response_by_indication": params.REMISSION_GIVEN_RESPONSE,
            },
            "durability": {
                "relapse_median_days_by_indication": params.RELAPSE_MEDIAN_DAYS,
                "relapse_distribution": "exponential from the endpoint date, capped at the next course's first "
                                        "intake score (truth_courses.planted_relapse_days is the capped value)",
                "relapse_hazard_per_day_by_indication": {k: float(np.log(2.0) / v)
                                                         for k, v in params.RELAPSE_MEDIAN_DAYS.items()},
                "follow_up_gap_days": list(params.FOLLOW_UP_GAP_DAYS),
                "follow_up_duration_days": list(params.FOLLOW_UP_DURATION_DAYS),
            },
            "ae_rate_per_100_sessions": {
                t: float(v * per_100) for t, v in zip(self.clinical.event_terms, self.reported_expected, strict=True)},
            "derived_only_event_rate_per_100_sessions": {
                t: v * per_100 for t, v in sorted(self.derived_expected.items())},
            "severe_hypertension": {
                "probability_by_route": params.SEVERE_HYPERTENSION,
                "expected_share_of_sessions_by_route": {
                    r: (float(s / c) if c else None)
                    for r, s, c in zip(ROUTES, self.severe_expected_by_route, self.sessions_by_route, strict=True)},
                "expected_share_of_sessions": float(self.severe_expected_by_route.sum() / max(self.sessions, 1)),
            },
            "desaturation_probability_by_route": params.DESATURATION,
            "sessions_by_route": dict(zip(ROUTES, self.sessions_by_route.tolist(), strict=True)),
        }


def write_truth_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
