"""definitions.md re-implemented from the files alone, small and separate from the generator's own code.

Used to check that what the generator says it planted (truth_courses.parquet) is what the definitions
measure in the source files. Thresholds come through core.definitions like everywhere else; the logic
(courses, induction, windows, primary instrument, responder) is written again here from the text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core.definitions import (
    load_definitions,
    load_indication_rules,
    load_instruments,
    load_primary_instruments,
)
from ingest.contract import contract

_POLARS = {"text": pl.String, "integer": pl.Int64, "number": pl.Float64, "date": pl.Date, "boolean": pl.Boolean}


def read_source(folder: Path) -> dict[str, pl.DataFrame]:
    """Every contract table of a source folder (CSV or Parquet), typed as the contract says."""
    tables = {}
    for table in contract():
        schema = {c.name: _POLARS[c.kind] for c in table.columns}
        csv, parquet = folder / f"{table.name}.csv", folder / f"{table.name}.parquet"
        if csv.exists():
            frame = pl.read_csv(csv, schema=schema)
        else:
            frame = pl.read_parquet(parquet).cast(schema)
        tables[table.name] = frame
    return tables


def indication_of(code: str, failed: int | None) -> str:
    """Seed rules: the matching prefix of the highest priority whose failed-trial condition holds."""
    normal = code.upper().replace(".", "")
    matches = []
    for rule in load_indication_rules():
        needed = rule["requires_min_failed_treatments"]
        if normal.startswith(rule["code_prefix"]) and (not needed or (failed is not None and failed >= int(needed))):
            matches.append((int(rule["priority"]), rule["indication"]))
    return max(matches)[1] if matches else "OTHER"


def course_outcomes(source: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per course: indication, primary instrument, baseline, endpoint, reason, responder, remitter."""
    d = load_definitions()
    patients = source["patients"].select(
        "patient_id",
        pl.struct("primary_dx_icd10", "prior_failed_treatments")
        .map_elements(lambda r: indication_of(r["primary_dx_icd10"], r["prior_failed_treatments"]),
                      return_dtype=pl.String).alias("indication"),
    )
    sessions = source["sessions"].sort("patient_id", "session_date", "session_id").with_columns(
        gap=(pl.col("session_date") - pl.col("session_date").shift(1).over("patient_id")).dt.total_days(),
    ).with_columns(
        course_number=(pl.col("gap").is_null() | (pl.col("gap") >= d.course_gap_days)).cast(pl.Int64)
        .cum_sum().over("patient_id"),
    ).with_columns(
        first_session_date=pl.col("session_date").min().over("patient_id", "course_number"),
        rank=pl.int_range(pl.len()).over("patient_id", "course_number"),
    ).with_columns(
        induction=(pl.col("session_date") <= pl.col("first_session_date") + pl.duration(days=d.induction_window_days))
        & (pl.col("rank") < d.induction_sessions),
    )
    courses = sessions.group_by("patient_id", "course_number").agg(
        pl.col("first_session_date").first(),
        pl.col("session_date").filter(pl.col("induction")).max().alias("last_induction_date"),
    )
    scored = courses.join(source["assessments"], on="patient_id").sort("assessed_on", "assessment_id")
    keys = ["patient_id", "course_number", "instrument"]
    in_baseline = pl.col("assessed_on").is_between(
        pl.col("first_session_date") - pl.duration(days=d.baseline_window_days), pl.col("first_session_date"))
    in_endpoint = (pl.col("assessed_on") > pl.col("first_session_date")) & (
        pl.col("assessed_on") <= pl.col("last_induction_date") + pl.duration(days=d.endpoint_window_days))
    baseline = scored.filter(in_baseline).group_by(keys).agg(pl.col("total_score").last().alias("baseline"))
    endpoint = scored.filter(in_endpoint).group_by(keys).agg(
        pl.col("total_score").last().alias("endpoint"), pl.col("assessed_on").last().alias("endpoint_date"))
    per_instrument = baseline.join(endpoint, on=keys, how="full", coalesce=True)

    rows = courses.join(patients, on="patient_id").to_dicts()
    scores = {(r["patient_id"], r["course_number"], r["instrument"]): r for r in per_instrument.to_dicts()}
    instruments = load_instruments()
    preferences = load_primary_instruments()
    out = []
    for course in rows:
        def score(instrument: str, course: dict = course) -> dict:
            return scores.get((course["patient_id"], course["course_number"], instrument), {})
        order = preferences[course["indication"]]
        primary = next((i for i in order[:-1] if score(i).get("baseline") is not None
                        and score(i).get("endpoint") is not None), order[-1])
        b, e = score(primary).get("baseline"), score(primary).get("endpoint")
        rules = instruments[primary]
        if b is None:
            reason = "no_baseline"
        elif b < rules.min_baseline:
            reason = "below_min_baseline"
        elif e is None:
            reason = "no_endpoint"
        else:
            reason = None
        evaluable = reason is None
        out.append(course | {
            "primary_instrument": primary, "baseline": b, "endpoint": e,
            "endpoint_date": score(primary).get("endpoint_date"), "not_evaluable_reason": reason,
            "evaluable": evaluable,
            "responder": (e <= (1 - d.response_reduction) * b) if evaluable else None,
            "remitter": (e <= rules.remission_max) if evaluable else None,
        })
    return pl.DataFrame(out, infer_schema_length=None).sort("patient_id", "course_number")
