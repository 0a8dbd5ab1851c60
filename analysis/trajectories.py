"""Score trajectories: a linear mixed model of score on weeks since the course's first session.

One model per indication and primary instrument, with a random intercept and slope per patient, over
the scores from the baseline window to the end of the endpoint window (definitions). When the slope
variance lands on the boundary (zero, or intercept and slope perfectly correlated) or the fit does not
converge, the model falls back to a random intercept (stack-notes, MixedLM) and says so in `model`.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from analysis.intervals import normal_quantile
from analysis.lmm import LmmFit, fit_lmm
from analysis.tidy import NOT_CONVERGED, OK, TOO_FEW, conform, failed

SLOPE_MODEL = "lmm_reml_random_intercept_slope"
INTERCEPT_MODEL = "lmm_reml_random_intercept"
SCORES_MISSING = "failed: marts.fct_assessment_scores is not built"
WEEK_TERM = "weeks_since_first_session"

TRAJECTORY_SCHEMA: dict[str, pl.DataType] = {
    "indication": pl.String(), "instrument": pl.String(), "term": pl.String(), "estimate": pl.Float64(),
    "ci_low": pl.Float64(), "ci_high": pl.Float64(), "p_value": pl.Float64(), "patients": pl.Int64(),
    "scores": pl.Int64(), "model": pl.String(), "status": pl.String(),
}


def fit_trajectories(scores: pl.DataFrame | None, *, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """Fixed effects (intercept at week 0, change per week) with Wald intervals, and the variance components."""
    if scores is None:
        return conform([{"indication": "all", "instrument": "all", "term": "(model)", "status": SCORES_MISSING}],
                       TRAJECTORY_SCHEMA)
    rows: list[dict] = []
    for (indication, instrument), cell in sorted(scores.group_by("indication", "instrument"),
                                                 key=lambda item: (str(item[0][0]), str(item[0][1]))):
        rows += _fit_cell(str(indication), str(instrument), cell, alpha=alpha, min_cell_size=min_cell_size)
    return conform(rows, TRAJECTORY_SCHEMA)


def _fit_cell(indication: str, instrument: str, cell: pl.DataFrame, *, alpha: float,
              min_cell_size: int) -> list[dict]:
    cell = cell.drop_nulls(["weeks", "score"])
    patients, count = cell["patient_id"].n_unique(), cell.height
    base = {"indication": indication, "instrument": instrument, "patients": patients, "scores": count}
    if patients < min_cell_size:
        return [{**base, "term": "(model)", "model": SLOPE_MODEL, "status": TOO_FEW}]
    y = cell["score"].to_numpy().astype(np.float64)
    x = cell["weeks"].to_numpy().astype(np.float64)
    codes = cell["patient_id"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    codes = np.unique(codes, return_inverse=True)[1]
    if np.ptp(x) == 0:
        return [{**base, "term": "(model)", "model": SLOPE_MODEL, "status": failed("no spread in weeks")}]
    try:
        fit = fit_lmm(y, x, codes, random_slope=True)
        if not fit.converged or fit.boundary:
            fit = fit_lmm(y, x, codes, random_slope=False)
    except np.linalg.LinAlgError as exc:
        return [{**base, "term": "(model)", "model": SLOPE_MODEL, "status": failed(f"linear algebra: {exc}")}]
    model = SLOPE_MODEL if fit.random_slope else INTERCEPT_MODEL
    if not fit.converged:
        return [{**base, "term": "(model)", "model": model, "status": NOT_CONVERGED}]
    return [{**base, **row, "model": model, "status": OK} for row in _terms(fit, alpha)]


def _terms(fit: LmmFit, alpha: float) -> list[dict]:
    z = normal_quantile(alpha)
    se = np.sqrt(np.diag(fit.cov_params))
    rows = []
    for name, estimate, error in zip(("intercept", WEEK_TERM), fit.params, se, strict=True):
        rows.append({"term": name, "estimate": float(estimate), "ci_low": float(estimate - z * error),
                     "ci_high": float(estimate + z * error),
                     "p_value": float(2 * stats.norm.sf(abs(estimate / error))) if error > 0 else None})
    sd = np.sqrt(np.diag(fit.cov_re))
    rows.append({"term": "sd_intercept", "estimate": float(sd[0])})
    if fit.random_slope:
        rows.append({"term": "sd_slope", "estimate": float(sd[1])})
        corr = fit.cov_re[0, 1] / (sd[0] * sd[1]) if sd[0] > 0 and sd[1] > 0 else None
        rows.append({"term": "corr_intercept_slope", "estimate": None if corr is None else float(corr)})
    rows.append({"term": "sd_residual", "estimate": float(np.sqrt(fit.scale))})
    return rows


def observed_means(scores: pl.DataFrame) -> pl.DataFrame:
    """Mean score per indication, instrument and whole week, for the figure beside the fitted lines."""
    return (scores.with_columns(week=pl.col("weeks").round(0))
            .group_by("indication", "instrument", "week")
            .agg(mean_score=pl.col("score").mean(), scores=pl.len())
            .sort("indication", "instrument", "week"))
