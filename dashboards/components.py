"""Streamlit pieces several pages share: headline tiles, the trend panel, definitions, notes (no SQL here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import streamlit as st

from dashboards import charts, data, shape
from dashboards.filters import Run
from dashboards.labels import FILTER_NOTE, METRICS, definition, suppression_note
from dashboards.shape import Tile

GRAINS = ("Month", "Year")
MOSTLY_HIDDEN = 0.5  # share of suppressed month points above which the trend opens by year


def show_tiles(tiles: Sequence[Tile], per_row: int = 5) -> None:
    """Headline figures: the value, its interval and counts beneath, the definition on hover."""
    for start in range(0, len(tiles), per_row):
        for column, tile in zip(st.columns(per_row), tiles[start:start + per_row], strict=False):
            column.metric(tile.title, tile.value, help=tile.definition)
            if tile.caption:
                column.caption(tile.caption)


def show_chart(chart: alt.TopLevelMixin) -> None:
    st.altair_chart(chart, width="content")


def show_trend(run: Run, metrics: Sequence[str], *, key: str) -> None:
    """The metrics over time for the filters: by month (within the period) or by year. A page opens by year
    when most of its months are suppressed (a small clinic, or a narrow filter), by month otherwise."""
    f = run.filters
    monthly = data.monthly(run.version, f.site, f.indication, f.route, f.period, tuple(metrics))
    if key not in st.session_state:  # the first render decides; the reader's choice then stays
        mostly_hidden = monthly.height > 0 and float(monthly["suppressed"].mean()) > MOSTLY_HIDDEN
        st.session_state[key] = "Year" if mostly_hidden else "Month"
    head, choice = st.columns([3, 2], vertical_alignment="bottom")
    head.subheader("Trend")
    grain = choice.segmented_control("Trend by", GRAINS, key=key, label_visibility="collapsed")
    if grain == "Year":
        rows = data.yearly(run.version, f.site, f.indication, f.route, tuple(metrics))
    else:
        rows = monthly
    frame = shape.trend(rows, run.about)
    if frame.is_empty():
        st.info("Nothing to show over time for these filters.")
        return
    show_chart(charts.trend_grid(frame, shape.trend_order(metrics)))
    st.caption("Courses count in the month their first session fell, so the latest months' outcomes are not all "
               "in yet (endpoints and follow-up still to come): read their fall in response as incomplete data.")
    hidden = int(frame["hidden"].sum())
    if hidden:
        st.caption(f"Grey stripes: {grain.lower() if grain else 'month'}s whose figure is suppressed "
                   f"({hidden} of {frame.height} points). Small clinics read better by year.")


def show_definitions(metrics: Sequence[str], about: Mapping[str, str], extra: Sequence[str] = ()) -> None:
    """Every figure of the page with its definition, under one expander."""
    with st.expander("Definitions", expanded=False):
        for metric in metrics:
            st.markdown(f"**{METRICS[metric].title}.** {definition(metric, about)}")
        for line in extra:
            st.markdown(line)
        st.markdown(FILTER_NOTE)


def show_suppression_note(about: Mapping[str, str]) -> None:
    st.caption(suppression_note(about))


def show_model_ratios(frame: object, *, title: str, caption: str) -> None:
    """A `kow analyze` ratio table when it was published: the fitted terms as a forest, failures listed."""
    import polars as pl

    from dashboards.charts import ratio_forest

    if not isinstance(frame, pl.DataFrame) or not {"term", "ratio", "ci_low", "ci_high"} <= set(frame.columns):
        return
    st.subheader(title)
    ok = frame.filter(pl.col("ratio").is_not_null() & pl.col("ci_low").is_not_null() & (pl.col("ratio") > 0))
    if "status" in frame.columns:
        ok = ok.filter(pl.col("status") == "ok")
    if ok.is_empty():
        st.info("The model gave no estimates (see the analysis report for why).")
    else:
        show_chart(ratio_forest(ok.select("term", "ratio", "ci_low", "ci_high"), title=title))
    st.caption(caption)
