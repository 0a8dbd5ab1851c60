"""compare_cohorts(): two cohorts side by side, with the difference in response, remission and event rates.

Differences come from the suppressed summaries: a difference is given only where both sides show their
estimate, so a comparison never reveals a count the summaries hide. Methods in analysis/cohorts/difference.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from analysis.cohorts.definition import load_definition
from analysis.cohorts.difference import proportion_difference, rate_difference
from analysis.cohorts.evaluate import CohortResult, evaluate_cohort
from analysis.cohorts.report import write_atomically
from analysis.suppression import ALL
from analysis.tidy import OK, conform
from core.config import Settings

COMPARED = ("completed_induction", "response", "remission", "still_responding", "ae_rate")
METHODS = {"proportion": "newcombe_hybrid_score", "per_100_sessions": "mover_exact_poisson",
           "km_proportion": "none (side by side only)"}
SIDE = ("count", "denominator", "estimate", "ci_low", "ci_high")
COMPARE_SCHEMA: dict[str, pl.DataType] = {
    "measure": pl.String(), "stratum": pl.String(), "unit": pl.String(),
    **{f"{side}_{c}": (pl.String() if c in ("count", "denominator") else pl.Float64())
       for side in ("a", "b") for c in SIDE},
    "difference": pl.Float64(), "difference_ci_low": pl.Float64(), "difference_ci_high": pl.Float64(),
    "method": pl.String(), "status": pl.String(),
}


@dataclass(frozen=True)
class CompareSummary:
    a: str
    b: str
    a_courses: int
    b_courses: int
    shared_courses: int  # in both cohorts: the intervals assume independent cohorts
    table: pl.DataFrame  # COMPARE_SCHEMA
    confidence: str
    min_cell_size: int
    out_file: Path | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        k = self.min_cell_size
        lines = [f"A = {self.a} ({_count(self.a_courses, k)} courses), B = {self.b} ({_count(self.b_courses, k)} "
                 f"courses); {_count(self.shared_courses, k)} courses in both.",
                 f"{'measure':<34}{'A':>24}{'B':>24}   A - B ({self.confidence} CI)"]
        for row in self.table.iter_rows(named=True):
            label = row["measure"] + ("" if row["stratum"] == ALL else f" {row['stratum']}")
            lines.append(f"{label[:33]:<34}{_side(row, 'a'):>24}{_side(row, 'b'):>24}   {_difference(row)}")
        lines.append("Intervals: Newcombe hybrid score for proportions; MOVER with exact Poisson limits for rates "
                     "per 100 sessions; both assume independent cohorts"
                     + (" (these share courses, so the intervals are conservative)." if self.shared_courses >= k
                        else "; shared courses, if any, make them conservative."))
        if self.out_file:
            lines.append(f"Wrote {self.out_file}")
        return "\n".join(lines)


def _side(row: dict, side: str) -> str:
    estimate = row[f"{side}_estimate"]
    if estimate is None:
        return f"{row[f'{side}_count'] or '—'}/{row[f'{side}_denominator'] or '—'}"
    scale, unit = (1.0, "") if row["unit"] == "per_100_sessions" else (100.0, "%")
    return f"{scale * estimate:.1f}{unit} ({scale * row[f'{side}_ci_low']:.1f}-{scale * row[f'{side}_ci_high']:.1f})"


def _difference(row: dict) -> str:
    if row["difference"] is None:
        return row["status"]
    scale, unit = (1.0, " per 100") if row["unit"] == "per_100_sessions" else (100.0, " pts")
    return (f"{scale * row['difference']:+.1f}{unit} ({scale * row['difference_ci_low']:+.1f} to "
            f"{scale * row['difference_ci_high']:+.1f})")


def compare_cohorts(a: Path, b: Path, settings: Settings, out_dir: Path | None = None) -> CompareSummary:
    """Evaluate both definitions on the warehouse and compare them; writes out_dir/compare.csv when given."""
    started = time.perf_counter()
    first = evaluate_cohort(load_definition(a), settings.warehouse)
    second = evaluate_cohort(load_definition(b), settings.warehouse)
    table = compare_results(first, second)
    out_file = None
    if out_dir is not None:
        out_file = write_atomically(out_dir / "compare.csv", table.write_csv().encode("utf-8"))
    shared = first.members.join(second.members, on=["patient_id", "course_number"], how="semi").height
    d = first.definitions
    return CompareSummary(a=first.definition.name, b=second.definition.name, a_courses=first.courses,
                          b_courses=second.courses, shared_courses=shared, table=table,
                          confidence=f"{100 * (1 - d.alpha):g}%", min_cell_size=d.min_cell_size, out_file=out_file,
                          seconds=time.perf_counter() - started)


def compare_results(first: CohortResult, second: CohortResult) -> pl.DataFrame:
    """One row per compared measure and stratum (event terms with all sources): both sides and A - B."""
    keys = ["measure", "stratum"]

    def side(result: CohortResult, prefix: str) -> pl.DataFrame:
        rows = result.summary.filter((pl.col("group") == ALL) & pl.col("measure").is_in(COMPARED)
                                     & (pl.col("source") == ALL))
        return rows.select(*keys, "unit", *(pl.col(c).alias(f"{prefix}_{c}") for c in SIDE),
                           pl.col("status").alias(f"{prefix}_status"))

    both = side(first, "a").join(side(second, "b").drop("unit"), on=keys, how="full", coalesce=True,
                                 maintain_order="left_right")
    ready = (pl.col("a_status") == OK) & (pl.col("b_status") == OK)
    both = both.with_columns(ready=ready.fill_null(False))
    counts = {c: both[c].cast(pl.Float64, strict=False).fill_null(0).to_numpy()
              for c in ("a_count", "a_denominator", "b_count", "b_denominator")}
    alpha = first.definitions.alpha
    args = (counts["a_count"], counts["a_denominator"], counts["b_count"], counts["b_denominator"], alpha)
    proportion = proportion_difference(*args)
    rate = rate_difference(*args)
    unit = both["unit"].to_numpy()
    is_rate, is_share = unit == "per_100_sessions", unit == "proportion"
    use = both["ready"].to_numpy() & (is_rate | is_share)
    columns = {}
    for i, name in enumerate(("difference", "difference_ci_low", "difference_ci_high")):
        value = np.where(is_rate, 100.0 * rate[i], proportion[i])
        columns[name] = pl.Series(name, np.where(use, value, np.nan)).fill_nan(None)
    status = pl.when(pl.col("ready") & pl.col("unit").is_in(["proportion", "per_100_sessions"])).then(pl.lit(OK)) \
        .when(pl.col("unit") == "km_proportion").then(pl.lit("not_compared")) \
        .otherwise(pl.lit("not_estimable: ") + pl.coalesce(pl.col("a_status"), pl.lit("missing")) + pl.lit("/")
                   + pl.coalesce(pl.col("b_status"), pl.lit("missing")))
    both = both.with_columns(**columns, method=pl.col("unit").replace_strict(METHODS, default=None), status=status)
    return conform(both, COMPARE_SCHEMA)


def _count(n: int, min_cell_size: int) -> str:
    """A count as it may be shown: below min_cell_size (zero included) it is "<min_cell_size"."""
    return f"<{min_cell_size}" if n < min_cell_size else f"{n:,}"
