"""analyze_warehouse(): marts -> fitted analyses -> schema `analysis` (one transaction) and report.html."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from analysis import report as report_module
from analysis.durability import AT_RISK_DAYS, MILESTONE_DAYS, fit_durability_hazard_ratios, km_by_indication
from analysis.literature import depression_indications, literature_comparison
from analysis.marts import MartData, read_marts
from analysis.rates import ae_rates, fit_ae_rate_ratios
from analysis.report import figures
from analysis.response import REFERENCE_INDICATION, fit_response_odds_ratios, response_by_indication
from analysis.trajectories import fit_trajectories, observed_means
from core.config import Settings
from core.definitions import load_event_terms, load_instruments
from core.progress import ProgressFn, no_progress
from core.warehouse import connect_writer, transaction

SCHEMA = "analysis"
STEPS = ("read marts", "adverse-event rates", "adverse-event rate model", "response by indication",
         "response model", "trajectories", "Kaplan-Meier", "Cox model", "published comparison",
         "write tables", "report")
ANALYSIS_STEPS: int = len(STEPS)  # progress-bar length: analyze_warehouse calls on_progress(1) once per step
VERSIONED = ("kow", "duckdb", "polars", "numpy", "scipy", "statsmodels", "pandas", "matplotlib", "jinja2")
# which columns name a row of each table in "needs attention"
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "ae_rates": ("stratum_type", "stratum", "source"), "ae_rate_ratios": ("term",),
    "response_by_indication": ("indication", "instrument"), "response_odds_ratios": ("term",),
    "trajectory_effects": ("indication", "instrument"), "durability_km": ("indication",),
    "durability_hazard_ratios": ("term",), "literature_comparison": ("study", "measure"),
}


@dataclass(frozen=True)
class AnalysisSummary:
    warehouse: Path
    report: Path
    rows: dict[str, int]  # analysis table -> rows written
    problems: list[dict[str, str]]  # rows whose status is not 'ok'
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        tables = ", ".join(f"{SCHEMA}.{name} {rows:,}" for name, rows in self.rows.items())
        lines = [f"Analysed {self.warehouse} in {self.seconds:.1f} s: {tables}.", f"Report: {self.report}"]
        if self.problems:
            lines.append(f"{len(self.problems)} estimate(s) need attention (status other than ok):")
            lines += [f"  {p['table']}: {p['row']}: {p['status']}" for p in self.problems[:20]]
            if len(self.problems) > 20:
                lines.append(f"  ... and {len(self.problems) - 20} more (see the report)")
        return "\n".join(lines)


def analyze_warehouse(settings: Settings, *, out_dir: Path = Path("reports/latest"),
                      on_progress: ProgressFn = no_progress) -> AnalysisSummary:
    """Fit every analysis of issue #5 on the marts, replace schema `analysis` in one transaction, write report.html.

    Raises MartsMissingError (a KowError) when the warehouse has no built marts: run `kow build` first.
    """
    started = time.perf_counter()
    clock: dict[str, float] = {}

    def step(name: str, work: Callable[[], Any]) -> Any:
        begun = time.perf_counter()
        value = work()
        clock[name] = time.perf_counter() - begun
        on_progress(1)
        return value

    data: MartData = step("read marts", lambda: read_marts(settings.warehouse))
    d = data.definitions
    common = {"alpha": d.alpha, "min_cell_size": d.min_cell_size}
    tables: dict[str, pl.DataFrame] = {}
    tables["ae_rates"] = step("adverse-event rates", lambda: ae_rates(
        data.session_cells, data.event_cells, event_terms=load_event_terms(),
        dose_band_edges=d.dose_band_edges_mg_per_kg, **common))
    tables["ae_rate_ratios"] = step("adverse-event rate model", lambda: fit_ae_rate_ratios(data.exposure, **common))
    tables["response_by_indication"] = step("response by indication",
                                            lambda: response_by_indication(data.courses, **common))
    tables["response_odds_ratios"] = step("response model", lambda: fit_response_odds_ratios(data.courses, **common))
    tables["trajectory_effects"] = step("trajectories", lambda: fit_trajectories(data.scores, **common))
    km, curves = step("Kaplan-Meier", lambda: km_by_indication(data.durability, **common))
    tables["durability_km"] = km
    tables["durability_hazard_ratios"] = step("Cox model",
                                              lambda: fit_durability_hazard_ratios(data.durability, **common))
    tables["literature_comparison"] = step("published comparison", lambda: literature_comparison(data, **common))
    generated_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    info = _run_info(data, settings, generated_at)
    step("write tables", lambda: _write_tables(settings.warehouse, {**tables, "run_info": info}))
    report_path = step("report", lambda: _render(data, settings, tables, curves, generated_at, out_dir))
    return AnalysisSummary(warehouse=settings.warehouse, report=report_path,
                           rows={name: frame.height for name, frame in tables.items()},
                           problems=_problems(tables), seconds=time.perf_counter() - started, step_seconds=clock)


def _write_tables(warehouse: Path, tables: dict[str, pl.DataFrame]) -> None:
    """CREATE OR REPLACE every table inside one transaction: readers see the old run or the new, never a mix."""
    con = connect_writer(warehouse)
    try:
        with transaction(con):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            for name, frame in tables.items():
                con.register("analysis_frame", frame.to_arrow())
                con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} AS SELECT * FROM analysis_frame")  # noqa: S608
                con.unregister("analysis_frame")
    finally:
        con.close()


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def analysis_constants(data: MartData) -> dict[str, str]:
    """The analysis's own choices, beside the dbt vars, for the methods section and analysis.run_info."""
    d = data.definitions
    first, last = -d.baseline_window_days, d.induction_window_days + d.endpoint_window_days
    return {
        "confidence": f"{100 * (1 - d.alpha):g}%",
        "too_few": f"fewer than min_cell_size = {d.min_cell_size} sessions, courses or patients",
        "severe_grade": str(d.serious_grade_min),
        "dose_band_edges_mg_per_kg": ", ".join(f"{e:g}" for e in d.dose_band_edges_mg_per_kg),
        "reference_indication": REFERENCE_INDICATION,
        "other_references": "most frequent level (route, sex, site); substance_use_history false",
        "trajectory_window": f"day {first} to day {last} since the course's first session",
        "km_milestone_days": ", ".join(str(x) for x in MILESTONE_DAYS),
        "km_at_risk_days": ", ".join(str(x) for x in AT_RISK_DAYS),
        "depression_indications": ", ".join(depression_indications()),
    }


def _run_info(data: MartData, settings: Settings, generated_at: str) -> pl.DataFrame:
    rows = [("run", "generated_at", generated_at), ("run", "warehouse", str(settings.warehouse)),
            ("run", "definitions_from", data.definitions_from)]
    rows += [("definition", k, str(v)) for k, v in data.definitions.as_dict().items()]
    rows += [("setting", k, v) for k, v in analysis_constants(data).items()]
    rows += [("version", k, v) for k, v in versions().items()]
    rows += [("load", str(r["load_id"]), str(r["load_finished_at"])) for r in data.loads.iter_rows(named=True)]
    return pl.DataFrame(rows, schema={"kind": pl.String, "name": pl.String, "value": pl.String}, orient="row")


def _problems(tables: dict[str, pl.DataFrame]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for name, frame in tables.items():
        keys = ROW_KEYS.get(name)
        if not keys or "status" not in frame.columns:
            continue
        flagged = frame.filter(pl.col("status") != "ok").select([*keys, "status"]).unique(maintain_order=True)
        for row in flagged.iter_rows(named=True):
            found.append({"table": name, "row": " / ".join(str(row[k]) for k in keys), "status": row["status"]})
    return found


def _render(data: MartData, settings: Settings, tables: dict[str, pl.DataFrame], curves: list,
            generated_at: str, out_dir: Path) -> Path:
    rates = tables["ae_rates"].filter((pl.col("stratum_type") == "event_term") & (pl.col("source") == "all"))
    response = tables["response_by_indication"].filter(pl.col("instrument") == "all")
    figs = {
        "ae_rates": figures.interval_chart(rates["stratum"].to_list(), rates["rate_per_100"].to_numpy(),
                                           rates["ci_low"].to_numpy(), rates["ci_high"].to_numpy(),
                                           xlabel="events per 100 sessions") if rates.height else None,
        "ae_rate_ratios": figures.ratio_forest(tables["ae_rate_ratios"], xlabel="rate ratio"),
        "response": figures.interval_chart(response["indication"].to_list(), response["response_rate"].to_numpy(),
                                           response["ci_low"].to_numpy(), response["ci_high"].to_numpy(),
                                           xlabel="share of evaluable courses responding") if response.height else None,
        "response_odds_ratios": figures.ratio_forest(tables["response_odds_ratios"], xlabel="odds ratio"),
        "trajectories": (figures.trajectory_panels(observed_means(data.scores), tables["trajectory_effects"])
                         if data.scores is not None else None),
        "km": figures.km_with_at_risk(curves),
        "durability_hazard_ratios": figures.ratio_forest(tables["durability_hazard_ratios"], xlabel="hazard ratio"),
    }
    inputs = report_module.ReportInput(
        warehouse=str(settings.warehouse), generated_at=generated_at, totals=data.totals.row(0, named=True),
        definitions=data.definitions.as_dict(), definitions_from=data.definitions_from,
        instruments=[vars(i) for i in load_instruments().values()], loads=list(data.loads.iter_rows(named=True)),
        versions=versions(), constants=analysis_constants(data), tables=tables, figures=figs,
        problems=_problems(tables))
    return report_module.render_report(inputs, out_dir)
