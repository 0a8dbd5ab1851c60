"""An independent, deliberately plain Python reading of ../shared/spec/definitions.md.

It reads the raw tables of a warehouse and computes what the marts must hold, without the seeds or any of
the SQL: the instrument thresholds, the ICD-10 mapping and the primary-instrument rule are written here
again from definitions.md and source-contract.md, so a wrong seed row shows up as a disagreement too.
Thresholds that are dbt vars come in as a mapping, so the same code checks builds with overrides.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb

# definitions.md, "Response, remission": min_baseline and remission ceiling per instrument.
MIN_BASELINE = {"PHQ9": 10, "GAD7": 10, "MADRS": 20, "QIDS_SR16": 11, "PCL5": 33, "BDI_II": 20, "PAIN_NRS": 4}
REMISSION_MAX = {"PHQ9": 4, "GAD7": 4, "MADRS": 10, "QIDS_SR16": 5, "PCL5": 32, "BDI_II": 13, "PAIN_NRS": 3}
DEPRESSION = {"TRD", "MDD", "BIPOLAR_DEP", "SUICIDAL_IDEATION"}
PRIMARY_OTHERWISE = {"PTSD": "PCL5", "ANXIETY": "GAD7", "OCD": "PHQ9", "CHRONIC_PAIN": "PAIN_NRS", "OTHER": "PHQ9"}
TRD_MIN_FAILED = 2  # source-contract.md


def indication_of(code: str, failed: int | None) -> str:
    """source-contract.md: indication from the ICD-10 code (any case, dot optional)."""
    c = code.strip().upper().replace(".", "")
    if c.startswith(("F32", "F33")):
        return "TRD" if failed is not None and failed >= TRD_MIN_FAILED else "MDD"
    for prefix, name in (("F31", "BIPOLAR_DEP"), ("F431", "PTSD"), ("F41", "ANXIETY"), ("F42", "OCD"),
                         ("G89", "CHRONIC_PAIN"), ("M797", "CHRONIC_PAIN"), ("R45851", "SUICIDAL_IDEATION")):
        if c.startswith(prefix):
            return name
    return "OTHER"


@dataclass
class Course:
    patient_id: str
    course_number: int
    sessions: list[dict[str, Any]]
    induction_ids: list[str]
    next_first: dt.date | None = None

    @property
    def first(self) -> dt.date:
        return self.sessions[0]["session_date"]

    @property
    def last(self) -> dt.date:
        return self.sessions[-1]["session_date"]

    @property
    def last_induction(self) -> dt.date:
        ids = set(self.induction_ids)
        return max(s["session_date"] for s in self.sessions if s["session_id"] in ids)


@dataclass
class Expected:
    """What the marts must say, keyed the way the marts are."""

    indication: dict[str, str] = field(default_factory=dict)  # patient -> indication
    sessions: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # session -> course, number, phase
    courses: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    response: dict[tuple[str, int, str], dict[str, Any]] = field(default_factory=dict)
    durability: dict[tuple[str, int, str], dict[str, Any]] = field(default_factory=dict)
    derived_events: set[tuple[str, str]] = field(default_factory=set)  # (session, term)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _line(baseline: float, response_reduction: float) -> Fraction:
    """(1 - response_reduction) x baseline, exactly (the var as written, not its binary float)."""
    return (1 - Fraction(str(response_reduction))) * Fraction(baseline)


def expected_from_warehouse(warehouse: Path, definitions: Mapping[str, Any]) -> Expected:
    d = definitions
    with duckdb.connect(str(warehouse), read_only=True) as con:
        patients = _rows(con, "SELECT * FROM raw.patients")
        sessions = _rows(con, "SELECT * FROM raw.sessions")
        assessments = _rows(con, "SELECT * FROM raw.assessments")
        events = _rows(con, "SELECT * FROM raw.adverse_events")
    out = Expected()
    for p in patients:
        out.indication[p["patient_id"]] = indication_of(p["primary_dx_icd10"], p["prior_failed_treatments"])

    # Treatment courses and induction.
    by_patient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in sessions:
        by_patient[s["patient_id"]].append(s)
    courses: dict[str, list[Course]] = {}
    for patient_id, rows in by_patient.items():
        ordered = sorted(rows, key=lambda s: (s["session_date"], s["session_id"]))
        groups: list[list[dict[str, Any]]] = []
        for i, s in enumerate(ordered):
            if i == 0 or (s["session_date"] - ordered[i - 1]["session_date"]).days >= d["course_gap_days"]:
                groups.append([])
            groups[-1].append(s)
        patient_courses = []
        for number, group in enumerate(groups, start=1):
            first = group[0]["session_date"]
            within = [s for s in group if (s["session_date"] - first).days <= d["induction_window_days"]]
            induction = [s["session_id"] for s in within[: d["induction_sessions"]]]
            patient_courses.append(Course(patient_id, number, group, induction))
            for position, s in enumerate(group, start=1):
                phase = "induction" if s["session_id"] in induction else "maintenance"
                out.sessions[s["session_id"]] = (number, position, phase)
        for earlier, later in zip(patient_courses, patient_courses[1:], strict=False):
            earlier.next_first = later.first
        courses[patient_id] = patient_courses

    # Baseline and endpoint per course x instrument.
    scores: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for a in assessments:
        scores[(a["patient_id"], a["instrument"])].append(a)
    for key in scores:
        scores[key].sort(key=lambda a: (a["assessed_on"], a["assessment_id"]))
    instruments_of: dict[str, set[str]] = defaultdict(set)
    for patient_id, instrument in scores:
        instruments_of[patient_id].add(instrument)

    for patient_id, patient_courses in courses.items():
        for c in patient_courses:
            results = {}
            for instrument in sorted(instruments_of[patient_id]):
                series = scores[(patient_id, instrument)]
                lo = c.first - dt.timedelta(days=d["baseline_window_days"])
                hi = c.last_induction + dt.timedelta(days=d["endpoint_window_days"])
                base = [a for a in series if lo <= a["assessed_on"] <= c.first]
                end = [a for a in series if c.first < a["assessed_on"] <= hi]
                if not base and not end:
                    continue
                b = base[-1] if base else None
                e = end[-1] if end else None
                if b is None:
                    reason = "no_baseline"
                elif b["total_score"] < MIN_BASELINE[instrument]:
                    reason = "below_min_baseline"
                elif e is None:
                    reason = "no_endpoint"
                else:
                    reason = None
                evaluable = reason is None
                pct = None
                if b is not None and e is not None and b["total_score"] != 0:
                    pct = (e["total_score"] - b["total_score"]) / b["total_score"]
                results[instrument] = {
                    "baseline_assessment_id": b["assessment_id"] if b else None,
                    "baseline_score": b["total_score"] if b else None,
                    "baseline_date": b["assessed_on"] if b else None,
                    "endpoint_assessment_id": e["assessment_id"] if e else None,
                    "endpoint_score": e["total_score"] if e else None,
                    "endpoint_date": e["assessed_on"] if e else None,
                    "pct_change": pct,
                    "evaluable": evaluable,
                    "not_evaluable_reason": reason,
                    "responder": (Fraction(e["total_score"]) <= _line(b["total_score"], d["response_reduction"]))
                    if evaluable else None,
                    "remitter": (e["total_score"] <= REMISSION_MAX[instrument]) if evaluable else None,
                }
            indication = out.indication[patient_id]
            madrs = results.get("MADRS")
            if indication in DEPRESSION:
                both = madrs is not None and madrs["baseline_score"] is not None and madrs["endpoint_score"] is not None
                primary = "MADRS" if both else "PHQ9"
            else:
                primary = PRIMARY_OTHERWISE[indication]
            for instrument, r in results.items():
                r["is_primary"] = instrument == primary
                out.response[(patient_id, c.course_number, instrument)] = r
            p = results.get(primary)
            out.courses[(patient_id, c.course_number)] = {
                "first_session_date": c.first,
                "last_session_date": c.last,
                "last_induction_session_date": c.last_induction,
                "next_course_first_session_date": c.next_first,
                "sessions": len(c.sessions),
                "induction_sessions": len(c.induction_ids),
                "completed_induction": len(c.induction_ids) >= d["induction_sessions"],
                "primary_instrument": primary,
                "primary_evaluable": bool(p and p["evaluable"]),
                "primary_not_evaluable_reason": p["not_evaluable_reason"] if p else "no_baseline",
                "primary_responder": p["responder"] if p else None,
                "primary_remitter": p["remitter"] if p else None,
            }

            # Durability of each responding instrument.
            for instrument, r in results.items():
                if not r["responder"]:
                    continue
                line = _line(r["baseline_score"], d["response_reduction"])
                follow = [
                    a for a in scores[(patient_id, instrument)]
                    if a["assessed_on"] > r["endpoint_date"]
                    and (c.next_first is None or a["assessed_on"] < c.next_first)
                ]
                k = d["relapse_consecutive"]
                loss = next(
                    (
                        follow[i]["assessed_on"]
                        for i in range(len(follow) - k + 1)
                        if all(Fraction(a["total_score"]) > line for a in follow[i : i + k])
                    ),
                    None,
                )
                event = loss or (follow[-1]["assessed_on"] if follow else r["endpoint_date"])
                out.durability[(patient_id, c.course_number, instrument)] = {
                    "endpoint_date": r["endpoint_date"],
                    "lost_response": loss is not None,
                    "event_date": event,
                    "days_to_event": (event - r["endpoint_date"]).days,
                    "followup_scores": len(follow),
                }

    # Derived adverse events.
    reported: dict[str, set[str]] = defaultdict(set)
    for e in events:
        reported[e["session_id"]].add(e["event_term"])
    for s in sessions:
        sbp, dbp, spo2 = s["sbp_max"], s["dbp_max"], s["spo2_min"]
        high = (sbp is not None and sbp >= d["derived_hypertension_sbp_mmhg"]) or (
            dbp is not None and dbp >= d["derived_hypertension_dbp_mmhg"]
        )
        if high and "hypertension" not in reported[s["session_id"]]:
            out.derived_events.add((s["session_id"], "hypertension"))
        low = spo2 is not None and spo2 < d["derived_desaturation_spo2_pct"]
        if low and "desaturation" not in reported[s["session_id"]]:
            out.derived_events.add((s["session_id"], "desaturation"))
    return out
