"""Safety: event rates by term (reported vs derived), a u-chart of monthly rates, BP rise and CADSS by dose."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, data, limits, shape
from dashboards.components import (
    show_chart,
    show_definitions,
    show_model_ratios,
    show_suppression_note,
    show_tiles,
)
from dashboards.filters import current_run
from dashboards.labels import ALL, template_values, term_label
from dashboards.reference import SAFETY_NOTES

METRICS = ("severe_hypertension", "adverse_events")


def render() -> None:
    run = current_run()
    f = run.filters
    values = template_values(run.about)
    st.title("Safety")
    st.caption(run.describe())
    show_tiles(shape.tiles(data.headline(run.version, f.site, f.indication, f.route, f.period), METRICS, run.about),
               per_row=2)
    st.caption("Published: Yale 2024 (IV, real-world), severe hypertension in 0.98% of infusions, i.e. 0.98 per "
               "100 sessions.")

    st.subheader("Events per 100 sessions by term")
    rates = data.event_rates(run.version, f.site, f.indication, f.route, f.period)
    terms = sorted(set(rates["event_term"].to_list()) - {ALL})
    if rates.is_empty():
        st.info("No sessions for these filters.")
    else:
        show_chart(charts.term_rates(shape.term_rates(rates, {t: term_label(t) for t in terms}, run.about)))
    st.caption(
        "Reported: events the clinic recorded. Derived: found in the session's vitals and not reported (peak BP >= "
        f"{values['derived_hypertension_sbp_mmhg']}/{values['derived_hypertension_dbp_mmhg']} mmHg; lowest SpO2 < "
        f"{values['derived_desaturation_spo2_pct']}%). All: both. Exact Poisson {values['level']}% intervals.")

    st.subheader("Monthly rate with control limits (u-chart)")
    term = st.selectbox("Event term", [ALL, *terms], format_func=term_label, key="safety_term")
    months = data.event_rates_monthly(run.version, f.site, f.indication, f.route, f.period, term)
    chart_frame = limits.u_chart(months.select("month", "events", "sessions"))
    if chart_frame.is_empty():
        st.info("No month with shown counts for these filters.")
    else:
        show_chart(charts.u_chart(chart_frame, title=term_label(term)))
        flagged = chart_frame.filter(pl.col("out_of_control"))["month"].to_list()
        st.caption(f"Months outside the limits: {', '.join(flagged) if flagged else 'none'}.")
    st.caption("Points: events per 100 sessions each month. Dashed line: the rate over the months shown; band: "
               "three-sigma limits for each month's number of sessions. Suppressed months are left out.")

    st.subheader("Blood-pressure rise and dissociation by dose")
    dose, order = shape.dose_bands(data.dose_response(run.version, f.site, f.indication, f.route, f.period))
    if dose.is_empty():
        st.info("No sessions for these filters.")
    else:
        show_chart(charts.dose_bands(dose, order))
    st.caption(f"Mean systolic rise (peak minus pre-dose) and mean CADSS total per session, by dose in mg/kg "
               f"(bands at {run.about.get('dose_band_edges_mg_per_kg', '')}; unknown: no weight recorded). "
               f"{values['level']}% t-intervals. " + " ".join(SAFETY_NOTES))
    show_model_ratios(data.analysis_table(run.version, "ae_rate_ratios"),
                      title="Adjusted event rate ratios (whole clinic)",
                      caption="From `kow analyze`: fitted to every session, so the filters do not apply.")
    show_definitions(METRICS, run.about)
    show_suppression_note(run.about)
