"""Our estimates beside the published figures of domain-facts.md, each on the closest comparable basis.

The published numbers are facts from the literature (cited by study name), not thresholds. Each row says
which of our courses, sessions or patients it counts, so a reader can judge how comparable it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis.durability import MILESTONE_DAYS, kaplan_meier
from analysis.intervals import poisson_exact_ci, wilson_ci
from analysis.marts import MartData
from analysis.tidy import OK, TOO_FEW, conform
from core.definitions import load_primary_instruments

PERCENT, DAYS = "percent", "days"
LITERATURE_SCHEMA: dict[str, pl.DataType] = {
    "study": pl.String(), "setting": pl.String(), "measure": pl.String(), "unit": pl.String(),
    "published": pl.String(), "published_value": pl.Float64(), "estimate": pl.Float64(), "ci_low": pl.Float64(),
    "ci_high": pl.Float64(), "denominator": pl.Int64(), "our_basis": pl.String(), "status": pl.String(),
}


@dataclass(frozen=True)
class Figure:
    study: str
    setting: str
    measure: str
    unit: str
    published: str  # as the source states it
    published_value: float | None  # the same, as a number in `unit`


def depression_indications() -> tuple[str, ...]:
    """Indications whose preferred instrument is MADRS (seed primary_instruments): the depression group."""
    return tuple(sorted(k for k, v in load_primary_instruments().items() if "MADRS" in v))


def _row(figure: Figure, estimate: float | None, low: float | None, high: float | None, denominator: int,
         basis: str, min_cell_size: int) -> dict:
    def clean(v: float | None) -> float | None:
        return None if v is None or not np.isfinite(v) else float(v)

    return {**figure.__dict__, "estimate": clean(estimate), "ci_low": clean(low), "ci_high": clean(high),
            "denominator": denominator, "our_basis": basis, "status": OK if denominator >= min_cell_size else TOO_FEW}


def _share(figure: Figure, hits: int, total: int, basis: str, alpha: float, min_cell_size: int) -> dict:
    low, high = wilson_ci(np.array([hits]), np.array([total]), alpha)
    estimate = 100.0 * hits / total if total else None
    return _row(figure, estimate, 100.0 * low[0], 100.0 * high[0], total, basis, min_cell_size)


def _responses(data: MartData, indications: Iterable[str], instrument: str, route: str) -> tuple[int, int, int]:
    picked = data.responses.filter(pl.col("indication").is_in(list(indications)) & (pl.col("instrument") == instrument)
                                   & (pl.col("route") == route))
    return int(picked["courses"].sum()), int(picked["responders"].sum()), int(picked["remitters"].sum())


def _km(data: MartData, indications: Iterable[str], instrument: str, route: str, alpha: float) -> list[dict] | None:
    picked = data.durability.filter(pl.col("indication").is_in(list(indications))
                                    & (pl.col("instrument") == instrument) & (pl.col("route") == route))
    if picked.height == 0:
        return None
    rows, _ = kaplan_meier("comparison", picked["days_to_event"].to_numpy(), picked["lost_response"].to_numpy(),
                           alpha=alpha, days_of_interest=MILESTONE_DAYS)
    return rows


def _km_rows(data: MartData, figures: list[tuple[Figure, str, int | None]], indications: tuple[str, ...],
             instrument: str, basis: str, alpha: float, min_cell_size: int) -> list[dict]:
    """KM-based comparisons: (figure, statistic, day) picked from one IV KM fit."""
    km = _km(data, indications, instrument, "IV", alpha)
    out = []
    for figure, statistic, day in figures:
        found = next((r for r in km or [] if r["statistic"] == statistic and r.get("day") == day), None)
        if found is None:
            out.append(_row(figure, None, None, None, 0, basis, min_cell_size))
            continue
        scale = 100.0 if figure.unit == PERCENT else 1.0
        values = [None if found.get(k) is None else scale * found[k] for k in ("estimate", "ci_low", "ci_high")]
        out.append(_row(figure, *values, found["courses"], basis, min_cell_size))
    return out


def literature_comparison(data: MartData, *, alpha: float, min_cell_size: int) -> pl.DataFrame:
    """One row per published figure with our estimate, its interval and what we counted."""
    dep = depression_indications()
    dep_text = "/".join(dep)
    rows: list[dict] = []
    courses, responders, remitters = _responses(data, dep, "PHQ9", "IV")
    phq_basis = f"{dep_text} courses, IV, evaluable on PHQ9"
    for figure, hits in (
        (Figure("McInnes 2022", "real-world IV, PHQ-9, n=537", "response", PERCENT, "53.6%", 53.6), responders),
        (Figure("McInnes 2022", "real-world IV, PHQ-9, n=537", "remission", PERCENT, "28.9%", 28.9), remitters),
        (Figure("Oliver 2022", "real-world IV, PHQ-9, n=424", "response within 6 weeks", PERCENT, "50%", 50.0),
         responders),
        (Figure("Oliver 2022", "real-world IV, PHQ-9, n=424", "remission", PERCENT, "20%", 20.0), remitters),
    ):
        rows.append(_share(figure, hits, courses, phq_basis, alpha, min_cell_size))
    mcinnes = "real-world IV, PHQ-9, n=537"
    rows += _km_rows(data, [
        (Figure("McInnes 2022", mcinnes, "still responding at 4 weeks (KM)", PERCENT, "~80%", 80.0),
         "still_responding", 28),
        (Figure("McInnes 2022", mcinnes, "still responding at 8 weeks (KM)", PERCENT, "~60%", 60.0),
         "still_responding", 56)], dep, "PHQ9", f"{dep_text} responders, IV, primary PHQ9", alpha, min_cell_size)
    courses, responders, remitters = _responses(data, dep, "MADRS", "IV")
    madrs_basis = f"{dep_text} courses, IV, evaluable on MADRS"
    rows.append(_share(Figure("Murrough 2013", "RCT, 6 IV infusions, MADRS, n=24", "response", PERCENT, "70.8%", 70.8),
                       responders, courses, madrs_basis, alpha, min_cell_size))
    rows.append(_share(Figure("KetECT 2023", "RCT, IV vs ECT, MADRS, n=186", "remission", PERCENT, "46%", 46.0),
                       remitters, courses, madrs_basis, alpha, min_cell_size))
    rows += _km_rows(data, [(Figure("Murrough 2013", "RCT, 6 IV infusions, MADRS, n=24", "median time to relapse",
                                    DAYS, "18 days", 18.0), "median_days", None)],
                     dep, "MADRS", f"{dep_text} responders, IV, primary MADRS", alpha, min_cell_size)
    courses, responders, _ = _responses(data, dep, "QIDS_SR16", "IV")
    rows.append(_share(Figure("Anand 2023 (ELEKT-D)", "RCT, IV vs ECT, QIDS-SR16, n=403", "response", PERCENT,
                              "55.4%", 55.4), responders, courses, f"{dep_text} courses, IV, evaluable on QIDS_SR16",
                       alpha, min_cell_size))
    courses, responders, _ = _responses(data, ["PTSD"], "PCL5", "IV")
    rows.append(_share(Figure("Feder 2021", "RCT, PTSD, PCL-5/CAPS, n=30", "response", PERCENT, "67%", 67.0),
                       responders, courses, "PTSD courses, IV, evaluable on PCL5", alpha, min_cell_size))
    rows += _km_rows(data, [(Figure("Feder 2021", "RCT, PTSD, PCL-5/CAPS, n=30", "median loss of response", DAYS,
                                    "27.5 days", 27.5), "median_days", None)],
                     ("PTSD",), "PCL5", "PTSD responders, IV, primary PCL5", alpha, min_cell_size)
    courses, responders, _ = _responses(data, ["CHRONIC_PAIN"], "PAIN_NRS", "IV")
    rows.append(_share(Figure("Zhao 2018", "CRPS pain", "pain relief >= 30%", PERCENT, "69%", 69.0), responders,
                       courses, "CHRONIC_PAIN courses, IV, PAIN_NRS reduction >= response_reduction (not 30%)",
                       alpha, min_cell_size))
    rows += _adverse_event_rows(data, alpha, min_cell_size)
    return conform(rows, LITERATURE_SCHEMA)


def _adverse_event_rows(data: MartData, alpha: float, min_cell_size: int) -> list[dict]:
    d = data.definitions
    line = f"SBP >= {d.derived_hypertension_sbp_mmhg} or DBP >= {d.derived_hypertension_dbp_mmhg} mmHg"
    iv = data.peak_bp.filter(pl.col("route") == "IV")
    sessions, crossing = int(iv["sessions"].sum()), int(iv["crossing"].sum())
    patients, patients_crossing = int(iv["patients"].sum()), int(iv["patients_crossing"].sum())
    low, high = poisson_exact_ci(np.array([crossing]), np.array([sessions]), alpha)
    yale = "IV, real-world"
    rows = [_row(Figure("Yale 2024", yale, "severe hypertension, % of infusions", PERCENT, "0.98%", 0.98),
                 100.0 * crossing / sessions if sessions else None, 100.0 * low[0], 100.0 * high[0], sessions,
                 f"IV sessions with peak BP recorded, {line} (exact Poisson)", min_cell_size),
            _share(Figure("Yale 2024", yale, "severe hypertension, % of patients", PERCENT, "12.5%", 12.5),
                   patients_crossing, patients, f"IV patients with peak BP recorded, any session {line}",
                   alpha, min_cell_size)]
    published = (
        ("Rodrigues 2022", "IV, real-world", "IV",
         (("drowsiness", "sedation", 56.0), ("dizziness", "dizziness", 45.0), ("dissociation", "dissociation", 36.0),
          ("nausea", "nausea", 13.0))),
        ("Spravato label", "intranasal esketamine", "INTRANASAL",
         (("dissociation", "dissociation", 41.0), ("dizziness", "dizziness", 29.0), ("nausea", "nausea", 28.0),
          ("sedation", "sedation", 23.0), ("headache", "headache", 20.0), ("BP increase", "hypertension", 10.0),
          ("vomiting", "vomiting", 9.0))),
    )
    for study, setting, route, figures in published:
        exposed = data.patient_terms.filter(pl.col("route") == route)
        total = int(exposed["patients"].max() or 0) if exposed.height else 0
        for label, term, value in figures:
            hits = int(exposed.filter(pl.col("event_term") == term)["patients_with_event"].sum())
            rows.append(_share(Figure(study, setting, f"{label}, % of patients", PERCENT, f"{value:g}%", value),
                               hits, total, f"{route} patients with a reported {term} event in a {route} session",
                               alpha, min_cell_size))
    return rows
