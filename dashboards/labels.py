"""What every figure is called and how it is defined, and how values are written.

Definitions are filled in from the published file's ``about`` table (the definitions the data were built
with), so a label never disagrees with the numbers under it. Plain functions: no Streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from core.definitions import load_definitions, load_instruments

ALL = "All"


@dataclass(frozen=True)
class MetricLabel:
    title: str
    unit: str  # 'count', 'proportion', 'per_100_sessions', 'km_proportion'
    definition: str  # str.format template over the about table


METRICS: dict[str, MetricLabel] = {
    "patients": MetricLabel(
        "Patients", "count",
        "Patients whose first ketamine session falls in the period (for all time: every treated patient), counted "
        "at their site, indication and the route of that first session."),
    "courses": MetricLabel(
        "Courses", "count",
        "Treatment courses starting in the period. A session {course_gap_days} or more days after the previous "
        "one starts a new course."),
    "sessions": MetricLabel("Sessions", "count", "Ketamine sessions in the period, completed or not."),
    "induction_completion": MetricLabel(
        "Induction completed", "proportion",
        "Share of courses with {induction_sessions} sessions within {induction_window_days} days of their first "
        "session. {level}% Wilson interval."),
    "response": MetricLabel(
        "Response", "proportion",
        "Share of evaluable courses whose endpoint score on the primary instrument is at most {kept_pct}% of "
        "baseline (a fall of {reduction_pct}% or more). Baseline: latest score in the {baseline_window_days} days "
        "up to the first session, at or above the instrument's minimum; endpoint: latest score up to "
        "{endpoint_window_days} days after the last induction session. {level}% Wilson interval."),
    "remission": MetricLabel(
        "Remission", "proportion",
        "Share of evaluable courses whose endpoint is at or below the instrument's remission ceiling "
        "({ceilings}). {level}% Wilson interval."),
    "still_responding_4w": MetricLabel(
        "Still responding at 4 weeks", "km_proportion",
        "Kaplan-Meier estimate: responding courses not yet relapsed 28 days after their endpoint. Relapse: "
        "{relapse_consecutive} consecutive follow-up scores above the response line; otherwise censored at the "
        "last follow-up score. Courses counted by the month of their first session. {level}% log-log interval."),
    "still_responding_8w": MetricLabel(
        "Still responding at 8 weeks", "km_proportion",
        "Kaplan-Meier estimate: responding courses not yet relapsed 56 days after their endpoint (relapse as at "
        "4 weeks). {level}% log-log interval."),
    "severe_hypertension": MetricLabel(
        "Severe hypertension per 100", "per_100_sessions",
        "Sessions whose peak blood pressure reached systolic >= {derived_hypertension_sbp_mmhg} or diastolic >= "
        "{derived_hypertension_dbp_mmhg} mmHg, reported as an event or not, per 100 sessions. Exact Poisson "
        "{level}% interval."),
    "adverse_events": MetricLabel(
        "Adverse events per 100", "per_100_sessions",
        "Reported events plus events derived from vitals (hypertension: peak BP >= {derived_hypertension_sbp_mmhg}/"
        "{derived_hypertension_dbp_mmhg} mmHg; desaturation: lowest SpO2 < {derived_desaturation_spo2_pct}%) not "
        "already reported, per 100 sessions. Exact Poisson {level}% interval."),
    "baseline_completion": MetricLabel(
        "Baseline captured", "proportion",
        "Share of courses with a baseline score on their primary instrument (latest score in the "
        "{baseline_window_days} days up to the first session). {level}% Wilson interval."),
    "endpoint_completion": MetricLabel(
        "Endpoint captured", "proportion",
        "Share of courses with an endpoint score on their primary instrument (after the first session, up to "
        "{endpoint_window_days} days after the last induction session). {level}% Wilson interval."),
    "missing_vitals": MetricLabel(
        "Sessions missing vitals", "proportion",
        "Share of sessions without all of blood pressure and heart rate before dosing and at peak, and lowest "
        "SpO2. {level}% Wilson interval."),
    "dx_unmapped": MetricLabel(
        "Diagnosis not mapped", "proportion",
        "Share of patients whose ICD-10 code no indication rule matches (counted as OTHER). {level}% Wilson "
        "interval."),
}

OVERVIEW_METRICS = ("patients", "courses", "sessions", "induction_completion", "response", "remission",
                    "still_responding_4w", "still_responding_8w", "severe_hypertension", "adverse_events")
FILTER_NOTE = ("Route: the session's for sessions and events, the course's first session's for courses and "
               "outcomes. Period: the calendar year of the session, or of the course's first session.")


def definition(metric: str, about: Mapping[str, str]) -> str:
    """The metric's definition with the thresholds the published data were built with."""
    return METRICS[metric].definition.format(**template_values(about))


def template_values(about: Mapping[str, str]) -> dict[str, str]:
    defaults = load_definitions()  # a file published before `about` carried these falls back to the project's
    reduction = float(about.get("response_reduction", defaults.response_reduction))
    alpha = float(about.get("alpha", defaults.alpha))
    ceilings = ", ".join(f"{i.instrument} <= {i.remission_max:g}" for i in load_instruments().values())
    return {**about, "reduction_pct": f"{100 * reduction:g}", "kept_pct": f"{100 * (1 - reduction):g}",
            "level": f"{100 * (1 - alpha):g}", "ceilings": ceilings}


def suppressed_mark(about: Mapping[str, str]) -> str:
    return f"<{about.get('min_cell_size', '11')}*"


def suppression_note(about: Mapping[str, str]) -> str:
    k = about.get("min_cell_size", "11")
    return (f"{suppressed_mark(about)} = fewer than {k} (zero included), or withheld so that a count below {k} "
            "cannot be worked out from the totals; its rates and intervals are hidden too, as is a share still "
            f"responding that rests on fewer than {k} losses of response. Suppression is done when the data are "
            "published, for every filter combination.")


def is_missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_count(value: int | float | None, about: Mapping[str, str]) -> str:
    return suppressed_mark(about) if is_missing(value) else f"{int(value):,}"


def fmt_value(value: float | None, unit: str) -> str:
    """An estimate as people read it: a count, a percentage or a rate per 100 sessions."""
    if is_missing(value):
        return "—"
    if unit == "count":
        return f"{int(value):,}"
    if unit in ("proportion", "km_proportion"):
        return f"{100 * value:.1f}%"
    return f"{value:.2f}"


def fmt_interval(low: float | None, high: float | None, unit: str, about: Mapping[str, str]) -> str:
    if is_missing(low) or is_missing(high):
        return ""
    level = template_values(about)["level"]
    if unit in ("proportion", "km_proportion"):
        return f"{level}% CI {100 * low:.1f}–{100 * high:.1f}%"
    return f"{level}% CI {low:.2f}–{high:.2f}"


def scale(unit: str) -> float:
    """Factor from the stored estimate to the number plotted (percentages for proportions)."""
    return 100.0 if unit in ("proportion", "km_proportion") else 1.0


def axis_title(unit: str) -> str:
    return {"count": "Count", "proportion": "%", "km_proportion": "% still responding",
            "per_100_sessions": "per 100 sessions"}[unit]


def term_label(term: str) -> str:
    """'emergence_reaction' -> 'Emergence reaction'; 'All' -> 'All events'."""
    return "All events" if term == ALL else term.replace("_", " ").capitalize()
