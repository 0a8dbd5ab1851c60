"""The published tables: cube cells suppressed (analysis/suppression.py), then estimates and intervals.

Counts are suppressed first, on the long cube of every filter combination; an estimate is computed only
where the counts it rests on are shown, so no rate or interval gives a hidden count away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from analysis.durability import thinned_steps
from analysis.intervals import km_loglog_ci, poisson_exact_ci, wilson_ci
from analysis.publish.grid import CUBE, Grid, complete
from analysis.rates import dose_band_labels
from analysis.suppression import ALL, COUNT, MEASURE, Dimension, calendar, flat, suppress
from core.definitions import Definitions

SCHEMA_VERSION = "2"  # 2: zeros are suppressed like any count below min_cell_size; every grid cell is present
CURVE_WEEKS = 52  # Kaplan-Meier curves are published weekly up to a year after the endpoint
AT_RISK_WEEKS = (4, 8, 12, 26, 52)  # numbers at risk printed beneath the curves (week 0 is the responders)
TREND_WEEKS = (4, 8)  # "still responding at 4 and 8 weeks", also published per month for the trends
TRAJECTORY_WEEKS = 12  # score trajectories: weeks 1..12 after the first session (induction and its endpoint)

COURSE_MEASURES = ("patients", "patients_dx_unmapped", "courses", "courses_completed_induction",
                   "courses_with_baseline", "courses_with_endpoint", "courses_evaluable", "responders", "remitters")
SESSION_MEASURES = ("sessions", "sessions_severe_hypertension", "sessions_missing_vitals",
                    "sessions_with_sbp_rise", "sessions_with_cadss")
# (subset, superset) counted in the same cell: their difference is a count too, so it is protected.
COURSE_LINKS = (
    ("patients_dx_unmapped", "patients"), ("patients", "courses"), ("courses_completed_induction", "courses"),
    ("courses_with_baseline", "courses"), ("courses_with_endpoint", "courses"),
    ("courses_evaluable", "courses_with_baseline"), ("courses_evaluable", "courses_with_endpoint"),
    ("responders", "courses_evaluable"), ("remitters", "courses_evaluable"),
    ("at_risk_w04", "responders"), ("at_risk_w08", "at_risk_w04"), ("at_risk_w12", "at_risk_w08"),
    ("at_risk_w26", "at_risk_w12"), ("at_risk_w52", "at_risk_w26"),
)
SESSION_LINKS = tuple((m, "sessions") for m in SESSION_MEASURES[1:])


@dataclass(frozen=True)
class Metric:
    """One headline figure of the cube: a count, a proportion, a rate per 100 sessions or a KM estimate."""

    name: str
    unit: str  # 'count', 'proportion', 'per_100_sessions', 'km_proportion'
    numerator: str
    denominator: str | None = None


METRICS = (
    Metric("patients", "count", "patients"),
    Metric("courses", "count", "courses"),
    Metric("sessions", "count", "sessions"),
    Metric("induction_completion", "proportion", "courses_completed_induction", "courses"),
    Metric("response", "proportion", "responders", "courses_evaluable"),
    Metric("remission", "proportion", "remitters", "courses_evaluable"),
    Metric("still_responding_4w", "km_proportion", "at_risk_w04", "responders"),
    Metric("still_responding_8w", "km_proportion", "at_risk_w08", "responders"),
    Metric("severe_hypertension", "per_100_sessions", "sessions_severe_hypertension", "sessions"),
    Metric("adverse_events", "per_100_sessions", "events", "sessions"),
    Metric("baseline_completion", "proportion", "courses_with_baseline", "courses"),
    Metric("endpoint_completion", "proportion", "courses_with_endpoint", "courses"),
    Metric("missing_vitals", "proportion", "sessions_missing_vitals", "sessions"),
    Metric("dx_unmapped", "proportion", "patients_dx_unmapped", "patients"),
)


# ---- suppression ---------------------------------------------------------------------------------------------

def _time(frame: pl.DataFrame) -> pl.DataFrame:
    """One time column for the suppression engine: the month, else the year, else 'All'."""
    return frame.with_columns(_time=pl.when(pl.col("month") != ALL).then(pl.col("month")).otherwise(pl.col("period")))


def suppressed_wide(wide: pl.DataFrame, keys: Sequence[str], measures: Sequence[str],
                     links: Sequence[tuple[str, str]], min_cell_size: int,
                     period_only: Sequence[str] = ()) -> pl.DataFrame:
    """The cube's count columns with every suppressed count null, other columns dropped.

    ``period_only`` measures are published for whole periods, not months: their month rows are not cells.
    """
    extra = [c for c in keys if c not in ("period", "month")]
    dims: list[Dimension] = [*(flat(c) for c in extra), calendar("_time")]
    cells = _time(wide).unpivot(index=[*keys, "_time"], on=list(measures), variable_name=MEASURE, value_name=COUNT)
    cells = cells.filter(~(pl.col(MEASURE).is_in(list(period_only)) & (pl.col("month") != ALL)))
    # Sorted, so the greedy choice of companions (ties broken by row order) is the same at every publish of the
    # same data: two different patterns over one table could be combined to recover what each one hides.
    cells = cells.sort([*keys, MEASURE])
    marked = suppress(cells, dims, min_cell_size=min_cell_size, linked=links)
    shown = marked.with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(COUNT)).alias(COUNT))
    return shown.pivot(on=MEASURE, index=list(keys), values=COUNT).select(*keys, *measures)


def suppressed_courses(cube: pl.DataFrame, km: pl.DataFrame, grid: Grid, min_cell_size: int) -> pl.DataFrame:
    """Course counts plus the Kaplan-Meier numbers at risk, suppressed together (they are nested counts)."""
    cube = complete(cube, grid.cells(), COURSE_MEASURES)
    at_risk = km.filter(pl.col("week").is_in(list(AT_RISK_WEEKS))).select(
        *CUBE, pl.format("at_risk_w{}", pl.col("week").cast(pl.String).str.zfill(2)).alias("w"), "at_risk"
    ).pivot(on="w", index=list(CUBE), values="at_risk")
    names = [f"at_risk_w{w:02d}" for w in AT_RISK_WEEKS]
    for name in names:
        if name not in at_risk.columns:
            at_risk = at_risk.with_columns(pl.lit(None, pl.Int64).alias(name))
    wide = cube.join(at_risk, on=list(CUBE), how="left").with_columns(pl.col(names).fill_null(0))
    period_only = [f"at_risk_w{w:02d}" for w in AT_RISK_WEEKS if w not in TREND_WEEKS]
    return suppressed_wide(wide, CUBE, [*COURSE_MEASURES, *names], COURSE_LINKS, min_cell_size, period_only)


def sessions_on_grid(cube: pl.DataFrame, grid: Grid, dose_band_edges: Sequence[float]) -> pl.DataFrame:
    """The session cube on every month (dose band 'All') and on every dose band of every period (as the SQL
    groups them), before the bands are labelled."""
    bands = [str(i) for i in range(len(dose_band_edges) + 1)] + ["unknown"]
    every_month = grid.cells().with_columns(dose_band=pl.lit(ALL))
    every_band = grid.cells(months=False).join(pl.DataFrame({"dose_band": bands}), how="cross")
    return complete(cube, pl.concat([every_month, every_band]), SESSION_MEASURES)


def events_on_grid(cube: pl.DataFrame, grid: Grid, terms: Sequence[tuple[str, bool]]) -> pl.DataFrame:
    """The event cube on every (term, source) the seed allows, (term, derivable): all sources for periods,
    sources together for months (the u-chart's, the only monthly view of terms)."""
    pairs = [(ALL, ALL), (ALL, "reported"), (ALL, "derived")]
    for term, derivable in terms:
        pairs += [(term, ALL), (term, "reported")] + ([(term, "derived")] if derivable else [])
    kinds = pl.DataFrame({"event_term": [p for p, _ in pairs], "source": [s for _, s in pairs]})
    periods = grid.cells(months=False).join(kinds, how="cross")
    months = grid.cells().filter(pl.col("month") != ALL).join(kinds.filter(pl.col("source") == ALL), how="cross")
    cube = cube.filter((pl.col("month") == ALL) | (pl.col("source") == ALL))
    return complete(cube, pl.concat([periods, months]), ["events"])


# ---- estimates -----------------------------------------------------------------------------------------------

def metrics(cells: pl.DataFrame, km: pl.DataFrame, alpha: float, min_cell_size: int) -> pl.DataFrame:
    trend = km.filter(pl.col("week").is_in(list(TREND_WEEKS))).select(*CUBE, "week", "surv", "greenwood", "lost")
    parts = []
    # per cell, the losses behind the last Kaplan-Meier share shown (4 weeks, then 8): the next one is shown only
    # min_cell_size losses further on, or S(8w) / S(4w) would give the few lost in between back
    shown_lost = cells.select(*CUBE, pl.lit(0, pl.Int64).alias("lost_before"))
    for metric in METRICS:
        denominator = pl.col(metric.denominator) if metric.denominator else pl.lit(None, pl.Int64)
        frame = cells.select(*CUBE, pl.col(metric.numerator).alias("numerator"), denominator.alias("denominator"))
        if metric.unit == "km_proportion":
            week = int(metric.numerator[-2:])
            frame = frame.join(trend.filter(pl.col("week") == week).drop("week"), on=list(CUBE), how="left",
                               maintain_order="left").join(shown_lost, on=list(CUBE), how="left",
                                                           maintain_order="left")
        estimate = _estimate(frame, metric, alpha, min_cell_size)
        if metric.unit == "km_proportion":
            shown_lost = frame.select(*CUBE, pl.when(pl.Series(~estimate["suppressed"].to_numpy()))
                                      .then(pl.col("lost").fill_null(0)).otherwise(pl.col("lost_before"))
                                      .alias("lost_before"))
        parts.append(estimate)
    return pl.concat(parts).sort([*CUBE, "metric"])


def cells(courses: pl.DataFrame, sessions: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Course, session and event counts side by side per cube cell. The three cubes were completed on the same
    grid and suppressed, so every cell is in each: nothing is filled in after suppression."""
    out = courses
    for frame in (sessions, events):
        out = out.join(frame, on=list(CUBE), how="inner")
    if not out.height == courses.height == sessions.height == events.height:
        raise ValueError("the course, session and event cubes do not cover the same cells")
    return out


def _estimate(frame: pl.DataFrame, metric: Metric, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """Estimate and interval where both counts are shown and the denominator is positive. A Kaplan-Meier
    estimate is also withheld when fewer than min_cell_size responses (zero included) were lost by that week
    since the previous share shown (``lost_before``): with the responders shown, 1 - S(t), or the ratio of two
    shares, would give that small count back."""
    n = frame["numerator"].fill_null(0).to_numpy().astype(np.float64)
    d = frame["denominator"].fill_null(0).to_numpy().astype(np.float64)
    hidden = (frame["numerator"].is_null() | frame["denominator"].is_null()).to_numpy()
    if metric.unit == "count":
        hidden = frame["numerator"].is_null().to_numpy()
        estimate, low, high = n, np.full(n.shape, np.nan), np.full(n.shape, np.nan)
    elif metric.unit == "proportion":
        estimate = np.divide(n, d, out=np.full(n.shape, np.nan), where=d > 0)
        low, high = wilson_ci(n, d, alpha)
    elif metric.unit == "per_100_sessions":
        estimate = np.divide(100 * n, d, out=np.full(n.shape, np.nan), where=d > 0)
        low, high = poisson_exact_ci(n, d / 100, alpha)
    else:  # km_proportion: S(t) with a log-log interval from Greenwood's variance
        estimate = frame["surv"].fill_null(np.nan).to_numpy()
        se = estimate * np.sqrt(frame["greenwood"].fill_null(np.nan).to_numpy())
        low, high = km_loglog_ci(estimate, se, alpha)
        no_responders = d <= 0
        estimate = np.where(no_responders, np.nan, estimate)
        losses = frame["lost"].fill_null(0).to_numpy() - frame["lost_before"].fill_null(0).to_numpy()
        hidden = hidden | (losses < min_cell_size)
    keep = ~hidden
    return pl.DataFrame({
        **{c: frame[c] for c in CUBE},
        "metric": [metric.name] * frame.height,
        "unit": [metric.unit] * frame.height,
        "numerator": frame["numerator"].cast(pl.Int64),
        "denominator": frame["denominator"].cast(pl.Int64),
        "estimate": _masked(estimate, keep),
        "ci_low": _masked(low, keep),
        "ci_high": _masked(high, keep),
        "suppressed": hidden,
    })


def _masked(values: np.ndarray, keep: np.ndarray) -> pl.Series:
    out = np.where(keep & np.isfinite(values), values, np.nan)
    return pl.Series(out, dtype=pl.Float64).fill_nan(None)


def event_rates(events: pl.DataFrame, sessions: pl.DataFrame, alpha: float) -> pl.DataFrame:
    frame = events.join(sessions.select(*CUBE, "sessions"), on=list(CUBE), how="left")
    n = frame["events"].fill_null(0).to_numpy().astype(np.float64)
    d = frame["sessions"].fill_null(0).to_numpy().astype(np.float64)
    hidden = (frame["events"].is_null() | frame["sessions"].is_null()).to_numpy()
    low, high = poisson_exact_ci(n, d / 100, alpha)
    rate = np.divide(100 * n, d, out=np.full(n.shape, np.nan), where=d > 0)
    return frame.select(*CUBE, "event_term", "source", "events", "sessions").with_columns(
        rate_per_100=_masked(rate, ~hidden), ci_low=_masked(low, ~hidden), ci_high=_masked(high, ~hidden),
        suppressed=pl.Series(hidden),
    ).sort([*CUBE, "event_term", "source"])


def _mean_ci(n: np.ndarray, mean: np.ndarray, sd: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """t interval of a mean; undefined below two values."""
    ok = n >= 2  # a standard deviation needs two values
    half = np.full(n.shape, np.nan)
    half[ok] = stats.t.ppf(1 - alpha / 2, n[ok] - 1) * sd[ok] / np.sqrt(n[ok])
    return mean - half, mean + half


def dose_response(raw: pl.DataFrame, shown: pl.DataFrame, alpha: float) -> pl.DataFrame:
    """Mean SBP rise and CADSS by dose band, where the number of sessions measured is shown."""
    frame = raw.filter(pl.col("month") == ALL).drop("sessions_with_sbp_rise", "sessions_with_cadss").join(
        shown.select(*CUBE, "dose_band", "sessions_with_sbp_rise", "sessions_with_cadss"),
        on=[*CUBE, "dose_band"], how="left")
    parts = []
    for measure, n_col, prefix in (("sbp_rise_mmhg", "sessions_with_sbp_rise", "sbp_rise"),
                                   ("cadss_total", "sessions_with_cadss", "cadss")):
        n = frame[n_col].fill_null(0).to_numpy().astype(np.float64)
        mean = frame[f"{prefix}_mean"].fill_null(np.nan).to_numpy()
        sd = frame[f"{prefix}_sd"].fill_null(np.nan).to_numpy()
        hidden = frame[n_col].is_null().to_numpy()
        low, high = _mean_ci(n, mean, sd, alpha)
        parts.append(frame.select(*CUBE[:4], "dose_band", pl.col(n_col).alias("sessions")).with_columns(
            measure=pl.lit(measure), mean=_masked(mean, ~hidden), ci_low=_masked(low, ~hidden),
            ci_high=_masked(high, ~hidden), suppressed=pl.Series(hidden)))
    return pl.concat(parts).sort([*CUBE[:4], "measure", "dose_band"])


def durability_curves(km: pl.DataFrame, courses: pl.DataFrame, metrics_table: pl.DataFrame, min_cell_size: int,
                      alpha: float) -> pl.DataFrame:
    """Kaplan-Meier estimates for cells whose responders are shown, while at least min_cell_size courses are
    still at risk, thinned by analysis.durability.thinned_steps around the 4- and 8-week shares the metrics
    table shows for the same cell."""
    frame = km.filter((pl.col("month") == ALL) & (pl.col("at_risk") >= min_cell_size)).join(
        courses.filter(pl.col("month") == ALL).select(*CUBE, "responders"), on=list(CUBE), how="inner"
    ).filter(pl.col("responders").is_not_null() & (pl.col("responders") > 0)).sort([*CUBE[:4], "week"])
    shown = metrics_table.filter((pl.col("month") == ALL) & (pl.col("unit") == "km_proportion")
                                 & ~pl.col("suppressed")).select(
        *CUBE[:4], pl.col("metric").str.extract(r"_(\d+)w$").cast(pl.Int32).alias("week"), pl.lit(True).alias("anchor"))
    frame = frame.join(shown, on=[*CUBE[:4], "week"], how="left", maintain_order="left").with_columns(
        pl.col("anchor").fill_null(False))
    frame = frame.filter(pl.Series(_thinned(frame, min_cell_size)))
    surv = frame["surv"].to_numpy()
    low, high = km_loglog_ci(surv, surv * np.sqrt(frame["greenwood"].to_numpy()), alpha)
    keep = np.ones(surv.shape, bool)
    return frame.select(*CUBE[:4], "week", "surv").with_columns(
        ci_low=_masked(low, keep), ci_high=_masked(high, keep)).sort([*CUBE[:4], "week"])


def _thinned(frame: pl.DataFrame, min_cell_size: int) -> np.ndarray:
    """thinned_steps per cell of ``frame`` (sorted by cell, then week)."""
    keep = np.zeros(frame.height, bool)
    cell = frame.select(pl.concat_str(list(CUBE[:4]), separator="|")).to_series()
    starts = np.flatnonzero(np.r_[True, (cell[1:].to_numpy() != cell[:-1].to_numpy())]) if frame.height else []
    ends = [*starts[1:], frame.height]
    lost, anchors = frame["lost"].to_numpy().astype(np.float64), frame["anchor"].to_numpy()
    for start, end in zip(starts, ends, strict=True):
        keep[start:end] = thinned_steps(lost[start:end], anchors[start:end], min_cell_size)
    return keep


def durability_at_risk(courses: pl.DataFrame) -> pl.DataFrame:
    names = {"responders": 0} | {f"at_risk_w{w:02d}": w for w in AT_RISK_WEEKS}
    frame = courses.filter(pl.col("month") == ALL).select(*CUBE[:4], *names).unpivot(
        index=list(CUBE[:4]), on=list(names), variable_name="w", value_name="at_risk")
    return frame.select(*CUBE[:4], pl.col("w").replace_strict(names, return_dtype=pl.Int32).alias("week"),
                        pl.col("at_risk").cast(pl.Int64), pl.col("at_risk").is_null().alias("suppressed")
                        ).sort([*CUBE[:4], "week"])


def score_trajectories(cube: pl.DataFrame, grid: Grid, min_cell_size: int, alpha: float) -> pl.DataFrame:
    """Mean % change from baseline by week; the number of courses scored that week is the count. Every week of
    every cell is published: a week left out would read as nobody scored."""
    keys = [*CUBE, "week"]
    weeks_grid = grid.cells(months=False).join(
        pl.DataFrame({"week": range(1, TRAJECTORY_WEEKS + 1)}, schema={"week": pl.Int32}), how="cross")
    cube = complete(cube.with_columns(pl.col("week").cast(pl.Int32)), weeks_grid, ["courses"])
    wide = cube.with_columns(pl.format("w{}", pl.col("week")).alias("wk")).pivot(
        on="wk", index=list(CUBE), values="courses")
    weeks = [c for c in wide.columns if c not in CUBE]
    shown = suppressed_wide(wide, CUBE, weeks, (), min_cell_size)
    counts = shown.unpivot(index=list(CUBE), on=weeks, variable_name="wk", value_name="shown").with_columns(
        week=pl.col("wk").str.slice(1).cast(pl.Int32))
    frame = cube.join(counts.drop("wk"), on=keys, how="left")
    n = frame["courses"].to_numpy().astype(np.float64)
    hidden = frame["shown"].is_null().to_numpy()
    mean = frame["mean"].fill_null(np.nan).to_numpy()
    low, high = _mean_ci(n, mean, frame["sd"].fill_null(np.nan).to_numpy(), alpha)
    return frame.select(*CUBE[:4], "week", pl.col("shown").cast(pl.Int64).alias("courses")).with_columns(
        mean_pct_change=_masked(100 * mean, ~hidden), ci_low=_masked(100 * low, ~hidden),
        ci_high=_masked(100 * high, ~hidden), suppressed=pl.Series(hidden)).sort([*CUBE[:4], "week"])


# ---- the small tables ----------------------------------------------------------------------------------------

def load_history(loads: pl.DataFrame, min_cell_size: int) -> pl.DataFrame:
    """Loads by month: no timestamps (nothing finer than a month is published), row totals suppressed."""
    small = pl.col("rows") < min_cell_size
    return loads.with_columns(rows=pl.when(small).then(None).otherwise(pl.col("rows")), suppressed=small)


def filter_options(sites: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """Every value a filter offers, with the label the dashboard shows."""
    parts = [pl.DataFrame({"dimension": ["site"], "value": [ALL], "label": ["All sites"]}),
             sites.select(pl.lit("site").alias("dimension"), pl.col("site_id").alias("value"),
                          pl.col("site_name").alias("label"))]
    for dim, everything in (("indication", "All indications"), ("route", "All routes")):
        values = sorted(set(cells[dim].to_list()) - {ALL})
        parts.append(pl.DataFrame({"dimension": [dim] * (len(values) + 1), "value": [ALL, *values],
                                   "label": [everything, *values]}))
    years = sorted(set(cells["period"].to_list()) - {ALL}, reverse=True)
    parts.append(pl.DataFrame({"dimension": ["period"] * (len(years) + 1), "value": [ALL, *years],
                               "label": ["All time", *years]}))
    frame = pl.concat(parts)
    return frame.with_columns(sort_order=pl.int_range(pl.len()).over("dimension").cast(pl.Int32))


def about(defs: Definitions, cells: pl.DataFrame) -> pl.DataFrame:
    months = sorted(set(cells["month"].to_list()) - {ALL})
    rows = {
        "schema_version": SCHEMA_VERSION,
        "first_month": months[0] if months else "",
        "last_month": months[-1] if months else "",
        **{name: _text(value) for name, value in defs.as_dict().items()},
    }
    return pl.DataFrame({"name": list(rows), "value": list(rows.values())})


def _text(value: object) -> str:
    return ", ".join(f"{v:g}" for v in value) if isinstance(value, tuple) else str(value)


def dose_band_label(index: pl.Expr, edges: Sequence[float]) -> pl.Expr:
    """Band i (as text) holds doses in [edge i-1, edge i) mg/kg, labelled as analysis/rates.py labels them."""
    return index.replace({str(i): label for i, label in dose_band_labels(edges).items()})
