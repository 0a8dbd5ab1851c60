"""Adverse-event rate tables on small hand-made cells, and the clustered rate model on planted ratios."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analysis.rates import ae_rates, dose_band_label, fit_ae_rate_ratios
from core.definitions import load_definitions, load_event_terms

DEFS = load_definitions()

SESSIONS = pl.DataFrame(
    [("S1", "IV", "induction", 1, 800), ("S1", "IV", "maintenance", 1, 200),
     ("S2", "INTRANASAL", "induction", 2, 400), ("S2", "IM", "induction", None, 5)],
    schema=["site_id", "route", "phase", "dose_band", "sessions"], orient="row")
EVENTS = pl.DataFrame(
    [("S1", "IV", "induction", 1, "nausea", "reported", "not_serious", 40),
     ("S1", "IV", "induction", 1, "hypertension", "derived", "ungraded", 6),
     ("S2", "INTRANASAL", "induction", 2, "dissociation", "reported", "serious_or_severe", 3),
     ("S1", "IV", "maintenance", 1, "nausea", "reported", "not_serious", 10)],
    schema=["site_id", "route", "phase", "dose_band", "event_term", "source", "severity", "events"], orient="row")


@pytest.fixture(scope="module")
def rates() -> dict[tuple[str, str, str], dict]:
    table = ae_rates(SESSIONS, EVENTS, event_terms=load_event_terms(), alpha=DEFS.alpha,
                     min_cell_size=DEFS.min_cell_size, dose_band_edges=DEFS.dose_band_edges_mg_per_kg)
    return {(r["stratum_type"], r["stratum"], r["source"]): r for r in table.iter_rows(named=True)}


def _upper(events: int, sessions: int) -> float:
    return 100 * stats.chi2.ppf(1 - DEFS.alpha / 2, 2 * events + 2) / 2 / sessions


def test_overall_rates_count_reported_derived_and_all(rates):
    assert [rates[("overall", "all", s)]["events"] for s in ("reported", "derived", "all")] == [53, 6, 59]
    overall = rates[("overall", "all", "all")]
    assert overall["sessions"] == 1405
    assert overall["rate_per_100"] == pytest.approx(100 * 59 / 1405)
    assert overall["ci_high"] == pytest.approx(_upper(59, 1405))


def test_event_terms_use_all_sessions_and_every_seed_term_appears(rates):
    assert rates[("event_term", "nausea", "reported")]["events"] == 50
    assert rates[("event_term", "nausea", "reported")]["sessions"] == 1405
    assert ("event_term", "nausea", "derived") not in rates  # nausea is never derived from vitals
    assert rates[("event_term", "hypertension", "derived")]["events"] == 6
    assert {t for (kind, t, _) in rates if kind == "event_term"} == set(load_event_terms())


def test_zero_event_stratum_has_zero_rate_and_a_valid_upper_bound(rates):
    vomiting = rates[("event_term", "vomiting", "reported")]
    assert (vomiting["events"], vomiting["rate_per_100"], vomiting["ci_low"]) == (0, 0.0, 0.0)
    assert vomiting["ci_high"] == pytest.approx(_upper(0, 1405))  # 100 * 3.689 / 1405 at alpha 0.05
    assert vomiting["status"] == "ok"


def test_exposure_strata_use_their_own_sessions_and_thin_strata_are_too_few(rates):
    assert rates[("phase", "maintenance", "all")]["rate_per_100"] == pytest.approx(100 * 10 / 200)
    im = rates[("route", "IM", "all")]
    assert (im["events"], im["sessions"], im["status"]) == (0, 5, "too_few")
    assert im["ci_high"] == pytest.approx(_upper(0, 5))
    assert rates[("dose_band", "unknown", "all")]["sessions"] == 5
    assert rates[("dose_band", "0.6-<0.9", "reported")]["events"] == 3
    assert rates[("site", "S2", "reported")]["events"] == 3
    assert rates[("severity", "serious_or_severe", "reported")]["events"] == 3
    assert rates[("severity", "ungraded", "derived")]["events"] == 6


def test_dose_band_labels_cover_the_line_without_gaps():
    assert [dose_band_label(i, (0.4, 0.6)) for i in (0, 1, 2, None)] == ["<0.4", "0.4-<0.6", ">=0.6", "unknown"]


def _exposure(rng: np.random.Generator, patients: int, route: str, rate_ratio: float, start: int = 0,
              events: bool = True) -> pl.DataFrame:
    sessions = rng.integers(1, 12, patients)
    dose = rng.choice([0.5, 0.75, 1.0], patients)
    frailty = rng.gamma(4.0, 1 / 4.0, patients)  # patients differ: over-dispersion the robust errors absorb
    mean = sessions * 0.3 * rate_ratio * np.exp(0.4 * dose) * frailty
    return pl.DataFrame({
        "patient_id": [f"P{start + i}" for i in range(patients)], "course_number": 1, "route": route,
        "sessions": sessions, "events": rng.poisson(mean) if events else np.zeros(patients, dtype=np.int64),
        "dose_mg_per_kg": dose, "age_per_10_years": rng.normal(4.3, 1.3, patients),
        "sex": rng.choice(["female", "male", None], patients, p=[0.55, 0.4, 0.05]).tolist(),
        "substance_use_history": rng.choice(["false", "true", None], patients, p=[0.7, 0.2, 0.1]).tolist(),
    })


def test_rate_model_recovers_planted_ratios_and_sets_aside_thin_or_eventless_routes():
    rng = np.random.default_rng(8)
    frame = pl.concat([_exposure(rng, 2500, "IV", 1.0), _exposure(rng, 1000, "INTRANASAL", 1.5, start=10_000),
                       _exposure(rng, 4, "ORAL", 1.0, start=20_000),
                       _exposure(rng, 40, "SUBLINGUAL", 1.0, start=30_000, events=False)])
    table = fit_ae_rate_ratios(frame, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    rows = {r["term"]: r for r in table.iter_rows(named=True)}
    intranasal = rows["route=INTRANASAL"]
    assert intranasal["status"] == "ok"
    assert intranasal["reference"] == "IV"
    assert intranasal["ci_low"] < 1.5 < intranasal["ci_high"]
    assert rows["dose_mg_per_kg"]["ci_low"] < math.exp(0.4) < rows["dose_mg_per_kg"]["ci_high"]
    assert rows["age_per_10_years"]["ci_low"] < 1.0 < rows["age_per_10_years"]["ci_high"]
    assert rows["route=ORAL"]["status"] == "too_few"
    assert rows["route=ORAL"]["ratio"] is None
    assert rows["route=SUBLINGUAL"]["status"] == "too_few"  # no events: the ratio would be 0
    assert {"sex=male", "sex=unknown", "substance_use_history=true", "substance_use_history=unknown"} <= set(rows)
    assert rows["route=INTRANASAL"]["clusters"] == 3500
