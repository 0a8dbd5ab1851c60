"""The cohort's report.html: one jinja2 template, figures embedded as base64 PNGs, no scripts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import polars as pl

from analysis.cohorts import figures
from analysis.cohorts.evaluate import CohortResult
from analysis.report import format_cell
from analysis.suppression import ALL

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[list[str]]
    status: list[str]
    first_number: int  # columns from here on are right-aligned


def _table(frame: pl.DataFrame, columns: Sequence[tuple[str, str, str]], first_number: int) -> _Table:
    rows = [[format_cell(row[name], kind) for name, _, kind in columns] for row in frame.iter_rows(named=True)]
    status = [str(row.get("status") or "") for row in frame.iter_rows(named=True)]
    return _Table([header for _, header, _ in columns], rows, status, first_number)


def _tables(result: CohortResult) -> dict[str, _Table]:
    whole = result.summary.filter(pl.col("group") == ALL)
    estimate = [("count", "count", "text"), ("denominator", "of", "text")]
    return {
        "attrition": _table(result.attrition, [("step", "step", "int"), ("description", "criterion", "text"),
                                               ("patients", "patients", "int"), ("courses", "courses", "int"),
                                               ("patients_removed", "patients removed", "int"),
                                               ("courses_removed", "courses removed", "int")], 2),
        "outcomes": _table(whole.filter(pl.col("unit").is_in(["proportion", "patients", "courses", "sessions"])),
                           [("measure", "measure", "text"), ("status", "status", "text"), *estimate,
                            ("estimate", "share", "pct"), ("ci_low", "CI low", "pct"),
                            ("ci_high", "CI high", "pct")], 2),
        "durability": _table(whole.filter(pl.col("unit").is_in(["km_proportion", "days"])),
                             [("measure", "measure", "text"), ("stratum", "when", "text"), ("status", "status", "text"),
                              ("count", "at risk / responders", "text"), ("denominator", "responders", "text"),
                              ("estimate", "estimate", "num"), ("ci_low", "CI low", "num"),
                              ("ci_high", "CI high", "num")], 3),
        "ae": _table(whole.filter(pl.col("measure") == "ae_rate"),
                     [("stratum", "term", "text"), ("source", "source", "text"), ("status", "status", "text"),
                      ("count", "events", "text"), ("denominator", "sessions", "text"),
                      ("estimate", "per 100 sessions", "num"), ("ci_low", "CI low", "num"),
                      ("ci_high", "CI high", "num")], 3),
    }


def render_cohort_report(result: CohortResult, warehouse: Path, out_dir: Path) -> Path:
    """Write out_dir/report.html (replaced atomically) and return its path."""
    definition = result.definition
    report = {
        "name": definition.name, "description": definition.description, "source": definition.source,
        "sha256": definition.sha256, "instrument": definition.outcome_instrument, "warehouse": str(warehouse),
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "min_cell_size": result.definitions.min_cell_size, "confidence": f"{100 * (1 - result.definitions.alpha):g}%",
        "definitions": result.definitions.as_dict(), "warnings": list(result.warnings), "tables": _tables(result),
        "figures": {"attrition": figures.attrition_diagram(result.attrition),
                    "outcomes": figures.outcome_chart(result.summary), "km": figures.km_chart(result.curves),
                    "ae": figures.ae_chart(result.summary)},
    }
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                                     autoescape=jinja2.select_autoescape(["html", "j2"]),
                                     undefined=jinja2.StrictUndefined)
    html = environment.get_template(TEMPLATE).render(r=report)
    return write_atomically(out_dir / "report.html", html.encode("utf-8"))


def write_atomically(target: Path, content: bytes) -> Path:
    """Write beside the target and rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, target)
    return target
