"""Adverse-event rates per 100 sessions (exact Poisson intervals) and a patient-clustered rate model."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.design import UNKNOWN, prepare_design
from analysis.gee import fit_gee
from analysis.intervals import poisson_exact_ci
from analysis.tidy import NOT_CONVERGED, OK, RATIOS_SCHEMA, TOO_FEW, conform, guarded_fit, model_row, tidy_ratios

SOURCES = ("reported", "derived", "all")
SEVERITIES = ("serious_or_severe", "not_serious", "ungraded")  # fct_adverse_events.serious_or_severe
EXPOSURE_STRATA = ("route", "site", "phase", "dose_band")  # strata that split the sessions as well as the events
RATE_MODEL = "gee_poisson_exchangeable"

AE_RATES_SCHEMA: dict[str, pl.DataType] = {
    "stratum_type": pl.String(), "stratum": pl.String(), "source": pl.String(), "events": pl.Int64(),
    "sessions": pl.Int64(), "rate_per_100": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(),
    "status": pl.String(),
}


def dose_band_label(index: int | None, edges: Sequence[float]) -> str:
    """Band i holds doses in [edges[i-1], edges[i]) mg/kg; None (no weight) is 'unknown'."""
    if index is None:
        return UNKNOWN
    if index == 0:
        return f"<{edges[0]:g}"
    if index >= len(edges):
        return f">={edges[-1]:g}"
    return f"{edges[index - 1]:g}-<{edges[index]:g}"


def dose_band_labels(edges: Sequence[float]) -> dict[int, str]:
    """Every band's label by its index (the number of edges at or below the dose)."""
    return {i: dose_band_label(i, edges) for i in range(len(edges) + 1)}


def _labelled(cells: pl.DataFrame, edges: Sequence[float]) -> pl.DataFrame:
    """Cells with one string column per exposure stratum; missing values become 'unknown'."""
    bands = dose_band_labels(edges)
    return cells.with_columns(
        site=pl.col("site_id").fill_null(UNKNOWN), route=pl.col("route").fill_null(UNKNOWN),
        phase=pl.col("phase").fill_null(UNKNOWN),
        dose_band=pl.col("dose_band").replace_strict(bands, default=UNKNOWN, return_dtype=pl.String),
    )


def _with_all_source(events: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    both = events.group_by(keys).agg(pl.col("events").sum()).with_columns(source=pl.lit("all"))
    return pl.concat([events.select([*keys, "source", "events"]), both.select([*keys, "source", "events"])])


def ae_rates(session_cells: pl.DataFrame, event_cells: pl.DataFrame, *, event_terms: Sequence[str],
             alpha: float, min_cell_size: int, dose_band_edges: Sequence[float]) -> pl.DataFrame:
    """Events per 100 sessions by stratum and source, with exact Poisson intervals.

    Strata: overall; event_term and severity (denominator: all sessions); route, site, phase and dose band
    (denominator: that stratum's sessions). Every event term of the seed appears for 'reported' and 'all',
    with a valid upper bound at zero events; 'derived' rows appear for terms and severities that have
    derived events (only vitals rules derive events). A stratum with fewer sessions than min_cell_size is
    marked 'too_few' (its interval is still exact).
    """
    sessions, events = _labelled(session_cells, dose_band_edges), _labelled(event_cells, dose_band_edges)
    total = int(sessions["sessions"].sum())
    parts = []
    for stratum_type, column in (("overall", None), ("event_term", "event_term"), ("severity", "severity")):
        key = pl.lit("all") if column is None else pl.col(column)
        counts = _with_all_source(events.with_columns(stratum=key).group_by("stratum", "source")
                                  .agg(pl.col("events").sum()), ["stratum"])
        levels = ["all"] if column is None else sorted(
            set(event_terms if column == "event_term" else SEVERITIES) | set(counts["stratum"].to_list()))
        grid = pl.DataFrame({"stratum": levels}).join(pl.DataFrame({"source": list(SOURCES)}), how="cross")
        rows = grid.join(counts, on=["stratum", "source"], how="left").with_columns(pl.col("events").fill_null(0))
        if column is not None:  # derived rows only where the vitals rules derived something
            rows = rows.filter((pl.col("source") != "derived") | (pl.col("events") > 0))
        parts.append(rows.with_columns(stratum_type=pl.lit(stratum_type), sessions=pl.lit(total, pl.Int64)))
    for stratum_type in EXPOSURE_STRATA:
        denominators = sessions.group_by(stratum_type).agg(pl.col("sessions").sum()).rename({stratum_type: "stratum"})
        counts = _with_all_source(events.rename({stratum_type: "stratum"}).group_by("stratum", "source")
                                  .agg(pl.col("events").sum()), ["stratum"])
        grid = denominators.join(pl.DataFrame({"source": list(SOURCES)}), how="cross")
        rows = grid.join(counts, on=["stratum", "source"], how="left").with_columns(pl.col("events").fill_null(0))
        parts.append(rows.with_columns(stratum_type=pl.lit(stratum_type)))
    table = pl.concat([p.select("stratum_type", "stratum", "source", pl.col("events").cast(pl.Int64),
                                pl.col("sessions").cast(pl.Int64)) for p in parts])
    low, high = poisson_exact_ci(table["events"].to_numpy(), table["sessions"].to_numpy(), alpha)
    order = {name: i for i, name in enumerate(("overall", "event_term", "severity", *EXPOSURE_STRATA))}
    table = table.with_columns(
        rate_per_100=100.0 * pl.col("events") / pl.col("sessions"),
        ci_low=pl.Series(100.0 * low), ci_high=pl.Series(100.0 * high),
        status=pl.when(pl.col("sessions") < min_cell_size).then(pl.lit(TOO_FEW)).otherwise(pl.lit(OK)),
        _type=pl.col("stratum_type").replace_strict(order, return_dtype=pl.Int64),
        _source=pl.col("source").replace_strict({s: i for i, s in enumerate(SOURCES)}, return_dtype=pl.Int64),
    ).sort("_type", "stratum", "_source")
    return conform(table, AE_RATES_SCHEMA)


def fit_ae_rate_ratios(exposure: pl.DataFrame, *, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """Rate ratios of all adverse events (reported and derived) from a Poisson GEE.

    One row per patient, course and route with its sessions as exposure (log offset): the same
    estimate as a session-level fit, in a fraction of the time (stack-notes). Exchangeable correlation
    within a patient; robust (sandwich) intervals, which also cover over-dispersion, so the Poisson
    mean model needs no negative-binomial alpha. Fitted by analysis.gee (statsmodels' algorithm, vectorised).
    """
    design = prepare_design(
        exposure, model=RATE_MODEL, cluster="patient_id",
        categorical={"route": None, "sex": None, "substance_use_history": "false"},
        continuous=["dose_mg_per_kg", "age_per_10_years"], keep=["events", "sessions"],
        signal=pl.col("events").sum() > 0, min_clusters=min_cell_size)
    if design.problem is not None:
        return _with_skipped(design.skipped, model_row(design.problem, RATE_MODEL, observations=design.observations,
                                                       clusters=design.clusters("patient_id")))
    data = design.data
    result, status = guarded_fit(lambda: fit_gee(f"events ~ {' + '.join(design.terms)}", data, groups="patient_id",
                                                 family="poisson", exposure="sessions"))
    observations, clusters = design.observations, design.clusters("patient_id")
    if result is not None and not getattr(result, "converged", True):
        result, status = None, NOT_CONVERGED
    if result is None:
        return _with_skipped(design.skipped, model_row(status, RATE_MODEL, observations=observations,
                                                       clusters=clusters))
    table = tidy_ratios(result, model=RATE_MODEL, alpha=alpha, references=design.references,
                        observations=observations, clusters=clusters)
    return pl.concat([table, conform(design.skipped, RATIOS_SCHEMA)])


def _with_skipped(skipped: list[dict], row: dict) -> pl.DataFrame:
    return conform([row, *skipped], RATIOS_SCHEMA)
