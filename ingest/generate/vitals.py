"""Per-session vitals, dissociation (CADSS), duration and completion.

Severe blood-pressure peaks and desaturations are planted, not left to a distribution's tail: each
session gets a probability, a flag is drawn, and the peak is put on the matching side of the derived-
event thresholds of core.definitions. The expected derived-event rate is then known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.contract import table
from ingest.generate import params
from ingest.generate.arrays import uniform_int
from ingest.generate.clinical import Clinical
from ingest.generate.courses import Courses
from ingest.generate.population import ROUTES, Patients
from ingest.generate.schedule import Schedule

SBP_ROOM, DBP_ROOM = params.VITALS_ROOM_UNDER_LINE["sbp"], params.VITALS_ROOM_UNDER_LINE["dbp"]
CADSS_MAX = int(table("sessions").column("cadss_total").maximum or 0)  # 23 items x 0-4
DURATION_RANGE = (int(table("sessions").column("duration_min").minimum or 1),
                  int(table("sessions").column("duration_min").maximum or 0))


@dataclass(frozen=True)
class Vitals:
    sbp_pre: np.ndarray
    dbp_pre: np.ndarray
    hr_pre: np.ndarray
    sbp_max: np.ndarray
    dbp_max: np.ndarray
    hr_max: np.ndarray
    spo2_min: np.ndarray
    missing: np.ndarray  # the whole vitals block was not recorded
    cadss: np.ndarray
    cadss_missing: np.ndarray
    duration_min: np.ndarray
    duration_missing: np.ndarray
    completed: np.ndarray
    severe_probability: np.ndarray  # planted P(peak crosses the derived-hypertension line)
    severe: np.ndarray
    desaturation_probability: np.ndarray
    desaturation: np.ndarray


def _by_route(table: dict[str, float], route: np.ndarray) -> np.ndarray:
    return np.array([table[r] for r in ROUTES])[route]


def draw_vitals(rng: np.random.Generator, clinical: Clinical, patients: Patients, courses: Courses,
                schedule: Schedule) -> Vitals:
    d = clinical.definitions
    n = schedule.size
    route = schedule.route
    patient = courses.patient[schedule.course]
    effect = patients.bp_effect[patient]
    sbp_line, dbp_line = d.derived_hypertension_sbp_mmhg, d.derived_hypertension_dbp_mmhg
    sbp_pre = np.clip(np.rint(params.SBP_PRE[0] + effect[:, 0] + rng.normal(0, params.SBP_PRE[2], n)),
                      params.VITALS_RESTING_BOUNDS["sbp"], sbp_line - SBP_ROOM)
    dbp_pre = np.clip(np.rint(params.DBP_PRE[0] + effect[:, 1] + rng.normal(0, params.DBP_PRE[2], n)),
                      params.VITALS_RESTING_BOUNDS["dbp"], dbp_line - DBP_ROOM)
    hr_pre = np.clip(np.rint(params.HR_PRE[0] + effect[:, 2] + rng.normal(0, params.HR_PRE[2], n)),
                     *params.VITALS_RESTING_BOUNDS["hr"])
    rise_mean = _by_route({r: m for r, (m, _) in params.SBP_RISE.items()}, route)
    rise_sd = _by_route({r: s for r, (_, s) in params.SBP_RISE.items()}, route)
    sbp_rise = np.maximum(rng.normal(rise_mean, rise_sd), 0.0)
    dbp_rise = np.maximum(params.DBP_RISE_PER_SBP * sbp_rise + rng.normal(0, params.DBP_RISE_SD, n), 0.0)
    sbp_max = sbp_pre + np.rint(sbp_rise)
    dbp_max = dbp_pre + np.rint(dbp_rise)

    severe_probability = _by_route(params.SEVERE_HYPERTENSION, route)
    severe = rng.random(n) < severe_probability
    by_dbp = rng.random(n) < params.SEVERE_BY_DBP_ONLY
    # Below the line, a peak that would cross is folded back under it (no pile-up on one value).
    sbp_below = np.where(sbp_max >= sbp_line, sbp_line - 1 - (sbp_max - sbp_line) % SBP_ROOM, sbp_max)
    dbp_below = np.where(dbp_max >= dbp_line, dbp_line - 1 - (dbp_max - dbp_line) % DBP_ROOM, dbp_max)
    sbp_peak = sbp_line + uniform_int(rng, 0, params.SEVERE_PEAK_ABOVE_LINE["sbp"], n)
    dbp_peak = dbp_line + uniform_int(rng, 0, params.SEVERE_PEAK_ABOVE_LINE["dbp"], n)
    sbp_max = np.where(severe & ~by_dbp, np.maximum(sbp_max, sbp_peak), sbp_below)
    dbp_max = np.where(severe & by_dbp, np.maximum(dbp_max, dbp_peak), dbp_below)
    hr_max = np.minimum(hr_pre + np.rint(np.abs(rng.normal(*params.HR_RISE, n))), params.HR_MAX_CEILING)

    desaturation_probability = _by_route(params.DESATURATION, route)
    desaturation = rng.random(n) < desaturation_probability
    usual = np.clip(np.rint(params.SPO2_USUAL - np.abs(rng.normal(0, params.SPO2_DIP_SD, n))),
                    d.derived_desaturation_spo2_pct, 100)  # a saturation, in percent
    spo2 = np.where(desaturation, d.derived_desaturation_spo2_pct - uniform_int(rng, *params.DESATURATION_DEPTH, n),
                    usual)

    dose_factor = schedule.mg_per_kg / params.REFERENCE_MG_PER_KG
    cadss_mean = _by_route(params.CADSS_MEAN, route) * dose_factor**params.CADSS_DOSE_EXPONENT
    cadss = np.clip(np.rint(rng.gamma(params.CADSS_GAMMA_SHAPE, cadss_mean / params.CADSS_GAMMA_SHAPE)), 0, CADSS_MAX)

    stopper = courses.induction_sessions[schedule.course] < d.induction_sessions
    last_of_stopper = stopper & (schedule.position == courses.induction_sessions[schedule.course] - 1)
    incomplete = rng.random(n) < np.where(last_of_stopper, params.INCOMPLETE_LAST_SESSION_OF_STOPPER,
                                          params.INCOMPLETE_SESSION)
    duration_mean = _by_route({r: m for r, (m, _) in params.DURATION_MIN.items()}, route)
    duration_sd = _by_route({r: s for r, (_, s) in params.DURATION_MIN.items()}, route)
    stopped_share = np.where(incomplete, rng.uniform(*params.INCOMPLETE_DURATION_SHARE, n), 1.0)
    duration = rng.normal(duration_mean, duration_sd) * stopped_share
    return Vitals(
        sbp_pre=sbp_pre.astype(np.int64), dbp_pre=dbp_pre.astype(np.int64), hr_pre=hr_pre.astype(np.int64),
        sbp_max=sbp_max.astype(np.int64), dbp_max=dbp_max.astype(np.int64), hr_max=hr_max.astype(np.int64),
        spo2_min=spo2.astype(np.int64),
        missing=rng.random(n) < params.VITALS_MISSING,
        cadss=cadss.astype(np.int64),
        cadss_missing=rng.random(n) < params.CADSS_MISSING,
        duration_min=np.clip(np.rint(duration), *DURATION_RANGE).astype(np.int64),
        duration_missing=rng.random(n) < params.DURATION_MISSING,
        completed=~incomplete,
        severe_probability=severe_probability, severe=severe,
        desaturation_probability=desaturation_probability, desaturation=desaturation,
    )
