"""Response and remission by indication on each course's primary instrument, and adjusted odds ratios."""

from __future__ import annotations

import polars as pl

from analysis.design import prepare_design
from analysis.gee import fit_gee
from analysis.intervals import wilson_ci
from analysis.tidy import NOT_CONVERGED, OK, RATIOS_SCHEMA, TOO_FEW, conform, guarded_fit, model_row, tidy_ratios

ALL = "all"
REFERENCE_INDICATION = "TRD"  # issue #5: odds ratios against treatment-resistant depression
ODDS_MODEL = "gee_logit_exchangeable"

RESPONSE_SCHEMA: dict[str, pl.DataType] = {
    "indication": pl.String(), "instrument": pl.String(), "courses": pl.Int64(), "responders": pl.Int64(),
    "response_rate": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(), "remitters": pl.Int64(),
    "remission_rate": pl.Float64(), "remission_ci_low": pl.Float64(), "remission_ci_high": pl.Float64(),
    "status": pl.String(),
}


def response_by_indication(courses: pl.DataFrame, *, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """Wilson intervals for response and remission among evaluable courses.

    Rows per indication and primary instrument, per indication over its primary instruments
    (instrument 'all': what truth.json plants), and over all indications. An indication with fewer
    evaluable courses than min_cell_size keeps its numbers but is marked 'too_few'.
    """
    counts = [pl.len().alias("courses"), pl.col("responder").sum().alias("responders"),
              pl.col("remitter").sum().alias("remitters")]
    by_instrument = courses.group_by("indication", "instrument").agg(counts)
    by_indication = courses.group_by("indication").agg(counts).with_columns(instrument=pl.lit(ALL))
    overall = courses.select(counts).with_columns(indication=pl.lit(ALL), instrument=pl.lit(ALL))
    columns = ["indication", "instrument", "courses", "responders", "remitters"]
    table = pl.concat([f.select(columns).cast({"courses": pl.Int64, "responders": pl.Int64, "remitters": pl.Int64})
                       for f in (by_instrument, by_indication, overall)])
    table = table.sort(pl.col("indication") == ALL, "indication", pl.col("instrument") == ALL, "instrument")
    n = table["courses"].to_numpy()
    low, high = wilson_ci(table["responders"].to_numpy(), n, alpha)
    rlow, rhigh = wilson_ci(table["remitters"].to_numpy(), n, alpha)
    table = table.with_columns(
        response_rate=pl.col("responders") / pl.col("courses"), ci_low=pl.Series(low), ci_high=pl.Series(high),
        remission_rate=pl.col("remitters") / pl.col("courses"), remission_ci_low=pl.Series(rlow),
        remission_ci_high=pl.Series(rhigh),
        status=pl.when(pl.col("courses") < min_cell_size).then(pl.lit(TOO_FEW)).otherwise(pl.lit(OK)),
    )
    return conform(table, RESPONSE_SCHEMA)


def with_severity_z(frame: pl.DataFrame) -> pl.DataFrame:
    """Baseline severity as a z-score within instrument, so courses scored on different scales compare."""
    mean, sd = pl.col("baseline_score").mean().over("instrument"), pl.col("baseline_score").std().over("instrument")
    return frame.with_columns(
        baseline_severity_z=pl.when(sd > 0).then((pl.col("baseline_score") - mean) / sd).otherwise(0.0))


def fit_response_odds_ratios(courses: pl.DataFrame, *, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """Odds ratios of response against TRD from a logistic GEE clustered by patient (exchangeable).

    Adjusted for age, sex, route of the first session, site and baseline severity (z within instrument).
    """
    frame = with_severity_z(courses).with_columns(responded=pl.col("responder").cast(pl.Float64),
                                                  site=pl.col("site_id"))
    design = prepare_design(
        frame, model=ODDS_MODEL, cluster="patient_id",
        categorical={"indication": REFERENCE_INDICATION, "sex": None, "route": None, "site": None},
        continuous=["age_per_10_years", "baseline_severity_z"], keep=["responded"],
        signal=pl.col("responded").max() > pl.col("responded").min(), min_clusters=min_cell_size)
    observations, clusters = design.observations, design.clusters("patient_id")
    if design.problem is not None:
        return conform([model_row(design.problem, ODDS_MODEL, observations=observations, clusters=clusters),
                        *design.skipped], RATIOS_SCHEMA)
    data = design.data
    result, status = guarded_fit(lambda: fit_gee(f"responded ~ {' + '.join(design.terms)}", data,
                                                 groups="patient_id", family="binomial"))
    if result is not None and not getattr(result, "converged", True):
        result, status = None, NOT_CONVERGED
    if result is None:
        return conform([model_row(status, ODDS_MODEL, observations=observations, clusters=clusters),
                        *design.skipped], RATIOS_SCHEMA)
    table = tidy_ratios(result, model=ODDS_MODEL, alpha=alpha, references=design.references,
                        observations=observations, clusters=clusters)
    return pl.concat([table, conform(design.skipped, RATIOS_SCHEMA)])
