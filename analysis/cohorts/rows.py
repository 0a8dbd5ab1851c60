"""Row-level reads of the marts, whole or restricted to a cohort's members: mart names from an allow-list.

Used by the notebook API (kow.api.read_mart, load_cohort) and by the researchers' row export.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from analysis.cohorts.criteria import MEMBERS_TABLE
from core.errors import KowError

# mart -> the columns that tie its rows to a member course (dim_patients: any member course of the patient)
ROW_MARTS: dict[str, tuple[str, ...]] = {
    "dim_patients": ("patient_id",),
    "fct_courses": ("patient_id", "course_number"),
    "fct_sessions": ("patient_id", "course_number"),
    "fct_response": ("patient_id", "course_number"),
    "fct_durability": ("patient_id", "course_number"),
    "fct_adverse_events": ("patient_id", "course_number"),
}
# The row order of every read, so two exports of the same warehouse are byte-identical.
ORDER: dict[str, str] = {
    "dim_patients": "patient_id", "fct_courses": "patient_id, course_number",
    "fct_sessions": "patient_id, course_number, session_number, session_id",
    "fct_response": "patient_id, course_number, instrument",
    "fct_durability": "patient_id, course_number, instrument",
    "fct_adverse_events": "patient_id, course_number, session_number, event_key",
}


def mart_sql(mart: str, *, members_only: bool) -> str:
    """SELECT of a row mart (whole, or semi-joined to cohort_members); the name must be in ROW_MARTS."""
    if mart not in ROW_MARTS:
        raise KowError(f"Unknown mart {mart!r}; row-level marts are: {', '.join(ROW_MARTS)}.")
    keys = ", ".join(ROW_MARTS[mart])
    semi = f" SEMI JOIN {MEMBERS_TABLE} m USING ({keys})" if members_only else ""
    return f"SELECT t.* FROM wh.marts.{mart} t{semi} ORDER BY {ORDER[mart]}"  # noqa: S608 - names from the allow-list


def mart_reader(con: duckdb.DuckDBPyConnection, mart: str, *, members_only: bool,
                batch_rows: int = 500_000) -> pa.RecordBatchReader:
    """Stream a mart's rows as Arrow batches (a million-patient fct_sessions need not fit in memory)."""
    return con.sql(mart_sql(mart, members_only=members_only)).to_arrow_reader(batch_rows)
