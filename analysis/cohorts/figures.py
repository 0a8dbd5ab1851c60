"""Figures of the cohort report as base64 PNGs (matplotlib object API, as analysis/report/figures.py)."""

from __future__ import annotations

import textwrap

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from analysis.durability import KmCurve
from analysis.report.figures import interval_chart, km_with_at_risk, to_base64
from analysis.suppression import ALL

BOX = {"main": "#e8f0f8", "removed": "#fbeaea", "outcome": "#eef6ea"}


def attrition_diagram(attrition: pl.DataFrame) -> str:
    """The CONSORT-style flow: one box per step with what remains, a side box with what it removed."""
    steps = attrition.to_dicts()
    height = 1.05 * len(steps) + 0.4
    figure = Figure(figsize=(9, height))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, height)
    ax.axis("off")
    for i, step in enumerate(steps):
        y = height - 0.55 - 1.05 * i
        colour = BOX["outcome"] if step["stage"] == "outcome" else BOX["main"]
        label = textwrap.shorten(step["description"], 72, placeholder="...")
        _box(ax, 0.3, y, 5.6, f"{label}\n{step['patients']:,} patients, {step['courses']:,} courses", colour)
        if i:
            ax.annotate("", xy=(3.1, y + 0.36), xytext=(3.1, y + 0.69),
                        arrowprops={"arrowstyle": "->", "color": "#555555"})
            removed = f"removed: {step['patients_removed']:,} patients, {step['courses_removed']:,} courses"
            _box(ax, 6.3, y + 0.52, 3.5, removed, BOX["removed"], size=7)
    return to_base64(figure)


def _box(ax: Axes, x: float, y: float, width: float, text: str, colour: str, size: float = 8) -> None:
    ax.add_patch(FancyBboxPatch((x, y - 0.34), width, 0.68, boxstyle="round,pad=0.02", facecolor=colour,
                                edgecolor="#7f9fbf", linewidth=0.8))
    ax.text(x + width / 2, y, text, ha="center", va="center", fontsize=size)


def outcome_chart(summary: pl.DataFrame) -> str | None:
    """Shares with Wilson intervals for the cohort as a whole (suppressed rows have no estimate: left out)."""
    rows = summary.filter((pl.col("group") == ALL) & (pl.col("unit").is_in(["proportion", "km_proportion"]))
                          & pl.col("estimate").is_not_null())
    if rows.is_empty():
        return None
    labels = [m if s == ALL else f"{m} ({s})" for m, s in rows.select("measure", "stratum").rows()]
    return interval_chart(labels, *_bounded(rows),
                          xlabel="share of courses (Wilson) or still responding (Kaplan-Meier)")


def _bounded(rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and limits with the limits never on the wrong side of the estimate: at 100% the Wilson
    upper limit can fall a rounding error below 1, which matplotlib refuses as a negative error bar."""
    estimate = rows["estimate"].to_numpy()
    low = np.fmin(rows["ci_low"].fill_null(np.nan).to_numpy(), estimate)
    high = np.fmax(rows["ci_high"].fill_null(np.nan).to_numpy(), estimate)
    return estimate, low, high


def ae_chart(summary: pl.DataFrame) -> str | None:
    """Events per 100 sessions by term (reported and derived together), exact Poisson intervals."""
    rows = summary.filter((pl.col("group") == ALL) & (pl.col("measure") == "ae_rate") & (pl.col("source") == ALL)
                          & pl.col("estimate").is_not_null())
    if rows.is_empty():
        return None
    return interval_chart(rows["stratum"].to_list(), *_bounded(rows), xlabel="events per 100 sessions")


def km_chart(curves: list[KmCurve]) -> str | None:
    return km_with_at_risk(curves)
