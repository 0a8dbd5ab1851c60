"""Kaplan-Meier against a hand-computed example; the Cox model on planted hazards and thin levels."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from analysis.durability import fit_durability_hazard_ratios, kaplan_meier, km_by_indication
from analysis.intervals import normal_quantile
from core.definitions import load_definitions

DEFS = load_definitions()

# eight responding courses: days to loss (lost) or to censoring
DAYS = np.array([2, 3, 3, 5, 6, 8, 8, 10])
LOST = np.array([True, True, False, True, False, True, True, False])


def test_kaplan_meier_matches_the_hand_computed_example():
    rows, curve = kaplan_meier("X", DAYS, LOST, alpha=DEFS.alpha, days_of_interest=[0, 4, 5, 9])
    by_day = {r["day"]: r for r in rows if r["statistic"] == "still_responding"}
    # S(2) = 7/8; S(3) = 7/8 * 6/7 (7 at risk, one lost, one censored); S(5) = 3/4 * 4/5; S(8) = 3/5 * 1/3
    assert by_day[0]["estimate"] == 1.0
    assert by_day[4]["estimate"] == pytest.approx(0.75)
    assert by_day[5]["estimate"] == pytest.approx(0.6)
    assert by_day[9]["estimate"] == pytest.approx(0.2)
    assert [by_day[d]["at_risk"] for d in (0, 4, 5, 9)] == [8, 5, 5, 1]
    np.testing.assert_allclose(curve.times, [2, 3, 5, 8])
    np.testing.assert_allclose(curve.survival, [0.875, 0.75, 0.6, 0.2])
    median = next(r for r in rows if r["statistic"] == "median_days")
    assert median["estimate"] == 8.0  # first time S drops to 0.5 or below
    assert (median["courses"], median["events"]) == (8, 5)


def test_kaplan_meier_interval_uses_greenwood_on_the_log_log_scale():
    rows, _ = kaplan_meier("X", DAYS, LOST, alpha=DEFS.alpha, days_of_interest=[5])
    at5 = next(r for r in rows if r.get("day") == 5)
    greenwood = 0.6**2 * (1 / (8 * 7) + 1 / (7 * 6) + 1 / (5 * 4))  # S^2 * sum d / (n (n - d))
    spread = normal_quantile(DEFS.alpha) * math.sqrt(greenwood) / (0.6 * abs(math.log(0.6)))
    assert at5["ci_low"] == pytest.approx(0.6 ** math.exp(spread))
    assert at5["ci_high"] == pytest.approx(0.6 ** math.exp(-spread))


def _durability(rng: np.random.Generator, indication: str, n: int, median_days: float, start: int = 0) -> pl.DataFrame:
    time_to_loss = rng.exponential(median_days / math.log(2), n)
    censor = rng.uniform(20, 200, n)
    return pl.DataFrame({
        "patient_id": [f"P{start + i}" for i in range(n)], "course_number": [1] * n,
        "site_id": rng.choice(["S1", "S2"], n).tolist(), "indication": [indication] * n,
        "instrument": ["PHQ9"] * n, "route": ["IV"] * n, "baseline_score": rng.normal(18, 4, n),
        "days_to_event": np.ceil(np.minimum(time_to_loss, censor)).astype(np.int32),
        "lost_response": time_to_loss <= censor, "age_per_10_years": rng.normal(4.3, 1.3, n),
        "sex": rng.choice(["female", "male"], n).tolist(),
    })


def test_km_by_indication_marks_an_indication_with_three_courses_too_few():
    rng = np.random.default_rng(5)
    frame = pl.concat([_durability(rng, "TRD", 200, 75), _durability(rng, "OCD", 3, 60, start=1000)])
    table, curves = km_by_indication(frame, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    ocd = table.filter(pl.col("indication") == "OCD")
    assert ocd.height == 1
    assert ocd["status"][0] == "too_few"
    assert ocd["courses"][0] == 3
    assert set(table.filter(pl.col("indication") == "TRD")["status"]) == {"ok"}
    assert [c.indication for c in curves] == ["TRD", "all"]
    trd28 = table.filter((pl.col("indication") == "TRD") & (pl.col("day") == 28)).row(0, named=True)
    assert trd28["ci_low"] < math.exp(-math.log(2) * 28 / 75) < trd28["ci_high"]  # planted S(28)


def test_cox_model_recovers_a_planted_hazard_ratio_and_sets_aside_a_level_without_losses():
    rng = np.random.default_rng(11)
    never_lost = _durability(rng, "OCD", 30, 60, start=5000).with_columns(lost_response=pl.lit(False))
    frame = pl.concat([_durability(rng, "TRD", 600, 80), _durability(rng, "PTSD", 600, 40, start=1000), never_lost])
    table = fit_durability_hazard_ratios(frame, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    ptsd = table.filter(pl.col("term") == "indication=PTSD").row(0, named=True)
    assert ptsd["status"] == "ok"
    assert ptsd["reference"] == "TRD"
    assert ptsd["ci_low"] < 2.0 < ptsd["ci_high"]  # median 40 vs 80 days: hazard ratio 2
    assert 1.6 < ptsd["ratio"] < 2.5
    ocd = table.filter(pl.col("term") == "indication=OCD").row(0, named=True)
    assert ocd["status"] == "too_few"
    assert ocd["ratio"] is None
    assert table.filter(pl.col("term").str.starts_with("site="))["status"].to_list() == ["ok"]


def test_cox_model_without_the_reference_indication_is_a_failed_row():
    rng = np.random.default_rng(3)
    table = fit_durability_hazard_ratios(_durability(rng, "PTSD", 100, 40), alpha=DEFS.alpha,
                                         min_cell_size=DEFS.min_cell_size)
    assert table.height == 1
    assert table["term"][0] == "(model)"
    assert table["status"][0].startswith("failed: reference indication TRD")


def test_cox_intervals_stay_finite_when_courses_are_censored_before_the_first_loss():
    rng = np.random.default_rng(12)
    frame = pl.concat([_durability(rng, "TRD", 300, 80), _durability(rng, "PTSD", 300, 40, start=1000)])
    first_loss = int(frame.filter(pl.col("lost_response"))["days_to_event"].min())
    early = _durability(rng, "TRD", 25, 80, start=5000).with_columns(
        days_to_event=pl.lit(max(first_loss - 1, 0), pl.Int32), lost_response=pl.lit(False))
    table = fit_durability_hazard_ratios(pl.concat([frame, early]), alpha=DEFS.alpha,
                                         min_cell_size=DEFS.min_cell_size)
    assert set(table["status"]) == {"ok"}
    assert table["ci_low"].is_finite().all()
    assert table["observations"][0] == 600  # the early-censored courses carry no information


def test_thinned_steps_keeps_points_min_cell_size_losses_apart_around_the_anchors():
    from analysis.durability import thinned_steps

    lost = np.array([0, 0, 3, 12, 13, 20, 25, 30, 40], dtype=float)
    none = np.zeros(lost.size, bool)
    assert np.flatnonzero(thinned_steps(lost, none, 11)).tolist() == [0, 3, 6, 8]
    anchored = none.copy()
    anchored[4] = True  # a share shown at 13 losses: 12 is too close before it, 20 too close after it
    assert np.flatnonzero(thinned_steps(lost, anchored, 11)).tolist() == [0, 4, 6, 8]
    assert np.flatnonzero(thinned_steps(np.array([2.0, 5.0, 9.0]), np.zeros(3, bool), 11)).tolist() == []
