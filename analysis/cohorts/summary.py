"""A cohort's summary table: counts, response and remission (Wilson), Kaplan-Meier durability at 28 and
56 days (log-log), adverse events per 100 sessions (exact Poisson), small cells suppressed.

Suppression is analysis/suppression.py's, as for leadership: a count of 0 to min_cell_size - 1 shows as
"<11" (zero included, as definitions.md writes it; every group is listed, members or not); counts that
are parts of another (responders of evaluable courses, at risk at day 56 of those at
day 28, an event term of all terms) are linked or put in margins so no hidden count can be recomputed
(those show as "suppressed": they are 11 or more); an estimate is blanked when its numerator or
denominator is hidden, since rate x denominator gives the count back. Kaplan-Meier estimates are also
blanked when the losses by that day are a small count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis.cohorts.outcomes import CohortData
from analysis.durability import AT_RISK_DAYS, MILESTONE_DAYS, KmCurve, kaplan_meier, thinned_steps
from analysis.intervals import poisson_exact_ci, wilson_ci
from analysis.suppression import ALL, COUNT, MEASURE, flat, suppress
from analysis.tidy import OK, TOO_FEW, conform
from core.errors import KowError

# group_by -> the dimensions it breaks the cohort down by (each on its own, beside the whole cohort)
GROUPINGS: dict[str, tuple[str, ...]] = {"all": (), "indication": ("indication",), "site": ("site",),
                                         "indication_and_site": ("indication", "site")}
DIMENSION_COLUMNS = {"indication": "indication", "site": "site_id"}
SUPPRESSED, NO_DATA = "suppressed", "no_data"
SOURCES = (ALL, "reported", "derived")
COURSE_MEASURES = ("patients", "courses", "sessions", "completed_induction", "with_baseline", "eligible", "evaluable",
                   "responders", "remitters", *(f"{k}_day_{d}" for d in MILESTONE_DAYS for k in ("at_risk", "losses")))
LINKS = (("patients", "courses"), ("completed_induction", "courses"), ("with_baseline", "courses"),
         ("eligible", "with_baseline"), ("evaluable", "eligible"), ("responders", "evaluable"),
         ("remitters", "evaluable"), (f"at_risk_day_{MILESTONE_DAYS[0]}", "responders"),
         (f"at_risk_day_{MILESTONE_DAYS[1]}", f"at_risk_day_{MILESTONE_DAYS[0]}"),
         (f"losses_day_{MILESTONE_DAYS[0]}", f"losses_day_{MILESTONE_DAYS[1]}"))
# (measure, numerator, denominator): proportions of courses, Wilson intervals
PROPORTIONS = (("completed_induction", "completed_induction", "courses"),
               ("baseline_captured", "with_baseline", "courses"), ("evaluable", "evaluable", "courses"),
               ("response", "responders", "evaluable"), ("remission", "remitters", "evaluable"))

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "cohort": pl.String(), "group_by": pl.String(), "group": pl.String(), "measure": pl.String(),
    "stratum": pl.String(), "source": pl.String(), "instrument": pl.String(), "count": pl.String(),
    "denominator": pl.String(), "estimate": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(),
    "unit": pl.String(), "method": pl.String(), "status": pl.String(),
}


@dataclass(frozen=True)
class CohortSummary:
    table: pl.DataFrame  # SUMMARY_SCHEMA
    curves: list[KmCurve]  # per group, cut where fewer than min_cell_size remain at risk, thinned (thinned_steps)


def summarise(data: CohortData, *, cohort: str, min_cell_size: int, alpha: float, event_terms: Sequence[str],
              group_by: str = "all", suppress_small: bool = True) -> CohortSummary:
    """The summary of one cohort, over all its courses and by indication and/or site (``group_by``, GROUPINGS).

    Groups are keyed "indication:TRD", "site:S1" or "All" inside; by indication and by site are suppressed
    together as one cube with a shared "All", so neither table can fill in what the other hides.
    """
    if group_by not in GROUPINGS:
        raise KowError(f"group_by must be one of {', '.join(GROUPINGS)} (got {group_by!r}).")
    dims = GROUPINGS[group_by]
    counts, km_rows, curves = _course_counts(data, dims, alpha=alpha, min_cell_size=min_cell_size)
    events = _event_counts(data, dims, counts["group"].to_list(), event_terms)
    cells = _with_dimensions(counts.unpivot(index="group", on=list(COURSE_MEASURES), variable_name=MEASURE,
                                            value_name=COUNT))
    event_cells = _with_dimensions(events.rename({"events": COUNT}).with_columns(pl.lit("events").alias(MEASURE)))
    if suppress_small:
        group_dims = [flat(f"_{d}") for d in DIMENSION_COLUMNS]
        cells = suppress(cells, group_dims, min_cell_size=min_cell_size, linked=LINKS)
        event_cells = suppress(event_cells, [*group_dims, flat("term"), flat("source")], min_cell_size=min_cell_size)
    else:
        cells, event_cells = (f.with_columns(suppressed=pl.lit(False)) for f in (cells, event_cells))
    count = {(g, m): (int(c), bool(h)) for g, m, c, h in cells.select("group", MEASURE, COUNT, "suppressed").rows()}
    shown = _Shown(count, min_cell_size)
    rows: list[dict] = []
    instrument = data.instrument
    for group in counts["group"].to_list():
        for measure in ("patients", "courses", "sessions"):
            rows.append({"group": group, "measure": measure, "count": shown(group, measure), "unit": measure,
                         "method": "count", "status": shown.status(group, measure)})
        for measure, numerator, denominator in PROPORTIONS:
            rows.append(_proportion(shown, group, measure, numerator, denominator, alpha,
                                    instrument if measure not in ("completed_induction",) else None))
        rows += _durability_rows(shown, group, km_rows.get(group, []), instrument, min_cell_size)
    event_rows = _with_sessions(event_cells, count, counts["group"].to_list()).rows()
    for group, term, source, events, sessions, hidden in event_rows:
        sessions_hidden = count[(group, "sessions")][1]
        row = {"group": group, "measure": "ae_rate", "stratum": term, "source": source,
               "count": shown.text(events, hidden), "denominator": shown.text(sessions, sessions_hidden),
               "unit": "per_100_sessions", "method": "exact_poisson_garwood"}
        if hidden or sessions_hidden:
            row["status"] = SUPPRESSED
        elif sessions == 0:
            row["status"] = NO_DATA
        else:
            low, high = poisson_exact_ci([events], [sessions], alpha)
            row |= {"estimate": 100.0 * events / sessions, "ci_low": 100.0 * low[0], "ci_high": 100.0 * high[0],
                    "status": OK}
        rows.append(row)
    key = pl.col("group")
    table = conform(rows, SUMMARY_SCHEMA).with_columns(
        cohort=pl.lit(cohort),
        group_by=pl.when(key == ALL).then(pl.lit("all")).otherwise(key.str.split(":").list.first()),
        group=pl.when(key == ALL).then(key).otherwise(key.str.splitn(":", 2).struct.field("field_1")),
        stratum=pl.col("stratum").fill_null(ALL), source=pl.col("source").fill_null(ALL))
    shown_days = {(r["group"], int(r["stratum"].split()[-1])) for r in rows
                  if r["measure"] == "still_responding" and r.get("status") == OK}
    figure = [_thinned(curve, losses_by, [d for d in MILESTONE_DAYS if (group, d) in shown_days], min_cell_size)
              if suppress_small else curve for group, curve, losses_by in curves]
    return CohortSummary(table.select(list(SUMMARY_SCHEMA)), figure)


class _Shown:
    """Counts by (group, measure) as shown: the number; "<11" when suppressed for being small; "suppressed"
    when hidden only so that a small one cannot be recomputed (its value is 11 or more)."""

    def __init__(self, counts: dict[tuple[str, str], tuple[int, bool]], min_cell_size: int) -> None:
        self.counts, self.min_cell_size = counts, min_cell_size

    def text(self, value: int, hidden: bool) -> str:
        if not hidden:
            return str(int(value))
        return f"<{self.min_cell_size}" if value < self.min_cell_size else SUPPRESSED

    def __call__(self, group: str, measure: str) -> str:
        return self.text(*self.counts[(group, measure)])

    def value(self, group: str, measure: str) -> int:
        return self.counts[(group, measure)][0]

    def hidden(self, group: str, measure: str) -> bool:
        return self.counts[(group, measure)][1]

    def status(self, group: str, measure: str) -> str:
        return SUPPRESSED if self.hidden(group, measure) else OK


def _proportion(shown: _Shown, group: str, measure: str, numerator: str, denominator: str, alpha: float,
                instrument: str | None) -> dict:
    row = {"group": group, "measure": measure, "instrument": instrument, "count": shown(group, numerator),
           "denominator": shown(group, denominator), "unit": "proportion", "method": "wilson"}
    x, n = shown.value(group, numerator), shown.value(group, denominator)
    if shown.hidden(group, numerator) or shown.hidden(group, denominator):
        return row | {"status": SUPPRESSED}
    if n == 0:
        return row | {"status": NO_DATA}
    low, high = wilson_ci([x], [n], alpha)
    return row | {"estimate": x / n, "ci_low": float(low[0]), "ci_high": float(high[0]), "status": OK}


def _durability_rows(shown: _Shown, group: str, km: list[dict], instrument: str, min_cell_size: int) -> list[dict]:
    responders = shown.value(group, "responders")
    base = {"group": group, "instrument": instrument, "denominator": shown(group, "responders")}
    by_day = {r.get("day"): r for r in km if r["statistic"] == "still_responding"}
    median = next((r for r in km if r["statistic"] == "median_days"), None)
    too_few = responders < min_cell_size
    rows = []
    for day in MILESTONE_DAYS:
        row = base | {"measure": "still_responding", "stratum": f"day {day}", "unit": "km_proportion",
                      "count": shown(group, f"at_risk_day_{day}"), "method": "kaplan_meier_loglog"}
        hidden = any(shown.hidden(group, m) for m in ("responders", f"at_risk_day_{day}", f"losses_day_{day}"))
        if hidden:
            rows.append(row | {"status": SUPPRESSED})
        elif too_few or day not in by_day:
            rows.append(row | {"status": TOO_FEW if responders else NO_DATA})
        else:
            rows.append(row | {k: by_day[day][k] for k in ("estimate", "ci_low", "ci_high")} | {"status": OK})
    row = base | {"measure": "median_days_to_loss", "count": shown(group, "responders"), "denominator": None,
                  "unit": "days", "method": "kaplan_meier_brookmeyer_crowley"}
    if shown.hidden(group, "responders"):
        rows.append(row | {"status": SUPPRESSED})
    elif median is None:
        rows.append(row | {"status": TOO_FEW if responders else NO_DATA})
    else:
        rows.append(row | {k: median[k] for k in ("estimate", "ci_low", "ci_high")} | {"status": OK})
    return rows


def _grouped(frame: pl.DataFrame, dims: tuple[str, ...]) -> pl.DataFrame:
    """Each row under "All" and again under its group of each dimension ("indication:TRD", "site:S1")."""
    parts = [frame.with_columns(group=pl.lit(f"{d}:") + pl.col(DIMENSION_COLUMNS[d]).cast(pl.String)) for d in dims]
    return pl.concat([frame.with_columns(group=pl.lit(ALL)), *parts])


def _with_dimensions(cells: pl.DataFrame) -> pl.DataFrame:
    """One column per dimension for the suppression cube: the group's key on its own dimension, else All."""
    return cells.with_columns(**{f"_{d}": pl.when(pl.col("group").str.starts_with(f"{d}:")).then(pl.col("group"))
                                 .otherwise(pl.lit(ALL)) for d in DIMENSION_COLUMNS})


def _course_counts(data: CohortData, dims: tuple[str, ...], *, alpha: float,
                   min_cell_size: int) -> tuple[pl.DataFrame, dict[str, list[dict]], list[KmCurve]]:
    sums = ["courses", "patients", "sessions", "completed_induction", "with_baseline", "eligible", "evaluable",
            "responders", "remitters"]
    every = [f"{d}:{v}" for d in dims for v in data.group_values.get(d, ())]  # members or not: none reads as 0
    groups = pl.concat([pl.DataFrame({"group": [ALL, *every]}, schema={"group": pl.String}),
                        _grouped(data.courses, dims).select("group")]).unique()
    counts = groups.join(_grouped(data.courses, dims).group_by("group").agg(pl.col(sums).sum()), on="group",
                         how="left")
    durability = _grouped(data.durability, dims)
    milestones = [agg for d in MILESTONE_DAYS for agg in (
        pl.col("courses").filter(pl.col("days_to_event") >= d).sum().alias(f"at_risk_day_{d}"),
        pl.col("courses").filter(pl.col("lost_response") & (pl.col("days_to_event") <= d)).sum()
        .alias(f"losses_day_{d}"))]
    counts = counts.join(durability.group_by("group").agg(milestones), on="group", how="left")
    counts = counts.with_columns(pl.col(list(COURSE_MEASURES)).fill_null(0).cast(pl.Int64))
    counts = counts.sort(pl.col("group") == ALL, "group", descending=[True, False])  # All first
    km_rows: dict[str, list[dict]] = {}
    curves: list[tuple[str, KmCurve, np.ndarray]] = []
    days_of_interest = sorted({*MILESTONE_DAYS, *AT_RISK_DAYS})
    for (group,), cells in durability.group_by("group"):
        days = np.repeat(cells["days_to_event"].to_numpy(), cells["courses"].to_numpy())
        lost = np.repeat(cells["lost_response"].to_numpy(), cells["courses"].to_numpy())
        if days.size < min_cell_size:
            continue
        label = str(group).split(":", 1)[-1]  # the figure's legend: TRD, S1 or All
        km_rows[str(group)], curve = kaplan_meier(label, days, lost, alpha=alpha, days_of_interest=days_of_interest)
        curve = _cut(curve, days, min_cell_size)
        losses_by = np.searchsorted(np.sort(days[lost.astype(bool)]), curve.times, side="right")
        curves.append((str(group), curve, losses_by))
    return counts, km_rows, sorted(curves, key=lambda c: (c[1].indication != ALL, c[1].indication))


def _thinned(curve: KmCurve, losses_by: np.ndarray, shown_days: Sequence[int], min_cell_size: int) -> KmCurve:
    """The figure's curve with only the points analysis.durability.thinned_steps allows around the milestone
    shares the table shows: every drop stands for min_cell_size losses or more."""
    anchors = np.zeros(curve.times.size, bool)
    for day in shown_days:
        at = int(np.searchsorted(curve.times, day, side="right")) - 1  # S(day) is the curve's value there
        if at >= 0:
            anchors[at] = True
    keep = thinned_steps(losses_by.astype(np.float64), anchors, min_cell_size)
    return KmCurve(curve.indication, curve.times[keep], curve.survival[keep], curve.at_risk)


def _cut(curve: KmCurve, days: np.ndarray, min_cell_size: int) -> KmCurve:
    """The curve up to the last time with min_cell_size courses at risk, and only at-risk counts that large."""
    ordered = np.sort(days)
    at_risk = ordered.size - np.searchsorted(ordered, curve.times, side="left")
    keep = at_risk >= min_cell_size
    shown = {d: n for d, n in curve.at_risk.items() if n >= min_cell_size}
    return KmCurve(curve.indication, curve.times[keep], curve.survival[keep], shown)


def _event_counts(data: CohortData, dims: tuple[str, ...], groups: list[str],
                  event_terms: Sequence[str]) -> pl.DataFrame:
    """Events by group, term and source with "All" margins, every seed term and source present (a zero is a
    count, suppressed like any other)."""
    events = _grouped(data.events, dims).select("group", pl.col("event_term").alias("term"), "source", "events")
    margins = [events, events.with_columns(term=pl.lit(ALL)), events.with_columns(source=pl.lit(ALL)),
               events.with_columns(term=pl.lit(ALL), source=pl.lit(ALL))]
    totals = pl.concat(margins).group_by("group", "term", "source").agg(pl.col("events").sum())
    terms = [ALL, *sorted(set(event_terms) | set(data.events["event_term"].to_list()))]
    grid = pl.DataFrame({"group": groups}).join(pl.DataFrame({"term": terms}), how="cross") \
        .join(pl.DataFrame({"source": list(SOURCES)}), how="cross")
    return grid.join(totals, on=["group", "term", "source"], how="left").with_columns(
        pl.col("events").fill_null(0).cast(pl.Int64))


def _with_sessions(event_cells: pl.DataFrame, count: dict[tuple[str, str], tuple[int, bool]],
                   groups: list[str]) -> pl.DataFrame:
    sessions = pl.DataFrame({"group": groups, "sessions": [count[(g, "sessions")][0] for g in groups]},
                            schema={"group": pl.String, "sessions": pl.Int64})
    order = {g: i for i, g in enumerate(groups)}
    return event_cells.join(sessions, on="group", how="left").sort(
        pl.col("group").replace_strict(order, default=len(order), return_dtype=pl.Int64),
        pl.col("term") != ALL, "term",
        pl.col("source").replace_strict({s: i for i, s in enumerate(SOURCES)}, return_dtype=pl.Int64),
    ).select("group", "term", "source", COUNT, "sessions", "suppressed")
