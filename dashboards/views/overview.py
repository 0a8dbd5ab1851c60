"""Overview: the figures leadership tracks, each with its interval, and their trend by month (or year)."""

from __future__ import annotations

import streamlit as st

from dashboards import data, shape
from dashboards.components import show_definitions, show_suppression_note, show_tiles, show_trend
from dashboards.filters import current_run
from dashboards.labels import OVERVIEW_METRICS


def render() -> None:
    run = current_run()
    f = run.filters
    st.title("Overview")
    st.caption(run.describe())
    headline = data.headline(run.version, f.site, f.indication, f.route, f.period)
    show_tiles(shape.tiles(headline, OVERVIEW_METRICS, run.about))
    show_trend(run, OVERVIEW_METRICS, key="overview_trend")
    show_definitions(OVERVIEW_METRICS, run.about)
    show_suppression_note(run.about)

