"""Reading the marts: the only SQL of the analyses. Heavy rows are aggregated in DuckDB; Python gets
cells (rates), one row per patient-course (models) or per score (trajectories).

Values reach SQL only as bound parameters; table names are our own constants.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from core.definitions import Definitions, load_definitions
from core.errors import KowError
from core.warehouse import connect_reader

MARTS = "marts"
REQUIRED_MARTS = ("dim_patients", "fct_sessions", "fct_courses", "fct_response", "fct_durability",
                  "fct_adverse_events", "agg_data_quality")
SCORES_MART = "fct_assessment_scores"  # optional until it is built: trajectories report its absence
DEFINITIONS_MART = "dim_definitions"  # optional: the vars in effect at build time

# Dose bands are the var dose_band_edges_mg_per_kg (edges between the usual weight-based doses 0.5, 0.75 and
# 1.0 mg/kg, so re-weighing noise never moves a session across a band); seriousness is the mart's
# serious_or_severe (var serious_grade_min).
_DOSE_BAND = ("CASE WHEN s.dose_mg_per_kg IS NULL THEN NULL "
              "ELSE len(list_filter($edges, lambda e: e <= s.dose_mg_per_kg)) END")
_SEVERITY = ("CASE WHEN e.serious_or_severe IS NULL THEN 'ungraded' "
             "WHEN e.serious_or_severe THEN 'serious_or_severe' ELSE 'not_serious' END")

QUERIES: dict[str, str] = {
    "session_cells": f"""
        SELECT s.site_id, s.route, s.phase, {_DOSE_BAND} AS dose_band, count(*)::BIGINT AS sessions
        FROM marts.fct_sessions s GROUP BY ALL""",  # noqa: S608 - our own SQL fragments, no values
    "event_cells": f"""
        SELECT s.site_id, s.route, s.phase, {_DOSE_BAND} AS dose_band, e.event_term, e.source,
               {_SEVERITY} AS severity, count(*)::BIGINT AS events
        FROM marts.fct_adverse_events e JOIN marts.fct_sessions s USING (session_id) GROUP BY ALL""",  # noqa: S608
    # one row per patient, course and route: the unit of the AE rate model (exposure = sessions)
    "exposure": """
        SELECT s.patient_id, s.course_number, s.route, count(*)::BIGINT AS sessions,
               sum(s.reported_adverse_events + s.derived_adverse_events)::BIGINT AS events,
               avg(s.dose_mg_per_kg) AS dose_mg_per_kg, any_value(p.age_at_first_session) / 10.0 AS age_per_10_years,
               any_value(p.sex) AS sex, any_value(p.substance_use_history)::VARCHAR AS substance_use_history
        FROM marts.fct_sessions s JOIN marts.dim_patients p USING (patient_id)
        GROUP BY s.patient_id, s.course_number, s.route""",
    "courses": """
        SELECT c.patient_id, c.course_number, c.site_id, c.indication, c.primary_instrument AS instrument,
               c.first_session_route AS route, c.primary_baseline_score AS baseline_score,
               c.primary_responder AS responder, c.primary_remitter AS remitter,
               p.age_at_first_session / 10.0 AS age_per_10_years, p.sex
        FROM marts.fct_courses c JOIN marts.dim_patients p USING (patient_id)
        WHERE c.primary_evaluable""",
    "responses": """
        SELECT r.indication, r.instrument, r.is_primary, c.first_session_route AS route,
               count(*)::BIGINT AS courses, count(*) FILTER (WHERE r.responder)::BIGINT AS responders,
               count(*) FILTER (WHERE r.remitter)::BIGINT AS remitters
        FROM marts.fct_response r JOIN marts.fct_courses c USING (patient_id, course_number)
        WHERE r.evaluable GROUP BY ALL""",
    "durability": """
        SELECT d.patient_id, d.course_number, d.site_id, d.indication, d.instrument, c.first_session_route AS route,
               d.baseline_score, d.days_to_event, d.lost_response,
               p.age_at_first_session / 10.0 AS age_per_10_years, p.sex
        FROM marts.fct_durability d JOIN marts.fct_courses c USING (patient_id, course_number)
             JOIN marts.dim_patients p USING (patient_id)
        WHERE d.is_primary""",
    # Yale 2024 counts severe hypertension by the vitals lines, among sessions with a recorded peak
    "peak_bp": """
        SELECT route, count(*)::BIGINT AS sessions, count(*) FILTER (WHERE crossed)::BIGINT AS crossing,
               count(DISTINCT patient_id)::BIGINT AS patients,
               count(DISTINCT patient_id) FILTER (WHERE crossed)::BIGINT AS patients_crossing
        FROM (SELECT route, patient_id, (sbp_max >= $sbp OR dbp_max >= $dbp) AS crossed
              FROM marts.fct_sessions WHERE sbp_max IS NOT NULL AND dbp_max IS NOT NULL) GROUP BY route""",
    "patient_terms": """
        WITH exposed AS (SELECT route, count(DISTINCT patient_id)::BIGINT AS patients
                         FROM marts.fct_sessions GROUP BY route)
        SELECT x.route, t.event_term, x.patients, coalesce(t.with_event, 0)::BIGINT AS patients_with_event
        FROM exposed x LEFT JOIN (
            SELECT route, event_term, count(DISTINCT patient_id)::BIGINT AS with_event
            FROM marts.fct_adverse_events WHERE source = 'reported' GROUP BY ALL) t USING (route)""",
    "totals": """
        SELECT (SELECT count(*) FROM marts.dim_patients)::BIGINT AS patients,
               (SELECT count(*) FROM marts.fct_sessions)::BIGINT AS sessions,
               (SELECT count(*) FROM marts.fct_courses)::BIGINT AS courses,
               (SELECT count(*) FROM marts.fct_adverse_events)::BIGINT AS adverse_events""",
    "loads": """
        SELECT DISTINCT load_id, load_source_path, load_finished_at::VARCHAR AS load_finished_at
        FROM marts.agg_data_quality WHERE load_id IS NOT NULL ORDER BY load_finished_at, load_id""",
}

SCORES_QUERY = """
    SELECT patient_id, course_number, indication, instrument, weeks_since_first_session::DOUBLE AS weeks,
           total_score::DOUBLE AS score
    FROM marts.fct_assessment_scores
    WHERE is_primary AND weeks_since_first_session BETWEEN $first_week AND $last_week"""


class MartsMissingError(KowError):
    """The warehouse has no built marts to analyse."""


@dataclass(frozen=True)
class MartData:
    definitions: Definitions
    definitions_from: str  # where the definitions were read: the build's record or the project file
    session_cells: pl.DataFrame
    event_cells: pl.DataFrame
    exposure: pl.DataFrame
    courses: pl.DataFrame
    responses: pl.DataFrame
    durability: pl.DataFrame
    peak_bp: pl.DataFrame
    patient_terms: pl.DataFrame
    totals: pl.DataFrame
    loads: pl.DataFrame
    scores: pl.DataFrame | None  # None while marts.fct_assessment_scores is not built


def read_marts(warehouse: Path) -> MartData:
    """Everything the analyses need, read in one read-only session; raises MartsMissingError without marts."""
    if not warehouse.exists():
        raise MartsMissingError(f"No warehouse at {warehouse}, so no marts to analyse. "
                                "Run `kow build` first (after `kow ingest SOURCE_DIR`).")
    con = connect_reader(warehouse)
    try:
        present = _mart_tables(con)
        missing = [f"{MARTS}.{t}" for t in REQUIRED_MARTS if t not in present]
        if missing:
            raise MartsMissingError(f"No built marts in {warehouse} (missing {', '.join(missing)}). "
                                    "Run `kow build` first.")
        if not _has_column(con, "fct_adverse_events", "serious_or_severe"):
            raise MartsMissingError(f"The marts in {warehouse} were built by an older kow (marts.fct_adverse_events "
                                    "has no serious_or_severe). Run `kow build` to rebuild them.")
        definitions, definitions_from = _definitions(con, present)
        params: dict[str, dict[str, Any]] = {
            "session_cells": {"edges": list(definitions.dose_band_edges_mg_per_kg)},
            "event_cells": {"edges": list(definitions.dose_band_edges_mg_per_kg)},
            "peak_bp": {"sbp": definitions.derived_hypertension_sbp_mmhg,
                        "dbp": definitions.derived_hypertension_dbp_mmhg},
        }
        frames = {name: _frame(con, sql, params.get(name)) for name, sql in QUERIES.items()}
        scores = None
        if SCORES_MART in present:
            scores = _frame(con, SCORES_QUERY, {"first_week": -definitions.baseline_window_days / 7.0,
                                                "last_week": (definitions.induction_window_days
                                                              + definitions.endpoint_window_days) / 7.0})
        return MartData(definitions=definitions, definitions_from=definitions_from, scores=scores, **frames)
    finally:
        con.close()


def _mart_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    # fetchall: duckdb 2 refuses a new query while an earlier result is unfetched (stack-notes)
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [MARTS]).fetchall()
    return {row[0] for row in rows}


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    found = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                        "AND column_name = ?", [MARTS, table, column]).fetchone()
    return bool(found and found[0])


def _definitions(con: duckdb.DuckDBPyConnection, present: set[str]) -> tuple[Definitions, str]:
    """The vars in effect at build time (marts.dim_definitions) when the build recorded them, else the project's."""
    if DEFINITIONS_MART not in present:
        return load_definitions(), "dbt_project.yml (marts.dim_definitions not built)"
    known = {f.name for f in fields(Definitions)}
    rows = con.execute("SELECT var_name, var_value FROM marts.dim_definitions").fetchall()
    overrides = {name: value for name, value in rows if name in known and value is not None}
    return load_definitions(overrides), "marts.dim_definitions"


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> pl.DataFrame:
    return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()
