"""Response tables and the clustered logistic model: planted odds ratios, thin indications, separation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from analysis.intervals import wilson_ci
from analysis.response import fit_response_odds_ratios, response_by_indication
from core.definitions import load_definitions

DEFS = load_definitions()
LOG_ODDS = {"TRD": 0.0, "MDD": math.log(2.0), "PTSD": math.log(0.7), "OCD": 0.0}


def _courses(rng: np.random.Generator, indication: str, n: int, start: int = 0,
             responder: np.ndarray | None = None) -> pl.DataFrame:
    baseline = rng.normal(18, 4, n)
    z = (baseline - 18) / 4
    p = 1 / (1 + np.exp(-(LOG_ODDS[indication] - 0.3 * z)))
    responded = rng.random(n) < p if responder is None else responder
    return pl.DataFrame({
        "patient_id": [f"P{start + i // 2}" for i in range(n)],  # two courses per patient: clustered
        "course_number": [1 + i % 2 for i in range(n)], "site_id": rng.choice(["S1", "S2"], n).tolist(),
        "indication": indication, "instrument": "PHQ9", "route": rng.choice(["IV", "INTRANASAL"], n).tolist(),
        "baseline_score": baseline, "responder": responded, "remitter": responded & (rng.random(n) < 0.5),
        "age_per_10_years": rng.normal(4.3, 1.3, n), "sex": rng.choice(["female", "male"], n).tolist(),
    })


def test_response_by_indication_counts_and_wilson_intervals():
    courses = pl.DataFrame({"indication": ["TRD"] * 4 + ["MDD"] * 2, "instrument": ["PHQ9", "PHQ9", "MADRS", "MADRS",
                                                                                     "PHQ9", "PHQ9"],
                            "responder": [True, False, True, True, False, False],
                            "remitter": [True, False, False, True, False, False]})
    table = response_by_indication(courses, alpha=DEFS.alpha, min_cell_size=1)
    rows = {(r["indication"], r["instrument"]): r for r in table.iter_rows(named=True)}
    assert list(rows) == [("MDD", "PHQ9"), ("MDD", "all"), ("TRD", "MADRS"), ("TRD", "PHQ9"), ("TRD", "all"),
                          ("all", "all")]
    trd = rows[("TRD", "all")]
    assert (trd["courses"], trd["responders"], trd["remitters"]) == (4, 3, 2)
    low, high = wilson_ci(np.array([3]), np.array([4]), DEFS.alpha)
    assert (trd["ci_low"], trd["ci_high"]) == pytest.approx((low[0], high[0]))
    mdd = rows[("MDD", "all")]
    assert (mdd["response_rate"], mdd["ci_low"]) == (0.0, pytest.approx(0.0, abs=1e-12))
    assert mdd["ci_high"] > 0.3
    assert rows[("all", "all")]["courses"] == 6


def test_an_indication_with_three_courses_is_too_few_in_both_tables():
    rng = np.random.default_rng(21)
    courses = pl.concat([_courses(rng, "TRD", 1500), _courses(rng, "MDD", 800, start=10_000),
                         _courses(rng, "OCD", 3, start=20_000)])
    table = response_by_indication(courses, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    ocd = table.filter((pl.col("indication") == "OCD") & (pl.col("instrument") == "all")).row(0, named=True)
    assert (ocd["courses"], ocd["status"]) == (3, "too_few")
    odds = fit_response_odds_ratios(courses, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    rows = {r["term"]: r for r in odds.iter_rows(named=True)}
    assert rows["indication=OCD"]["status"] == "too_few"
    assert rows["indication=OCD"]["ratio"] is None
    assert rows["indication=MDD"]["status"] == "ok"


def test_odds_ratios_recover_planted_effects_against_trd():
    rng = np.random.default_rng(22)
    courses = pl.concat([_courses(rng, "TRD", 3000), _courses(rng, "MDD", 1500, start=10_000),
                         _courses(rng, "PTSD", 1500, start=20_000)])
    odds = fit_response_odds_ratios(courses, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    rows = {r["term"]: r for r in odds.iter_rows(named=True)}
    assert rows["indication=MDD"]["reference"] == "TRD"
    assert rows["indication=MDD"]["ci_low"] < 2.0 < rows["indication=MDD"]["ci_high"]
    assert rows["indication=PTSD"]["ci_low"] < 0.7 < rows["indication=PTSD"]["ci_high"]
    severity = rows["baseline_severity_z"]  # planted -0.3 per SD of baseline
    assert severity["ci_low"] < math.exp(-0.3) < severity["ci_high"]
    assert rows["indication=MDD"]["clusters"] == 3000
    assert rows["indication=MDD"]["observations"] == 6000


def test_odds_ratio_model_that_cannot_converge_is_reported_not_converged():
    rng = np.random.default_rng(23)
    courses = pl.concat([_courses(rng, "TRD", 400), _courses(rng, "MDD", 400, start=10_000)])
    separated = courses.with_columns(responder=pl.col("baseline_score") < 18)  # perfect separation on severity
    odds = fit_response_odds_ratios(separated, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    assert odds.height == 1
    row = odds.row(0, named=True)
    assert (row["term"], row["ratio"], row["clusters"], row["status"]) == ("(model)", None, 400, "not_converged")
