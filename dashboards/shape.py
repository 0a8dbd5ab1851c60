"""Published frames reshaped for charts and tables: labels, percent scales, published figures alongside.

Pure polars over what data.py returned; suppressed values stay null and are written with labels.fmt_count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from dashboards import labels
from dashboards.charts import CLINIC, PUBLISHED
from dashboards.labels import ALL, METRICS, fmt_count, fmt_interval, fmt_value, scale
from dashboards.reference import figures_for


@dataclass(frozen=True)
class Tile:
    metric: str
    title: str
    value: str
    caption: str
    definition: str


def tiles(headline: pl.DataFrame, metrics: Sequence[str], about: Mapping[str, str]) -> list[Tile]:
    """One headline figure per metric: value, interval and counts, or the suppression mark."""
    rows = {r["metric"]: r for r in headline.iter_rows(named=True)}
    out = []
    for metric in metrics:
        label = METRICS[metric]
        row = rows.get(metric)
        if row is None:
            out.append(Tile(metric, label.title, "—", "no data for these filters", labels.definition(metric, about)))
            continue
        if row["suppressed"]:
            value = labels.suppressed_mark(about) if label.unit == "count" else "suppressed"
        else:
            value = fmt_value(row["estimate"], label.unit)
        out.append(Tile(metric, label.title, value, _tile_caption(row, label.unit, about),
                        labels.definition(metric, about)))
    return out


def _tile_caption(row: Mapping[str, object], unit: str, about: Mapping[str, str]) -> str:
    if unit == "count":
        return ""
    interval = fmt_interval(row["ci_low"], row["ci_high"], unit, about)
    counts = {
        "proportion": f"{fmt_count(row['numerator'], about)} of {fmt_count(row['denominator'], about)}",
        "per_100_sessions": f"{fmt_count(row['numerator'], about)} in {fmt_count(row['denominator'], about)} sessions",
        "km_proportion": f"{fmt_count(row['numerator'], about)} at risk of {fmt_count(row['denominator'], about)}",
    }[unit]
    return " · ".join(p for p in (interval, counts) if p)


def trend(monthly: pl.DataFrame, about: Mapping[str, str]) -> pl.DataFrame:
    """Monthly metric rows as chart rows: title, month, value/low/high on the plotted scale, text for tooltips."""
    if monthly.is_empty():
        return pl.DataFrame(schema={"title": pl.String, "month": pl.String, "value": pl.Float64, "low": pl.Float64,
                                    "high": pl.Float64, "shown": pl.String, "interval": pl.String,
                                    "hidden": pl.Boolean})
    rows = []
    for r in monthly.iter_rows(named=True):
        label = METRICS[r["metric"]]
        k = scale(label.unit)
        rows.append({
            "title": _with_unit(label.title, label.unit),
            "month": r["month"] if r["month"] != ALL else r["period"],  # a year row stands for its year
            "value": None if r["estimate"] is None else r["estimate"] * k,
            "low": None if r["ci_low"] is None else r["ci_low"] * k,
            "high": None if r["ci_high"] is None else r["ci_high"] * k,
            "shown": labels.suppressed_mark(about) if r["suppressed"] else fmt_value(r["estimate"], label.unit),
            "interval": fmt_interval(r["ci_low"], r["ci_high"], label.unit, about),
            "hidden": bool(r["suppressed"]),
        })
    return pl.DataFrame(rows, schema_overrides={"value": pl.Float64, "low": pl.Float64, "high": pl.Float64})


def _with_unit(title: str, unit: str) -> str:
    return f"{title} (%)" if unit in ("proportion", "km_proportion") else title


def trend_order(metrics: Sequence[str]) -> list[str]:
    return [_with_unit(METRICS[m].title, METRICS[m].unit) for m in metrics]


def forest(by_indication: pl.DataFrame, indication: str, about: Mapping[str, str]) -> pl.DataFrame:
    """Response and remission per indication (all of them, or the chosen one) with comparable published figures."""
    rows = by_indication if indication == ALL else by_indication.filter(pl.col("indication") == indication)
    names = sorted(set(rows["indication"].to_list()), key=lambda i: (i != ALL, i))
    out = []
    for r in rows.iter_rows(named=True):
        name = "All indications" if r["indication"] == ALL else r["indication"]
        out.append({
            "panel": METRICS[r["metric"]].title, "row": f"{name} (n={fmt_count(r['denominator'], about)})",
            "order": names.index(r["indication"]), "source": CLINIC,
            "estimate": None if r["estimate"] is None else 100 * r["estimate"],
            "low": None if r["ci_low"] is None else 100 * r["ci_low"],
            "high": None if r["ci_high"] is None else 100 * r["ci_high"],
            "shown": "suppressed" if r["suppressed"] else fmt_value(r["estimate"], "proportion"),
            "detail": fmt_interval(r["ci_low"], r["ci_high"], "proportion", about),
        })
    studies: list[str] = []
    for metric in ("response", "remission"):
        for fig in figures_for(metric, indication):
            if fig.label not in studies:
                studies.append(fig.label)
            out.append({"panel": METRICS[metric].title, "row": fig.label, "order": 100 + studies.index(fig.label),
                        "source": PUBLISHED, "estimate": 100 * fig.value, "low": None, "high": None,
                        "shown": f"{100 * fig.value:.1f}%", "detail": fig.note})
    return pl.DataFrame(out, schema_overrides={"estimate": pl.Float64, "low": pl.Float64, "high": pl.Float64})


def outcome_table(by_indication: pl.DataFrame, about: Mapping[str, str]) -> pl.DataFrame:
    """Counts and rates by indication as people read them ('<11*' where suppressed)."""
    wide: dict[str, dict[str, object]] = {}
    for r in by_indication.iter_rows(named=True):
        row = wide.setdefault(r["indication"], {"Indication": "All indications" if r["indication"] == ALL
                                                else r["indication"]})
        if r["metric"] == "response":
            row["Evaluable courses"] = fmt_count(r["denominator"], about)
            row["Responders"] = fmt_count(r["numerator"], about)
            row["Response"] = "suppressed" if r["suppressed"] else fmt_value(r["estimate"], "proportion")
            row["Response interval"] = fmt_interval(r["ci_low"], r["ci_high"], "proportion", about)
        elif r["metric"] == "remission":
            row["Remitters"] = fmt_count(r["numerator"], about)
            row["Remission"] = "suppressed" if r["suppressed"] else fmt_value(r["estimate"], "proportion")
            row["Remission interval"] = fmt_interval(r["ci_low"], r["ci_high"], "proportion", about)
    ordered = sorted(wide.items(), key=lambda kv: (kv[0] != ALL, kv[0]))
    columns = ["Indication", "Evaluable courses", "Responders", "Response", "Response interval", "Remitters",
               "Remission", "Remission interval"]
    return pl.DataFrame([{c: row.get(c, "") for c in columns} for _, row in ordered])


def km(curves: pl.DataFrame, at_risk: pl.DataFrame, indication: str,
       about: Mapping[str, str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Curves in percent, the at-risk labels beneath, and the published Kaplan-Meier points."""
    def pick(frame: pl.DataFrame) -> pl.DataFrame:
        chosen = frame if indication == ALL else frame.filter(pl.col("indication") == indication)
        return chosen.with_columns(group=pl.when(pl.col("indication") == ALL).then(pl.lit("All indications"))
                                   .otherwise(pl.col("indication")))
    lines = pick(curves).select("group", "week", (pl.col("surv") * 100).alias("surv"),
                                (pl.col("ci_low") * 100).alias("low"), (pl.col("ci_high") * 100).alias("high"))
    drawn = set(lines["group"].to_list())
    table = pick(at_risk).filter(pl.col("group").is_in(list(drawn)) | (pl.col("indication") == indication))
    table = table.with_columns(label=pl.col("at_risk").map_elements(lambda v: fmt_count(v, about),
                                                                    return_dtype=pl.String)
                               .fill_null(labels.suppressed_mark(about)))
    refs = [{"week": week, "value": 100 * f.value, "label": f"{f.label}: {100 * f.value:.0f}% ({f.note})"}
            for week, metric in ((4, "still_responding_4w"), (8, "still_responding_8w"))
            for f in figures_for(metric, indication)]
    return lines, table.select("group", "week", "label"), pl.DataFrame(
        refs, schema={"week": pl.Int64, "value": pl.Float64, "label": pl.String})


def trajectories(frame: pl.DataFrame, indication: str) -> pl.DataFrame:
    chosen = frame if indication == ALL else frame.filter(pl.col("indication") == indication)
    return chosen.select(
        pl.when(pl.col("indication") == ALL).then(pl.lit("All indications")).otherwise(pl.col("indication"))
        .alias("group"), "week", pl.col("mean_pct_change").alias("mean"), pl.col("ci_low").alias("low"),
        pl.col("ci_high").alias("high"), pl.col("courses").cast(pl.String).fill_null("suppressed"))


def term_rates(rates: pl.DataFrame, term_labels: Mapping[str, str], about: Mapping[str, str]) -> pl.DataFrame:
    rows = rates.filter(pl.col("event_term") != ALL).sort("event_term")
    totals = rows.filter(pl.col("source") == ALL).sort("rate_per_100", descending=True, nulls_last=True)
    order = {t: i for i, t in enumerate(totals["event_term"].to_list())}
    return rows.select(
        pl.col("event_term").replace_strict(term_labels, default=pl.col("event_term")).alias("term"),
        pl.col("event_term").replace_strict(order, default=999).alias("order"), "source",
        pl.col("rate_per_100").alias("rate"), pl.col("ci_low").alias("low"), pl.col("ci_high").alias("high"),
        pl.col("events").map_elements(lambda v: fmt_count(v, about), return_dtype=pl.String)
        .fill_null(labels.suppressed_mark(about)).alias("events"),
        pl.when(pl.col("suppressed")).then(pl.lit("suppressed")).otherwise(
            pl.col("rate_per_100").round(2).cast(pl.String)).alias("shown"))


def dose_bands(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    titles = {"sbp_rise_mmhg": "Systolic BP rise, mmHg (mean)", "cadss_total": "CADSS dissociation score (mean)"}
    rows = frame.filter(pl.col("dose_band") != ALL).select(
        pl.col("measure").replace_strict(titles).alias("title"), pl.col("dose_band").alias("band"),
        "mean", pl.col("ci_low").alias("low"), pl.col("ci_high").alias("high"),
        pl.col("sessions").cast(pl.String).fill_null("suppressed"))
    bands = sorted(set(rows["band"].to_list()), key=_band_key)
    return rows, bands


def _band_key(band: str) -> tuple[int, float]:
    if band == "unknown":
        return (2, 0.0)
    if band.startswith("<"):
        return (0, -1.0)
    return (0, float(band.lstrip(">=").split("-")[0]))


def metric_by(frame: pl.DataFrame, metric: str, group: str, group_labels: Mapping[str, str],
              about: Mapping[str, str]) -> pl.DataFrame:
    """One metric by group (site, indication) in percent, for bars and tables."""
    unit = METRICS[metric].unit
    k = scale(unit)
    return frame.filter((pl.col("metric") == metric) & (pl.col(group) != ALL)).select(
        pl.col(group).replace_strict(group_labels, default=pl.col(group)).alias("group"),
        pl.lit(METRICS[metric].title).alias("measure"),
        (pl.col("estimate") * k).alias("value"), (pl.col("ci_low") * k).alias("low"),
        (pl.col("ci_high") * k).alias("high"),
        pl.struct("estimate", "suppressed").map_elements(
            lambda s: "suppressed" if s["suppressed"] else fmt_value(s["estimate"], unit), return_dtype=pl.String
        ).alias("shown"),
    )
