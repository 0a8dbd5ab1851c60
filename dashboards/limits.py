"""Control limits drawn over published figures: funnel plots for sites, a u-chart for monthly rates.

They use only values the published file shows (a suppressed site or month is simply absent), so they
need no access to anything finer. Funnel limits are Spiegelhalter's 95% and 99.8% (normal approximation
around the all-sites value); the u-chart uses the usual three-sigma Shewhart limits.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import polars as pl

FUNNEL_LEVELS = (0.95, 0.998)
SIGMAS = 3.0


def funnel_limits(target: float, volumes: tuple[float, float], *, kind: str, points: int = 120) -> pl.DataFrame:
    """Limits against volume for a proportion (kind='proportion') or a rate per 100 (kind='per_100_sessions').

    ``target`` and the limits returned (volume, level, lower, upper) are on the plotted scale: percent, or
    events per 100 sessions.
    """
    low, high = volumes  # the sites' smallest and largest volume: the limits span a little more than that
    volume = np.unique(np.geomspace(max(low / 3, 1.0), max(high * 1.3, 2.0), points))
    frames = []
    for level in FUNNEL_LEVELS:
        z = NormalDist().inv_cdf(0.5 + level / 2)
        p = target / 100  # a proportion, or events per session
        half = z * np.sqrt((p * (1 - p) if kind == "proportion" else p) / volume)
        lower = np.clip(p - half, 0, None) * 100
        upper = (np.clip(p + half, None, 1) if kind == "proportion" else p + half) * 100
        frames.append(pl.DataFrame({"volume": volume, "level": f"{level * 100:g}%", "lower": lower, "upper": upper}))
    return pl.concat(frames)


def funnel_position(value: float, volume: float, target: float, *, kind: str) -> str:
    """'above 99.8%', 'above 95%', 'within', 'below 95%' or 'below 99.8%' for one site (plotted scale)."""
    p = target / 100
    variance = (p * (1 - p) if kind == "proportion" else p) / volume if volume > 0 else np.inf
    z = (value / 100 - p) / np.sqrt(variance) if variance > 0 else 0.0
    outer, inner = (NormalDist().inv_cdf(0.5 + level / 2) for level in reversed(FUNNEL_LEVELS))
    if abs(z) > outer:
        return f"{'above' if z > 0 else 'below'} 99.8%"
    if abs(z) > inner:
        return f"{'above' if z > 0 else 'below'} 95%"
    return "within"


def u_chart(months: pl.DataFrame) -> pl.DataFrame:
    """months: month, events, sessions (shown months only). Adds rate, centre, lcl, ucl per 100 sessions and
    whether the month is outside its limits."""
    shown = months.filter(pl.col("events").is_not_null() & pl.col("sessions").is_not_null() & (pl.col("sessions") > 0))
    if shown.is_empty():
        return shown.with_columns(*(pl.lit(None, pl.Float64).alias(c) for c in ("rate", "centre", "lcl", "ucl")),
                                  out_of_control=pl.lit(False), status=pl.lit(None, pl.String))
    centre = shown["events"].sum() / shown["sessions"].sum()
    sigma = (centre / pl.col("sessions")).sqrt() * SIGMAS
    return shown.with_columns(
        rate=pl.col("events") / pl.col("sessions") * 100,
        centre=pl.lit(centre * 100),
        lcl=((centre - sigma).clip(lower_bound=0)) * 100,
        ucl=(centre + sigma) * 100,
    ).with_columns(out_of_control=(pl.col("rate") > pl.col("ucl")) | (pl.col("rate") < pl.col("lcl"))).with_columns(
        status=pl.when(pl.col("out_of_control")).then(pl.lit("outside limits")).otherwise(pl.lit("within limits")))
