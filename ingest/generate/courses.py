"""Treatment courses and what is planted in each: route, dose, induction length, the latent responder flag.

A course's responder probability is a logit model of indication and a few covariates; the flag is one
Bernoulli draw from it. Nothing that decides whether a course is evaluable (missing visits, early stops)
looks at the flag, so the evaluable courses' mean probability is exactly what a response rate estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate import params
from ingest.generate.arrays import choice, expand, uniform_int
from ingest.generate.clinical import Clinical
from ingest.generate.population import ROUTES, Patients

WEIGHT_BASED_ROUTES = ("IV", "IM")


@dataclass(frozen=True)
class Courses:
    patient: np.ndarray  # index into the chunk's Patients
    number: np.ndarray  # 1-based course number within the patient
    has_next: np.ndarray  # the patient has a later course
    indication: np.ndarray
    route: np.ndarray  # index into ROUTES
    mg_per_kg: np.ndarray  # weight-based routes; 0 elsewhere
    fixed_mg: np.ndarray  # other routes; 0 for weight-based
    induction_sessions: np.ndarray
    maintenance_sessions: np.ndarray
    gap_to_next_days: np.ndarray  # last session -> next course's first session
    severity_z: np.ndarray  # latent baseline severity, shared by every instrument
    probability: np.ndarray  # planted responder probability
    responder: np.ndarray  # the latent flag
    remitter_intent: np.ndarray  # responders: aim for a remission score where the range allows
    relapse_days: np.ndarray  # responders: endpoint -> loss of response
    no_baseline_visit: np.ndarray
    no_endpoint_visit: np.ndarray
    old_score: np.ndarray  # an intake score older than the baseline window (first course only)
    follow_up_days: np.ndarray  # how long a responder keeps being scored after the endpoint

    @property
    def size(self) -> int:
        return int(self.patient.size)


def draw_courses(rng: np.random.Generator, clinical: Clinical, patients: Patients) -> Courses:
    definitions = clinical.definitions
    n_pat = patients.size
    second = rng.random(n_pat) < params.SECOND_COURSE_SHARE
    third = second & (rng.random(n_pat) < params.THIRD_COURSE_SHARE)
    per_patient = 1 + second.astype(np.int64) + third
    patient, position = expand(per_patient)
    n = patient.size
    number = position + 1
    indication = patients.indication[patient]

    fresh_route = choice(rng, params.ROUTE_SHARES, n)
    kept = (number == 1) | (rng.random(n) < params.ROUTE_KEPT_NEXT_COURSE)
    route = np.where(kept, patients.route[patient], fresh_route)
    mg_per_kg, fixed_mg = _doses(rng, route)

    complete = rng.random(n) < params.COMPLETE_INDUCTION_SHARE
    stopped_after = uniform_int(rng, 1, definitions.induction_sessions - 1, n)
    induction = np.where(complete, definitions.induction_sessions, stopped_after)

    severity = rng.normal(0.0, 1.0, n)
    probability = _response_probability(clinical, patients, patient, indication, route, number, severity)
    responder = rng.random(n) < probability
    remission = np.array([params.REMISSION_GIVEN_RESPONSE[i] for i in clinical.indications])[indication]
    remitter_intent = rng.random(n) < remission
    median = np.array([params.RELAPSE_MEDIAN_DAYS[i] for i in clinical.indications])[indication]
    relapse_days = rng.exponential(1.0, n) * median / np.log(2.0)

    # Maintenance may follow the flag (responders come back): it never changes induction or endpoint.
    maintenance_share = np.where(responder, params.MAINTENANCE_SHARE[True], params.MAINTENANCE_SHARE[False])
    has_maintenance = complete & (rng.random(n) < maintenance_share)
    count = np.minimum(rng.geometric(1.0 / params.MAINTENANCE_MEAN_SESSIONS, n), params.MAINTENANCE_MAX_SESSIONS)
    low, high = params.NEXT_COURSE_MARGIN_DAYS
    missing_endpoint = np.where(
        complete, params.NO_ENDPOINT_VISIT["complete"],
        np.where(induction <= 2, params.NO_ENDPOINT_VISIT["stopped_by_2"], params.NO_ENDPOINT_VISIT["stopped_later"]),
    )
    return Courses(
        patient=patient,
        number=number,
        has_next=number < per_patient[patient],
        indication=indication,
        route=route,
        mg_per_kg=mg_per_kg,
        fixed_mg=fixed_mg,
        induction_sessions=induction,
        maintenance_sessions=np.where(has_maintenance, count, 0),
        gap_to_next_days=definitions.course_gap_days + uniform_int(rng, low, high, n),
        severity_z=severity,
        probability=probability,
        responder=responder,
        remitter_intent=remitter_intent,
        relapse_days=relapse_days,
        no_baseline_visit=rng.random(n) < params.NO_BASELINE_VISIT,
        no_endpoint_visit=rng.random(n) < missing_endpoint,
        old_score=(number == 1) & (rng.random(n) < params.OLD_SCORE_SHARE),
        follow_up_days=uniform_int(rng, *params.FOLLOW_UP_DURATION_DAYS, n),
    )


def _doses(rng: np.random.Generator, route: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = route.size
    per_kg = np.array(list(params.MG_PER_KG_SHARES))[choice(rng, params.MG_PER_KG_SHARES, n)]
    intranasal = np.array(list(params.INTRANASAL_MG))[choice(rng, params.INTRANASAL_MG, n)]
    oral = np.array(params.ORAL_MG)[np.floor(rng.random(n) * len(params.ORAL_MG)).astype(np.int64)]
    sublingual = np.array(params.SUBLINGUAL_MG)[np.floor(rng.random(n) * len(params.SUBLINGUAL_MG)).astype(np.int64)]
    weight_based = np.isin(route, [ROUTES.index(r) for r in WEIGHT_BASED_ROUTES])
    fixed = np.select([route == ROUTES.index("INTRANASAL"), route == ROUTES.index("ORAL")], [intranasal, oral],
                      sublingual)
    return np.where(weight_based, per_kg, 0.0), np.where(weight_based, 0.0, fixed)


def _response_probability(clinical: Clinical, patients: Patients, patient: np.ndarray, indication: np.ndarray,
                          route: np.ndarray, number: np.ndarray, severity: np.ndarray) -> np.ndarray:
    base = np.array([params.RESPONSE_BASE[i] for i in clinical.indications])[indication]
    effects = params.RESPONSE_LOGIT_EFFECTS
    substance = patients.substance[patient] & ~patients.substance_missing[patient]
    by_mouth = np.isin(route, [ROUTES.index("ORAL"), ROUTES.index("SUBLINGUAL")])
    logit = (np.log(base / (1.0 - base))
             + effects["substance_use_history"] * substance
             + effects["baseline_severity_z"] * severity
             + effects["repeat_course"] * (number >= 2)
             + effects["oral_or_sublingual"] * by_mouth)
    return 1.0 / (1.0 + np.exp(-logit))
