"""run_cohort(): `kow cohort run FILE` -> attrition.csv, members.parquet, summary.csv and report.html in OUT."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from analysis.cohorts.definition import load_definition
from analysis.cohorts.evaluate import CohortResult, evaluate_cohort
from analysis.cohorts.report import render_cohort_report, write_atomically
from analysis.suppression import ALL
from core.config import Settings

OUTPUT_FILES = ("attrition.csv", "members.parquet", "summary.csv", "report.html")


@dataclass(frozen=True)
class CohortRunSummary:
    name: str
    out_dir: Path
    patients: int
    courses: int
    courses_in_warehouse: int
    headline: dict[str, str]  # measure -> shown value, from the suppressed summary
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    files: tuple[Path, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        lines = [f"Cohort {self.name}: {self.patients:,} patients, {self.courses:,} of "
                 f"{self.courses_in_warehouse:,} courses ({self.seconds:.1f} s)."]
        lines += [f"  {measure}: {value}" for measure, value in self.headline.items()]
        lines.append(f"Wrote {', '.join(p.name for p in self.files)} to {self.out_dir}")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def run_cohort(definition_path: Path, settings: Settings, out_dir: Path) -> CohortRunSummary:
    """Select the cohort FILE defines from the marts (read-only) and write its four files to out_dir.

    Raises CohortDefinitionError (a KowError naming line and key) for a bad definition, and
    MartsMissingError when the warehouse has no built marts.
    """
    started = time.perf_counter()
    definition = load_definition(definition_path)
    result = evaluate_cohort(definition, settings.warehouse)
    files = write_cohort_files(result, settings.warehouse, out_dir)
    return CohortRunSummary(
        name=definition.name, out_dir=out_dir, patients=result.patients, courses=result.courses,
        courses_in_warehouse=int(result.attrition["courses"][0]), headline=headline(result), warnings=result.warnings,
        seconds=time.perf_counter() - started, files=files)


def write_cohort_files(result: CohortResult, warehouse: Path, out_dir: Path) -> tuple[Path, ...]:
    out_dir.mkdir(parents=True, exist_ok=True)
    members = io.BytesIO()
    result.members.write_parquet(members)
    return (
        write_atomically(out_dir / "attrition.csv", result.attrition.write_csv().encode("utf-8")),
        write_atomically(out_dir / "members.parquet", members.getvalue()),
        write_atomically(out_dir / "summary.csv", result.summary.write_csv().encode("utf-8")),
        render_cohort_report(result, warehouse, out_dir),
    )


def headline(result: CohortResult) -> dict[str, str]:
    """The few numbers worth printing, as shown in summary.csv (suppressed where it is)."""
    rows = result.summary.filter((pl.col("group") == ALL) & (pl.col("stratum").is_in([ALL, "day 28", "day 56"]))
                                 & (pl.col("source") == ALL))
    shown: dict[str, str] = {}
    for row in rows.iter_rows(named=True):
        if row["measure"] not in ("response", "remission", "still_responding", "ae_rate"):
            continue
        label = row["measure"] + ("" if row["stratum"] == ALL else f" at {row['stratum']}")
        if row["estimate"] is None:
            shown[label] = f"{row['status']} ({row['count']} of {row['denominator']})"
        elif row["unit"] == "per_100_sessions":
            shown[label] = f"{row['estimate']:.2f} per 100 sessions ({row['ci_low']:.2f} to {row['ci_high']:.2f})"
        else:
            shown[label] = (f"{100 * row['estimate']:.1f}% ({100 * row['ci_low']:.1f} to {100 * row['ci_high']:.1f}), "
                            f"{row['count']} of {row['denominator']}")
    return shown
