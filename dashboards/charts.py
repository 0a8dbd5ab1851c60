"""Altair chart builders: tidy polars frames in, charts out. No Streamlit calls, no data access.

Suppressed values arrive as nulls: lines break there (invalid="break-paths-filter-domains") instead of
drawing across a gap as if the value were known.
"""

from __future__ import annotations

import altair as alt
import polars as pl

BREAK = "break-paths-filter-domains"
TREND_HEIGHT = 120
CLINIC, PUBLISHED = "This clinic", "Published"
SOURCE_COLOURS = alt.Scale(domain=["All", "reported", "derived"], range=["#1f3b73", "#17becf", "#ff7f0e"])
ALL_GROUP = "All indications"
# Dark, distinct colours (Tableau 10); the whole-clinic line is black so it reads as the reference.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
           "#7f7f7f"]


def group_scale(groups: list[str]) -> alt.Scale:
    """A fixed colour per indication, 'All indications' first and black."""
    others = sorted(set(groups) - {ALL_GROUP})
    domain = ([ALL_GROUP] if ALL_GROUP in groups else []) + others
    colours = (["#000000"] if ALL_GROUP in groups else []) + [PALETTE[i % len(PALETTE)] for i in range(len(others))]
    return alt.Scale(domain=domain, range=colours)
FUNNEL_POSITIONS = ["above 99.8%", "above 95%", "within", "below 95%", "below 99.8%"]
FUNNEL_COLOURS = alt.Scale(domain=FUNNEL_POSITIONS, range=["#d62728", "#ff9896", "#4c78a8", "#98df8a", "#2ca02c"])


def trend_grid(frame: pl.DataFrame, order: list[str], *, columns: int = 2, time_format: str = "%Y") -> alt.FacetChart:
    """Small multiples over time, one panel per metric (frame: title, month, value, low, high, shown,
    interval, hidden). Suppressed months are grey stripes, so a gap never reads as a zero or a missing month."""
    x = alt.X("month:T", title=None, axis=alt.Axis(format=time_format, tickCount="year"))
    base = alt.Chart(frame).encode(x=x)
    hidden = base.transform_filter("datum.hidden").mark_rule(color="#bbbbbb", opacity=0.35, strokeWidth=3).encode(
        y=alt.value(0), y2=alt.value(TREND_HEIGHT), tooltip=[alt.Tooltip("month:T", format="%B %Y"),
                                                           alt.Tooltip("shown:N", title="Value")])
    band = base.mark_area(opacity=0.2, invalid=BREAK).encode(y=alt.Y("low:Q", title=None), y2="high:Q")
    line = base.mark_line(point=alt.OverlayMarkDef(size=18), invalid=BREAK).encode(
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("title:N", title="Figure"), alt.Tooltip("month:T", format="%B %Y"),
                 alt.Tooltip("shown:N", title="Value"), alt.Tooltip("interval:N", title="Interval")],
    )
    return (
        alt.layer(hidden, band, line, data=frame)
        .properties(width=440, height=TREND_HEIGHT)
        .facet(facet=alt.Facet("title:N", title=None, sort=order, header=alt.Header(labelFontWeight="bold")),
               columns=columns)
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")  # a time axis under every panel, not only the bottom row
    )


def forest(frame: pl.DataFrame) -> alt.FacetChart:
    """Estimates with intervals, one row each, a panel per measure (frame: panel, row, order, estimate, low,
    high, source, shown, detail). Our rows are circles with intervals; published figures grey diamonds."""
    y = alt.Y("row:N", title=None, sort=alt.EncodingSortField("order", op="min"), axis=alt.Axis(labelLimit=340))
    colour = alt.Color("source:N", title=None, legend=alt.Legend(orient="bottom"),
                       scale=alt.Scale(domain=[CLINIC, PUBLISHED], range=["#1f77b4", "#7f7f7f"]))
    base = alt.Chart(frame).encode(y=y, color=colour)
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="% of evaluable courses", scale=alt.Scale(domain=[0, 100])), x2="high:Q")
    points = base.mark_point(filled=True, size=90, opacity=1).encode(
        x="estimate:Q",
        shape=alt.Shape("source:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=[CLINIC, PUBLISHED], range=["circle", "diamond"])),
        tooltip=[alt.Tooltip("row:N", title=" "), alt.Tooltip("panel:N", title="Measure"),
                 alt.Tooltip("shown:N", title="Value"), alt.Tooltip("detail:N", title="Note")],
    )
    return alt.layer(rules, points, data=frame).properties(width=330, height=alt.Step(24)).facet(
        column=alt.Column("panel:N", title=None, sort=["Response", "Remission"],
                          header=alt.Header(labelFontSize=14, labelFontWeight="bold")))


def km_curves(curves: pl.DataFrame, at_risk: pl.DataFrame, references: pl.DataFrame, *, weeks: int) -> alt.VConcatChart:
    """Kaplan-Meier steps by group with pointwise bands, published points, and the numbers at risk beneath.

    curves: group, week, surv, low, high (percent); at_risk: group, week, label; references: week, value, label.
    """
    x = alt.X("week:Q", title="Weeks since the endpoint", scale=alt.Scale(domain=[0, weeks], nice=False))
    scale = group_scale(curves["group"].to_list() + at_risk["group"].to_list())
    colour = alt.Color("group:N", title="Indication", scale=scale,
                       legend=alt.Legend(orient="right", symbolType="stroke", symbolStrokeWidth=3))
    base = alt.Chart(curves).encode(x=x, color=colour)
    band = base.mark_area(interpolate="step-after", opacity=0.12).encode(y="low:Q", y2="high:Q")
    line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(
        y=alt.Y("surv:Q", title="% still responding", scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("group:N", title="Indication"), "week:Q",
                 alt.Tooltip("surv:Q", format=".1f", title="% still responding")])
    refs = alt.Chart(references).mark_point(shape="diamond", size=110, filled=True, color="#7f7f7f").encode(
        x="week:Q", y="value:Q", tooltip=[alt.Tooltip("label:N", title="Published")])
    table = alt.Chart(at_risk).mark_text(fontSize=11).encode(
        x=alt.X("week:Q", title="Numbers at risk", scale=alt.Scale(domain=[0, weeks], nice=False),
                axis=alt.Axis(values=sorted(set(at_risk["week"].to_list())))),
        y=alt.Y("group:N", title=None, sort=scale.domain), text="label:N",
        color=alt.Color("group:N", legend=None, scale=scale))
    curves_chart = alt.layer(band, line, refs).properties(width=640, height=300)
    return alt.vconcat(curves_chart, table.properties(width=640, height=alt.Step(18)))


def trajectories(frame: pl.DataFrame, response_line: float) -> alt.LayerChart:
    """Mean % change from baseline by week after the first session (frame: group, week, mean, low, high)."""
    base = alt.Chart(frame).encode(
        x=alt.X("week:Q", title="Weeks since the first session", scale=alt.Scale(domain=[0, 12])),
        color=alt.Color("group:N", title="Indication", scale=group_scale(frame["group"].to_list()),
                        legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3)))
    band = base.mark_area(opacity=0.1, invalid=BREAK).encode(y="low:Q", y2="high:Q")
    line = base.mark_line(point=True, invalid=BREAK).encode(
        y=alt.Y("mean:Q", title="Mean change from baseline (%)"),
        tooltip=[alt.Tooltip("group:N", title="Indication"), "week:Q", alt.Tooltip("mean:Q", format=".1f"),
                 alt.Tooltip("courses:N", title="Courses scored")])
    rule = alt.Chart(pl.DataFrame({"y": [response_line], "label": ["response line"]})).mark_rule(
        strokeDash=[4, 4], color="#7f7f7f").encode(y="y:Q")
    text = alt.Chart(pl.DataFrame({"y": [response_line], "x": [12], "label": ["response line"]})).mark_text(
        align="right", dy=-6, color="#7f7f7f").encode(x="x:Q", y="y:Q", text="label:N")
    return alt.layer(band, line, rule, text).properties(width=640, height=300)


def term_rates(frame: pl.DataFrame) -> alt.LayerChart:
    """Events per 100 sessions by term, one dot and interval per source (frame: term, source, rate, low, high)."""
    base = alt.Chart(frame).encode(
        y=alt.Y("term:N", title=None, sort=alt.EncodingSortField("order"), axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("source:N", sort=["All", "reported", "derived"]),
        color=alt.Color("source:N", title="Source", scale=SOURCE_COLOURS))
    rules = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title="Events per 100 sessions"), x2="high:Q")
    points = base.mark_point(filled=True, size=50).encode(
        x="rate:Q", tooltip=["term:N", "source:N", alt.Tooltip("shown:N", title="per 100 sessions"),
                             alt.Tooltip("events:N", title="Events")])
    return alt.layer(rules, points).properties(width=560, height=alt.Step(9))


def u_chart(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Monthly rate per 100 sessions with centre line and three-sigma limits (frame from limits.u_chart)."""
    base = alt.Chart(frame).encode(x=alt.X("month:T", title=None, axis=alt.Axis(format="%Y")))
    limits = base.mark_area(interpolate="step-after", opacity=0.15, color="#4c78a8").encode(
        y=alt.Y("lcl:Q", title=f"{title} per 100 sessions", scale=alt.Scale(zero=False)), y2="ucl:Q")
    centre = base.mark_line(color="#4c78a8", strokeDash=[4, 4]).encode(y="centre:Q")
    line = base.mark_line(color="#bbbbbb").encode(y="rate:Q")
    points = base.mark_point(filled=True, size=40).encode(
        y="rate:Q",
        color=alt.Color("status:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=["within limits", "outside limits"], range=["#1f77b4", "#d62728"])),
        tooltip=[alt.Tooltip("month:T", format="%B %Y"), alt.Tooltip("rate:Q", format=".2f"),
                 alt.Tooltip("events:Q"), alt.Tooltip("sessions:Q"), alt.Tooltip("ucl:Q", format=".2f")])
    return alt.layer(limits, centre, line, points).properties(width=640, height=260)


def dose_bands(frame: pl.DataFrame, order: list[str]) -> alt.FacetChart:
    """Mean and interval by dose band, one panel per measure (frame: title, band, mean, low, high, sessions)."""
    base = alt.Chart(frame).encode(x=alt.X("band:N", title="Dose, mg/kg", sort=order, axis=alt.Axis(labelAngle=0)))
    rules = base.mark_rule(strokeWidth=2, color="#1f77b4").encode(
        y=alt.Y("low:Q", title=None, scale=alt.Scale(zero=False)), y2="high:Q")
    points = base.mark_point(filled=True, size=70, color="#1f77b4").encode(
        y="mean:Q", tooltip=["band:N", alt.Tooltip("mean:Q", format=".1f"), alt.Tooltip("sessions:N")])
    return alt.layer(rules, points, data=frame).properties(width=300, height=220).facet(
        column=alt.Column("title:N", title=None)).resolve_scale(y="independent")


def funnel(points: pl.DataFrame, limits: pl.DataFrame, target: float, *, x_title: str, y_title: str) -> alt.LayerChart:
    """Rate against volume per site with 95% and 99.8% limits around the all-sites value.

    points: label, volume, value, position, highlight; limits: volume, level, lower, upper.
    """
    span = [float(limits["volume"].min()), float(limits["volume"].max())]
    x = alt.X("volume:Q", title=x_title, scale=alt.Scale(type="log", domain=span, nice=False))
    bands = alt.Chart(limits)
    dash = alt.StrokeDash("level:N", title="Limits", scale=alt.Scale(domain=["95%", "99.8%"], range=[[5, 4], [1, 0]]))
    lower = bands.mark_line(color="#7f7f7f").encode(x=x, y=alt.Y("lower:Q", title=y_title, scale=alt.Scale(zero=False)),
                                                    strokeDash=dash)
    upper = bands.mark_line(color="#7f7f7f").encode(x=x, y="upper:Q", strokeDash=dash)
    centre = alt.Chart(pl.DataFrame({"target": [target]})).mark_rule(color="#4c78a8").encode(y="target:Q")
    dots = alt.Chart(points).encode(x=x, y="value:Q")
    marks = dots.mark_point(filled=True).encode(
        color=alt.Color("position:N", title="Site vs limits", scale=FUNNEL_COLOURS),
        size=alt.condition("datum.highlight", alt.value(260), alt.value(110)),
        tooltip=[alt.Tooltip("label:N", title="Site"), alt.Tooltip("shown:N", title=y_title),
                 alt.Tooltip("volume:Q", title=x_title), "position:N"])
    names = dots.mark_text(align="left", dx=9, fontSize=12).encode(text="label:N")
    return alt.layer(lower, upper, centre, marks, names).properties(width=560, height=320)


def grouped_bars(frame: pl.DataFrame, *, y_title: str, full_scale: bool = True) -> alt.LayerChart:
    """Percentages by group with intervals (frame: group, measure, value, low, high, shown); the y axis runs to
    100% when ``full_scale``, else to the data (small shares such as missing vitals)."""
    scale = alt.Scale(domain=[0, 100]) if full_scale else alt.Scale(zero=True)
    base = alt.Chart(frame).encode(x=alt.X("group:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=140)),
                                   xOffset="measure:N",
                                   color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="bottom")))
    bars = base.mark_bar().encode(y=alt.Y("value:Q", title=y_title, scale=scale),
                                  tooltip=["group:N", "measure:N", alt.Tooltip("shown:N", title=y_title)])
    rules = base.mark_rule(color="black").encode(y="low:Q", y2="high:Q")
    return alt.layer(bars, rules).properties(width=380, height=260)


def ratio_forest(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Model ratios with intervals on a log scale and a rule at 1 (frame: term, ratio, ci_low, ci_high)."""
    base = alt.Chart(frame).encode(y=alt.Y("term:N", title=None, axis=alt.Axis(labelLimit=260)))
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=title, scale=alt.Scale(type="log")), x2="ci_high:Q")
    points = base.mark_point(filled=True, size=60).encode(
        x="ratio:Q", tooltip=["term:N", alt.Tooltip("ratio:Q", format=".2f"), alt.Tooltip("ci_low:Q", format=".2f"),
                              alt.Tooltip("ci_high:Q", format=".2f")])
    one = alt.Chart(pl.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4], color="#7f7f7f").encode(x="x:Q")
    return alt.layer(rules, points, one).properties(width=520, height=alt.Step(20), title=title)
