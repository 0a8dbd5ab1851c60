"""Data quality: assessment completion, missing vitals, unmapped diagnoses and the load history."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, data, shape
from dashboards.components import show_chart, show_definitions, show_suppression_note, show_tiles, show_trend
from dashboards.filters import current_run
from dashboards.labels import fmt_count

METRICS = ("baseline_completion", "endpoint_completion", "missing_vitals", "dx_unmapped")


def render() -> None:
    run = current_run()
    f = run.filters
    st.title("Data quality")
    st.caption(run.describe())
    show_tiles(shape.tiles(data.headline(run.version, f.site, f.indication, f.route, f.period), METRICS, run.about),
               per_row=4)

    st.subheader("By site")
    rows = data.by_site(run.version, f.indication, f.route, f.period, METRICS)
    site_labels = run.labels.get("site", {})
    completion = pl.concat([shape.metric_by(rows, m, "site", site_labels, run.about)
                            for m in ("baseline_completion", "endpoint_completion")])
    vitals = shape.metric_by(rows, "missing_vitals", "site", site_labels, run.about)
    left, right = st.columns(2)
    with left:
        show_chart(charts.grouped_bars(completion, y_title="% of courses"))
        st.caption("Assessment completion: courses with a baseline, and with an endpoint, on their primary "
                   "instrument.")
    with right:
        show_chart(charts.grouped_bars(vitals, y_title="% of sessions", full_scale=False))
        st.caption("Sessions missing any vital sign.")

    show_trend(run, METRICS, key="quality_trend")

    st.subheader("Load history")
    loads = data.load_history(run.version)
    st.dataframe(loads.select(
        pl.col("load_number").alias("Load"), pl.col("loaded_month").alias("Month"), pl.col("outcome").alias("Outcome"),
        pl.col("sites").alias("Sites"), pl.col("files").alias("Files"),
        pl.col("rows").map_elements(lambda v: fmt_count(v, run.about), return_dtype=pl.String)
        .fill_null(fmt_count(None, run.about)).alias("Rows loaded"),
    ), hide_index=True)
    st.caption("Every `kow ingest` of a clinic export: loaded (current), replaced by a newer export of the same "
               "sites, or unchanged. Months only: the file holds no finer dates. Not filtered.")
    show_definitions(METRICS, run.about)
    show_suppression_note(run.about)
