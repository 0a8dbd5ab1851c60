"""Durability of response: Kaplan-Meier by indication and a Cox model, on each course's primary instrument.

Duration is days_to_event from the endpoint date; the event is loss of response (definitions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.design import prepare_design
from analysis.intervals import km_loglog_ci
from analysis.response import REFERENCE_INDICATION, with_severity_z
from analysis.tidy import OK, RATIOS_SCHEMA, TOO_FEW, conform, guarded_fit, model_row, tidy_ratios

ALL = "all"
# Share still responding at 4 and 8 weeks: what McInnes 2022 reports and clinics track (domain-facts.md).
MILESTONE_DAYS = (28, 56)
AT_RISK_DAYS = tuple(range(0, 169, 28))  # the at-risk table under the KM figure: every 4 weeks to 24 weeks
COX_MODEL = "cox_efron_robust_by_patient"

KM_SCHEMA: dict[str, pl.DataType] = {
    "indication": pl.String(), "statistic": pl.String(), "day": pl.Int64(), "estimate": pl.Float64(),
    "ci_low": pl.Float64(), "ci_high": pl.Float64(), "at_risk": pl.Int64(), "courses": pl.Int64(),
    "events": pl.Int64(), "status": pl.String(),
}


@dataclass(frozen=True)
class KmCurve:
    indication: str
    times: np.ndarray  # event times (days)
    survival: np.ndarray  # S just after each event time
    at_risk: dict[int, int]  # at-risk count at each AT_RISK_DAYS day


def thinned_steps(lost: np.ndarray, anchors: np.ndarray, min_cell_size: int) -> np.ndarray:
    """Which points of one Kaplan-Meier curve may be published, from the cumulative losses of response at each
    point (in time order). ``anchors`` are points published anyway (the 4- and 8-week shares): they are kept,
    and every other kept point lies min_cell_size or more losses after the previous kept point and before the
    next anchor. So each drop of the published curve stands for min_cell_size losses or more and no flat
    stretch says "none lost" (a weekly curve shows single losses, and zeros, as its steps). A first point
    before any loss (S = 1, known by definition) is kept. Greedy in time order."""
    keep = np.zeros(lost.size, bool)
    anchor_rows = np.flatnonzero(anchors)
    following = np.searchsorted(anchor_rows, np.arange(lost.size), side="right")  # the next anchor after each
    last = 0.0
    for i, value in enumerate(lost):
        if anchors[i] or (i == 0 and value == 0):
            keep[i], last = True, value
            continue
        room = lost[anchor_rows[following[i]]] - value if following[i] < anchor_rows.size else np.inf
        if value - last >= min_cell_size and room >= min_cell_size:
            keep[i], last = True, value
    return keep


def _step(values: np.ndarray, times: np.ndarray, day: float, before: float) -> float:
    """A right-continuous step function (KM) at `day`: `before` until the first jump."""
    index = int(np.searchsorted(times, day, side="right")) - 1
    return before if index < 0 else float(values[index])


def kaplan_meier(indication: str, days: np.ndarray, lost: np.ndarray, *, alpha: float,
                 days_of_interest: Sequence[int]) -> tuple[list[dict], KmCurve]:
    """Median (Brookmeyer-Crowley on the log-log scale) and S(t) with log-log intervals at the given days."""
    fit = SurvfuncRight(days.astype(np.float64), lost.astype(np.float64))
    base = {"indication": indication, "courses": int(days.size), "events": int(lost.sum()), "status": OK}
    median = float(fit.quantile(0.5))
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) at S = 1 or 0 only widens the band
        low, high = fit.quantile_ci(0.5, alpha=alpha, method="cloglog")
    rows = [{**base, "statistic": "median_days", "estimate": median if np.isfinite(median) else None,
             "ci_low": float(low) if np.isfinite(low) else None, "ci_high": float(high) if np.isfinite(high) else None}]
    wanted = sorted(set(days_of_interest))
    survival = np.array([_step(fit.surv_prob, fit.surv_times, d, 1.0) for d in wanted])
    se = np.array([_step(fit.surv_prob_se, fit.surv_times, d, 0.0) for d in wanted])
    ci_low, ci_high = km_loglog_ci(survival, se, alpha)
    at_risk = {d: int(np.sum(days >= d)) for d in wanted}
    for i, day in enumerate(wanted):
        rows.append({**base, "statistic": "still_responding", "day": day, "estimate": float(survival[i]),
                     "ci_low": None if np.isnan(ci_low[i]) else float(ci_low[i]),
                     "ci_high": None if np.isnan(ci_high[i]) else float(ci_high[i]), "at_risk": at_risk[day]})
    return rows, KmCurve(indication, np.asarray(fit.surv_times), np.asarray(fit.surv_prob),
                         {d: at_risk[d] for d in AT_RISK_DAYS if d in at_risk})


def km_by_indication(durability: pl.DataFrame, *, alpha: float,
                     min_cell_size: int) -> tuple[pl.DataFrame, list[KmCurve]]:
    """Kaplan-Meier per indication and over all; fewer responding courses than min_cell_size is 'too_few'."""
    groups = [(str(k[0]), g) for k, g in durability.group_by("indication")]
    groups = sorted(groups) + [(ALL, durability)]
    rows: list[dict] = []
    curves: list[KmCurve] = []
    days_of_interest = sorted({*MILESTONE_DAYS, *AT_RISK_DAYS})
    for indication, group in groups:
        group = group.drop_nulls(["days_to_event", "lost_response"])
        if group.height < min_cell_size:
            rows.append({"indication": indication, "statistic": "median_days", "courses": group.height,
                         "events": int(group["lost_response"].sum()), "status": TOO_FEW})
            continue
        found, curve = kaplan_meier(indication, group["days_to_event"].to_numpy(),
                                    group["lost_response"].to_numpy(), alpha=alpha, days_of_interest=days_of_interest)
        rows += found
        curves.append(curve)
    return conform(rows, KM_SCHEMA), curves


def fit_durability_hazard_ratios(durability: pl.DataFrame, *, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """Hazard ratios of losing response (Cox, Efron ties as R does; robust SEs clustered by patient)."""
    # A course censored before the first loss of response is in no risk set at any event time: it adds
    # nothing to the partial likelihood, but statsmodels gives it a NaN score residual, which would
    # poison the robust covariance. Leaving it out changes no estimate.
    first_loss = durability.filter(pl.col("lost_response"))["days_to_event"].min()
    informative = durability.filter(pl.col("lost_response") | (pl.col("days_to_event") >= first_loss)) \
        if first_loss is not None else durability
    frame = with_severity_z(informative).with_columns(lost=pl.col("lost_response").cast(pl.Float64),
                                                      site=pl.col("site_id"))
    design = prepare_design(
        frame, model=COX_MODEL, cluster="patient_id",
        categorical={"indication": REFERENCE_INDICATION, "sex": None, "route": None, "site": None},
        continuous=["age_per_10_years", "baseline_severity_z"], keep=["days_to_event", "lost"],
        signal=pl.col("lost").sum() > 0, min_clusters=min_cell_size)
    observations, clusters = design.observations, design.clusters("patient_id")
    if design.problem is not None:
        return conform([model_row(design.problem, COX_MODEL, observations=observations, clusters=clusters),
                        *design.skipped], RATIOS_SCHEMA)
    data = design.data
    groups = data["patient_id"].astype("category").cat.codes.to_numpy()
    result, status = guarded_fit(lambda: PHReg.from_formula(
        f"days_to_event ~ {' + '.join(design.terms)}", data, status=data["lost"].to_numpy(), ties="efron",
    ).fit(groups=groups))
    if result is None:
        return conform([model_row(status, COX_MODEL, observations=observations, clusters=clusters),
                        *design.skipped], RATIOS_SCHEMA)
    table = tidy_ratios(result, model=COX_MODEL, alpha=alpha, references=design.references,
                        observations=observations, clusters=clusters)
    return pl.concat([table, conform(design.skipped, RATIOS_SCHEMA)])
