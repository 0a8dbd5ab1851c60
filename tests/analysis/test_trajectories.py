"""The vectorised REML mixed model against statsmodels MixedLM, and the trajectory table's statuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.formula.api as smf

from analysis.lmm import fit_lmm
from analysis.trajectories import INTERCEPT_MODEL, SCORES_MISSING, SLOPE_MODEL, fit_trajectories
from core.definitions import load_definitions

DEFS = load_definitions()


def _panel(rng: np.random.Generator, patients: int, slope_sd: float) -> pd.DataFrame:
    sizes = rng.integers(1, 8, patients)
    group = np.repeat(np.arange(patients), sizes)
    weeks = rng.uniform(-4, 8, group.size)
    intercepts, slopes = rng.normal(0, 4, patients), rng.normal(0, slope_sd, patients)
    score = 18 + intercepts[group] + (-1.5 + slopes[group]) * weeks + rng.normal(0, 2, group.size)
    return pd.DataFrame({"score": score, "weeks": weeks, "patient": group})


def test_random_slope_fit_agrees_with_statsmodels_mixedlm():
    data = _panel(np.random.default_rng(1), 300, 0.7)
    reference = smf.mixedlm("score ~ weeks", data, groups="patient", re_formula="~weeks").fit(reml=True)
    fit = fit_lmm(data["score"].to_numpy(), data["weeks"].to_numpy(), data["patient"].to_numpy())
    assert fit.converged
    assert not fit.boundary
    np.testing.assert_allclose(fit.params, reference.fe_params.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_params)), reference.bse_fe.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(fit.cov_re, reference.cov_re.to_numpy(), rtol=1e-3, atol=1e-4)
    assert fit.scale == pytest.approx(reference.scale, rel=1e-4)


def test_random_intercept_fit_agrees_with_statsmodels_mixedlm():
    data = _panel(np.random.default_rng(2), 250, 0.0)
    reference = smf.mixedlm("score ~ weeks", data, groups="patient").fit(reml=True)
    fit = fit_lmm(data["score"].to_numpy(), data["weeks"].to_numpy(), data["patient"].to_numpy(), random_slope=False)
    np.testing.assert_allclose(fit.params, reference.fe_params.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_params)), reference.bse_fe.to_numpy(), rtol=1e-3)
    assert fit.cov_re[0, 0] == pytest.approx(reference.cov_re.iloc[0, 0], rel=1e-3)
    assert fit.scale == pytest.approx(reference.scale, rel=1e-4)


def _scores(data: pd.DataFrame, indication: str, instrument: str) -> pl.DataFrame:
    return pl.DataFrame({"patient_id": [f"{indication}-{p}" for p in data["patient"]], "course_number": 1,
                         "indication": indication, "instrument": instrument, "weeks": data["weeks"].to_numpy(),
                         "score": data["score"].to_numpy()})


def test_trajectories_fall_back_to_a_random_intercept_when_slopes_do_not_vary():
    rng = np.random.default_rng(3)
    varying, flat = _panel(rng, 300, 0.8), _panel(rng, 300, 0.0)
    table = fit_trajectories(pl.concat([_scores(varying, "TRD", "PHQ9"), _scores(flat, "PTSD", "PCL5")]),
                             alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    models = dict(table.select("indication", "model").unique().rows())
    assert models == {"TRD": SLOPE_MODEL, "PTSD": INTERCEPT_MODEL}
    assert set(table["status"]) == {"ok"}
    slope = table.filter((pl.col("indication") == "PTSD") & (pl.col("term") == "weeks_since_first_session")).row(
        0, named=True)
    assert slope["ci_low"] < -1.5 < slope["ci_high"]  # the planted population slope
    assert "sd_slope" not in table.filter(pl.col("indication") == "PTSD")["term"].to_list()


def test_trajectories_mark_a_cell_with_few_patients_too_few():
    rng = np.random.default_rng(4)
    table = fit_trajectories(pl.concat([_scores(_panel(rng, 200, 0.5), "TRD", "PHQ9"),
                                        _scores(_panel(rng, 3, 0.5), "OCD", "PHQ9")]),
                             alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    ocd = table.filter(pl.col("indication") == "OCD")
    assert (ocd.height, ocd["status"][0], ocd["patients"][0], ocd["estimate"][0]) == (1, "too_few", 3, None)


def test_trajectories_say_so_when_the_scores_mart_is_missing():
    table = fit_trajectories(None, alpha=DEFS.alpha, min_cell_size=DEFS.min_cell_size)
    assert table.rows() == [("all", "all", "(model)", None, None, None, None, None, None, None, SCORES_MISSING)]
