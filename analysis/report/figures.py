"""Figures for report.html as base64 PNGs: matplotlib's object API (no pyplot, no global state, no GUI)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.durability import AT_RISK_DAYS, KmCurve

DPI = 110


def to_base64(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def interval_chart(labels: Sequence[str], estimate: np.ndarray, low: np.ndarray, high: np.ndarray, *,
                   xlabel: str, reference: float | None = None, log: bool = False) -> str:
    """Points with horizontal interval bars, one line per label (forest plots and rate charts)."""
    n = len(labels)
    figure = Figure(figsize=(7.5, 0.32 * n + 1.2))
    ax = figure.add_subplot()
    y = np.arange(n)[::-1]
    est = np.asarray(estimate, dtype=float)
    err = np.vstack([est - np.asarray(low, dtype=float), np.asarray(high, dtype=float) - est])
    ax.errorbar(est, y, xerr=np.nan_to_num(err, nan=0.0), fmt="o", color="#1f4e79", ecolor="#7f9fbf", capsize=3)
    if reference is not None:
        ax.axvline(reference, color="#999999", linestyle="--", linewidth=1)
    if log:
        ax.set_xscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")  # 0.6, not 6 x 10^-1
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
    ax.set_yticks(y, list(labels))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return to_base64(figure)


def ratio_forest(table: pl.DataFrame, *, xlabel: str) -> str | None:
    ok = table.filter((pl.col("status") == "ok") & pl.col("ratio").is_not_null())
    if ok.height == 0:
        return None
    return interval_chart(ok["term"].to_list(), ok["ratio"].to_numpy(), ok["ci_low"].to_numpy(),
                          ok["ci_high"].to_numpy(), xlabel=xlabel, reference=1.0, log=True)


def trajectory_panels(means: pl.DataFrame, effects: pl.DataFrame) -> str | None:
    """Observed mean score per week (points) and the fitted population line, one panel per indication x instrument."""
    fitted = effects.filter((pl.col("status") == "ok")
                            & pl.col("term").is_in(["intercept", "weeks_since_first_session"]))
    cells = fitted.select("indication", "instrument").unique().sort("indication", "instrument").rows()
    if not cells:
        return None
    columns = 3
    rows = math.ceil(len(cells) / columns)
    figure = Figure(figsize=(11, 2.6 * rows))
    for i, (indication, instrument) in enumerate(cells):
        ax = figure.add_subplot(rows, columns, i + 1)
        observed = means.filter((pl.col("indication") == indication) & (pl.col("instrument") == instrument))
        ax.scatter(observed["week"].to_numpy(), observed["mean_score"].to_numpy(), s=14, color="#1f4e79",
                   label="observed mean")
        mine = fitted.filter((pl.col("indication") == indication) & (pl.col("instrument") == instrument))
        coef = dict(mine.select("term", "estimate").rows())
        weeks = observed["week"].to_numpy()
        if weeks.size:
            line = np.linspace(weeks.min(), weeks.max(), 20)
            ax.plot(line, coef["intercept"] + coef["weeks_since_first_session"] * line, color="#c0504d",
                    label="mixed-model fit")
        ax.set_title(f"{indication} - {instrument}", fontsize=9)
        ax.set_xlabel("weeks since first session", fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    figure.tight_layout()
    return to_base64(figure)


def km_with_at_risk(curves: Sequence[KmCurve]) -> str | None:
    """Kaplan-Meier steps by indication with the numbers at risk in a table under the axes."""
    shown = [c for c in curves if c.indication != "all"]
    if not shown:
        return None
    figure = Figure(figsize=(9, 5.2 + 0.22 * len(shown)))
    grid = figure.add_gridspec(2, 1, height_ratios=[4, 0.5 + 0.3 * len(shown)], hspace=0.35)
    ax = figure.add_subplot(grid[0])
    last = AT_RISK_DAYS[-1]
    for curve in shown:
        x = np.concatenate([[0.0], curve.times[curve.times <= last], [last]])
        y = np.concatenate([[1.0], curve.survival[curve.times <= last]])
        y = np.concatenate([y, [y[-1]]])
        ax.step(x, y, where="post", label=curve.indication, linewidth=1.3)
    ax.set_xlim(0, last)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(AT_RISK_DAYS)
    ax.set_ylabel("share still responding")
    ax.set_xlabel("days since endpoint")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    table_ax = figure.add_subplot(grid[1])
    table_ax.axis("off")
    cells = [[str(c.at_risk.get(d, "")) for d in AT_RISK_DAYS] for c in shown]
    table = table_ax.table(cellText=cells, rowLabels=[c.indication for c in shown],
                           colLabels=[f"day {d}" for d in AT_RISK_DAYS], loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table_ax.set_title("numbers at risk", fontsize=8)
    return to_base64(figure)
