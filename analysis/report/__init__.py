"""report.html: one self-contained page (inline CSS, figures as base64 PNGs, no scripts) from one template."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

TEMPLATE = "report.html.j2"
REPORT_FILE = "report.html"

# (column, header, format) per table as shown; formats are applied by format_cell
Column = tuple[str, str, str]


@dataclass(frozen=True)
class ReportInput:
    warehouse: str
    generated_at: str
    totals: Mapping[str, int]
    definitions: Mapping[str, Any]
    definitions_from: str
    instruments: Sequence[Mapping[str, Any]]
    loads: Sequence[Mapping[str, Any]]
    versions: Mapping[str, str]
    constants: Mapping[str, str]
    tables: Mapping[str, pl.DataFrame]
    figures: Mapping[str, str | None] = field(default_factory=dict)
    problems: Sequence[Mapping[str, str]] = field(default_factory=list)


def format_cell(value: Any, fmt: str) -> str:
    """A table cell as the reports show it: int, pct, p (p-value), num[digits], else text; missing as a dash."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if fmt == "int":
        return f"{int(value):,}"
    if fmt == "pct":
        return f"{100.0 * float(value):.1f}%"
    if fmt == "p":
        return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"
    if fmt.startswith("num"):
        return f"{float(value):,.{int(fmt[3:] or 2)}f}"
    return str(value)


def display(frame: pl.DataFrame, columns: Sequence[Column]) -> dict[str, Any]:
    """Headers and formatted rows of a table, only the given columns, in their order."""
    present = [c for c in columns if c[0] in frame.columns]
    rows = [[format_cell(row[name], fmt) for name, _, fmt in present] for row in frame.iter_rows(named=True)]
    return {"headers": [header for _, header, _ in present], "rows": rows,
            "align": ["text" if fmt == "text" else "number" for _, _, fmt in present],
            "status": [row.get("status") or "ok" for row in frame.iter_rows(named=True)]}


AE_COLUMNS: list[Column] = [("stratum_type", "stratum type", "text"), ("stratum", "stratum", "text"),
                            ("source", "source", "text"), ("events", "events", "int"), ("sessions", "sessions", "int"),
                            ("rate_per_100", "per 100 sessions", "num2"), ("ci_low", "CI low", "num2"),
                            ("ci_high", "CI high", "num2"), ("status", "status", "text")]
RATIO_COLUMNS: list[Column] = [("term", "term", "text"), ("reference", "reference", "text"), ("ratio", "ratio", "num2"),
                               ("ci_low", "CI low", "num2"), ("ci_high", "CI high", "num2"), ("p_value", "p", "p"),
                               ("observations", "rows", "int"), ("clusters", "patients", "int"),
                               ("model", "model", "text"), ("status", "status", "text")]
RESPONSE_COLUMNS: list[Column] = [
    ("indication", "indication", "text"), ("instrument", "instrument", "text"), ("courses", "courses", "int"),
    ("responders", "responders", "int"), ("response_rate", "response", "pct"), ("ci_low", "CI low", "pct"),
    ("ci_high", "CI high", "pct"), ("remitters", "remitters", "int"), ("remission_rate", "remission", "pct"),
    ("remission_ci_low", "CI low", "pct"), ("remission_ci_high", "CI high", "pct"), ("status", "status", "text")]
TRAJECTORY_COLUMNS: list[Column] = [
    ("indication", "indication", "text"), ("instrument", "instrument", "text"), ("term", "term", "text"),
    ("estimate", "estimate", "num2"), ("ci_low", "CI low", "num2"), ("ci_high", "CI high", "num2"),
    ("p_value", "p", "p"), ("patients", "patients", "int"), ("scores", "scores", "int"), ("model", "model", "text"),
    ("status", "status", "text")]
KM_COLUMNS: list[Column] = [
    ("indication", "indication", "text"), ("statistic", "statistic", "text"), ("day", "day", "int"),
    ("estimate", "estimate", "num3"), ("ci_low", "CI low", "num3"), ("ci_high", "CI high", "num3"),
    ("at_risk", "at risk", "int"), ("courses", "courses", "int"), ("events", "losses", "int"),
    ("status", "status", "text")]
LITERATURE_COLUMNS: list[Column] = [
    ("study", "study", "text"), ("setting", "setting", "text"), ("measure", "measure", "text"),
    ("published", "published", "text"), ("estimate", "ours", "num1"), ("ci_low", "CI low", "num1"),
    ("ci_high", "CI high", "num1"), ("unit", "unit", "text"), ("denominator", "n", "int"),
    ("our_basis", "what we counted", "text"), ("status", "status", "text")]

SHOWN: dict[str, list[Column]] = {
    "ae_rates": AE_COLUMNS, "ae_rate_ratios": RATIO_COLUMNS, "response_by_indication": RESPONSE_COLUMNS,
    "response_odds_ratios": RATIO_COLUMNS, "trajectory_effects": TRAJECTORY_COLUMNS, "durability_km": KM_COLUMNS,
    "durability_hazard_ratios": RATIO_COLUMNS, "literature_comparison": LITERATURE_COLUMNS,
}


def render_report(report: ReportInput, out_dir: Path) -> Path:
    """Write out_dir/report.html (replacing any previous one atomically) and return its path."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                                     autoescape=jinja2.select_autoescape(["html", "j2"]),
                                     undefined=jinja2.StrictUndefined)
    tables = {name: display(frame, SHOWN[name]) for name, frame in report.tables.items() if name in SHOWN}
    html = environment.get_template(TEMPLATE).render(report=report, tables=tables)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / REPORT_FILE
    partial = out_dir / f".{REPORT_FILE}.partial"
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)  # a reader never sees half a report
    return target
