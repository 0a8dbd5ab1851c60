"""Sites: funnel plots of response rate and event rate against volume, so an outlying site stands out."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, data, limits
from dashboards.components import show_chart, show_definitions, show_suppression_note
from dashboards.filters import Run, current_run
from dashboards.labels import ALL, METRICS, fmt_count, fmt_value, scale

FUNNELS = (("response", "proportion", "Evaluable courses"), ("adverse_events", "per_100_sessions", "Sessions"))


def render() -> None:
    run = current_run()
    f = run.filters
    st.title("Sites")
    st.caption(run.describe())
    rows = data.by_site(run.version, f.indication, f.route, f.period, tuple(m for m, _, _ in FUNNELS))
    for metric, kind, volume_title in FUNNELS:
        st.subheader(METRICS[metric].title)
        _funnel(run, rows.filter(pl.col("metric") == metric), metric, kind, volume_title)
    st.caption("Each site's value against its volume. Lines: 95% (dashed) and 99.8% limits around the all-sites "
               "value; a site outside 99.8% is very unlikely to differ by chance alone. The selected site is drawn "
               "larger; the others stay as its comparison.")
    show_definitions(tuple(m for m, _, _ in FUNNELS), run.about)
    show_suppression_note(run.about)


def _funnel(run: Run, rows: pl.DataFrame, metric: str, kind: str, volume_title: str) -> None:
    sites = rows.filter(pl.col("site") != ALL)
    overall = rows.filter(pl.col("site") == ALL)
    if overall.is_empty() or overall["estimate"][0] is None:
        st.info("No funnel for these filters: the all-sites value is suppressed or there are no data.")
    else:
        _draw(run, sites, float(overall["estimate"][0]) * scale(kind), metric, kind, volume_title)
    table = sites.select(
        pl.col("site").map_elements(lambda s: run.label("site", s), return_dtype=pl.String).alias("Site"),
        pl.col("denominator").map_elements(lambda v: fmt_count(v, run.about), return_dtype=pl.String)
        .fill_null(fmt_count(None, run.about)).alias(volume_title),
        pl.struct("estimate", "suppressed").map_elements(
            lambda r: "suppressed" if r["suppressed"] else fmt_value(r["estimate"], kind), return_dtype=pl.String)
        .alias(METRICS[metric].title),
    )
    st.dataframe(table, hide_index=True)
    hidden = sites.filter(pl.col("estimate").is_null())["site"].to_list()
    if hidden:
        st.caption("Not plotted (suppressed or no data): " + ", ".join(run.label("site", s) for s in hidden) + ".")


def _draw(run: Run, sites: pl.DataFrame, target: float, metric: str, kind: str, volume_title: str) -> None:
    shown = sites.filter(pl.col("estimate").is_not_null() & pl.col("denominator").is_not_null())
    if shown.is_empty():
        st.info("Every site's figure is suppressed for these filters.")
        return
    points = shown.select(
        pl.col("site").map_elements(lambda s: run.label("site", s), return_dtype=pl.String).alias("label"),
        pl.col("denominator").cast(pl.Float64).alias("volume"),
        (pl.col("estimate") * scale(kind)).alias("value"),
        (pl.col("site") == run.filters.site).alias("highlight"),
    ).with_columns(
        position=pl.struct("value", "volume").map_elements(
            lambda r: limits.funnel_position(r["value"], r["volume"], target, kind=kind), return_dtype=pl.String),
        shown=pl.col("value").map_elements(lambda v: fmt_value(v / scale(kind), kind), return_dtype=pl.String),
    )
    span = (float(points["volume"].min()), float(points["volume"].max()))
    unit = "%" if kind == "proportion" else "per 100 sessions"
    show_chart(charts.funnel(points, limits.funnel_limits(target, span, kind=kind), target,
                             x_title=volume_title, y_title=f"{METRICS[metric].title} ({unit})"))
    outside = points.filter(pl.col("position").str.contains("99.8"))
    if not outside.is_empty():
        st.markdown("**Outside the 99.8% limits:** " + ", ".join(
            f"{r['label']} ({r['shown']}, {r['position']})" for r in outside.iter_rows(named=True)))
