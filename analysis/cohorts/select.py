"""Selecting a cohort: criteria flags per course, the members, and the attrition table in criterion order."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from analysis.cohorts.criteria import MEMBERS_TABLE, attrition_sql, flags_sql, members_sql, text_criteria, unmatched_sql
from analysis.cohorts.definition import CohortDefinition

ATTRITION_SCHEMA: dict[str, pl.DataType] = {
    "step": pl.Int64(), "stage": pl.String(), "criterion": pl.String(), "description": pl.String(),
    "patients": pl.Int64(), "courses": pl.Int64(), "patients_removed": pl.Int64(), "courses_removed": pl.Int64(),
}
MAX_WARNED_VALUES = 5


@dataclass(frozen=True)
class Selection:
    attrition: pl.DataFrame  # ATTRITION_SCHEMA: "all courses", then each criterion in order
    warnings: tuple[str, ...]  # values that match no course (likely typos)


def select_cohort(con: duckdb.DuckDBPyConnection, definition: CohortDefinition) -> Selection:
    """Fill the connection's temp tables cohort_courses and cohort_members; return the attrition."""
    sql, params = flags_sql(definition)
    con.execute(sql, params) if params else con.execute(sql)
    steps = len(definition.criteria)
    con.execute(members_sql(steps))
    row = con.execute(attrition_sql(steps)).fetchall()[0]  # an aggregate without GROUP BY: exactly one row
    labels = [("all", "", "all courses")]
    labels += [(c.stage, c.name, f"{c.stage} {c.describe()}") for c in definition.criteria]
    rows = []
    for k, (stage, name, description) in enumerate(labels):
        courses, patients = int(row[2 * k]), int(row[2 * k + 1])
        before = rows[-1] if rows else {"courses": courses, "patients": patients}
        rows.append({"step": k, "stage": stage, "criterion": name, "description": description,
                     "patients": patients, "courses": courses, "patients_removed": before["patients"] - patients,
                     "courses_removed": before["courses"] - courses})
    return Selection(pl.DataFrame(rows, schema=ATTRITION_SCHEMA), tuple(_unmatched_values(con, definition)))


def members(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The selected courses, (patient_id, course_number), sorted."""
    return con.sql(f"SELECT patient_id, course_number FROM {MEMBERS_TABLE} ORDER BY patient_id, course_number").pl()  # noqa: S608


def _unmatched_values(con: duckdb.DuckDBPyConnection, definition: CohortDefinition) -> list[str]:
    found = []
    for criterion in text_criteria(definition.criteria):
        missing = sorted(str(r[0]) for r in con.execute(unmatched_sql(criterion.spec),
                                                        {"values": list(criterion.values)}).fetchall())
        if missing:
            shown = ", ".join(missing[:MAX_WARNED_VALUES]) + (" ..." if len(missing) > MAX_WARNED_VALUES else "")
            found.append(f"{criterion.stage}.{criterion.name} (line {criterion.line}): no course has {shown}")
    return found
