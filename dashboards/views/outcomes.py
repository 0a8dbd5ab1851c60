"""Outcomes: response and remission by indication beside published figures, and score trajectories."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, shape
from dashboards.components import (
    show_chart,
    show_definitions,
    show_model_ratios,
    show_suppression_note,
)
from dashboards.filters import current_run
from dashboards.labels import ALL, template_values


def render() -> None:
    run = current_run()
    f = run.filters
    st.title("Outcomes")
    st.caption(run.describe())
    rows = data.by_indication(run.version, f.site, f.route, f.period, ("response", "remission"))
    show_chart(charts.forest(shape.forest(rows, f.indication, run.about)))
    st.caption("Circles: this clinic, with " + template_values(run.about)["level"] + "% Wilson intervals, for the "
               "site, route and period chosen. Grey diamonds: published figures for comparable patients "
               "(domain-facts.md); their definitions differ in places (see each study's note).")
    chosen = rows if f.indication == ALL else rows.filter(rows["indication"].is_in([ALL, f.indication]))
    st.dataframe(shape.outcome_table(chosen, run.about), hide_index=True)

    st.subheader("Score trajectories")
    values = template_values(run.about)
    trajectory = shape.trajectories(data.score_trajectories(run.version, f.site, f.route, f.period), f.indication)
    if trajectory.is_empty():
        st.info("No scores to show for these filters.")
    else:
        show_chart(charts.trajectories(trajectory, response_line=-float(values["reduction_pct"])))
    st.caption(
        "Mean change from baseline, in percent, on each course's primary instrument, by week after the first "
        "session (week w: days 7(w-1)+1 to 7w; the course's latest score that week, before any next course). "
        f"Courses with a baseline at or above the instrument's minimum. {values['level']}% t-interval. "
        f"The dashed line is the response threshold (a fall of {values['reduction_pct']}%).")
    show_model_ratios(data.analysis_table(run.version, "response_odds_ratios"),
                      title="Adjusted odds ratios of response (whole clinic)",
                      caption="From `kow analyze`: fitted to every evaluable course, so the filters do not apply.")
    show_definitions(("response", "remission"), run.about)
    show_suppression_note(run.about)
