"""Durability: Kaplan-Meier curves of staying in response, by indication, with numbers at risk beneath."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, shape
from dashboards.components import (
    show_chart,
    show_definitions,
    show_model_ratios,
    show_suppression_note,
    show_tiles,
)
from dashboards.filters import current_run
from dashboards.reference import DURABILITY_NOTES

CURVE_WEEKS = 52
METRICS = ("still_responding_4w", "still_responding_8w")


def render() -> None:
    run = current_run()
    f = run.filters
    st.title("Durability")
    st.caption(run.describe())
    headline = data.headline(run.version, f.site, f.indication, f.route, f.period)
    show_tiles(shape.tiles(headline, METRICS, run.about), per_row=2)
    curves = data.durability_curves(run.version, f.site, f.route, f.period)
    at_risk = data.durability_at_risk(run.version, f.site, f.route, f.period)
    lines, table, references = shape.km(curves, at_risk, f.indication, run.about)
    if lines.is_empty():
        st.info(f"No curve to show: fewer than {run.about.get('min_cell_size', '11')} responding courses for "
                "these filters.")
    else:
        show_chart(charts.km_curves(lines, table, references, weeks=CURVE_WEEKS))
    k = run.about.get("min_cell_size", "11")
    st.caption(
        "Kaplan-Meier estimate of the share of responding courses (primary instrument) still in response, by "
        "weeks since their endpoint, with pointwise log-log intervals. A curve stops where fewer than "
        f"{k} courses remain at risk, and is drawn only at weeks where at least {k} more courses have lost "
        "response since its previous point, so every step stands for that many or more. Numbers at risk "
        "beneath: courses still followed at that week. Grey diamonds: McInnes 2022 (real-world IV, PHQ-9). "
        + " ".join(DURABILITY_NOTES))
    show_model_ratios(data.analysis_table(run.version, "durability_hazard_ratios"),
                      title="Adjusted hazard ratios of losing response (whole clinic)",
                      caption="From `kow analyze`: fitted to every responding course, so the filters do not apply.")
    show_definitions(METRICS, run.about)
    show_suppression_note(run.about)
