"""The researchers' Python API: cohorts and marts as polars DataFrames, over a read-only connection.

    from kow import api
    courses = api.load_cohort("cohorts/trd_only.yaml")             # one row per member course
    summary = api.cohort_summary("cohorts/trd_only.yaml")          # suppressed, as summary.csv
    table = api.compare_cohorts("cohorts/a.yaml", "cohorts/b.yaml")  # side by side, A - B with intervals

A cohort is a path to a YAML definition or the same thing as a dict (``{"name": ..., "include": {...}}``).
The warehouse is ``warehouse=`` when given, else ``$KOW_WAREHOUSE``, else warehouse/kow.duckdb
(core.config.resolve_settings). Every call opens the warehouse read-only and closes it before returning,
so a notebook never holds the lock a `kow build` needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from analysis.cohorts.compare import compare_results
from analysis.cohorts.connection import open_marts
from analysis.cohorts.definition import CohortDefinition, definition_from_mapping, load_definition
from analysis.cohorts.evaluate import CohortResult, evaluate_cohort
from analysis.cohorts.rows import ROW_MARTS, mart_sql
from analysis.cohorts.select import select_cohort
from analysis.suppression import ALL
from core.config import resolve_settings

CohortLike = str | Path | Mapping[str, Any] | CohortDefinition
Warehouse = str | Path | None

__all__ = ["ROW_MARTS", "CohortLike", "cohort_attrition", "cohort_result", "cohort_summary", "compare_cohorts",
           "durability_curve", "load_cohort", "read_mart", "to_definition"]


def to_definition(cohort: CohortLike) -> CohortDefinition:
    """A checked CohortDefinition from a path, a mapping or a definition."""
    if isinstance(cohort, CohortDefinition):
        return cohort
    if isinstance(cohort, Mapping):
        return definition_from_mapping(dict(cohort))
    return load_definition(Path(cohort))


def _warehouse(warehouse: Warehouse) -> Path:
    return resolve_settings(warehouse).warehouse


def cohort_result(cohort: CohortLike, *, warehouse: Warehouse = None, group_by: str = "all",
                  suppressed: bool = True) -> CohortResult:
    """Everything `kow cohort run` computes (attrition, members, summary, curves), without writing files."""
    return evaluate_cohort(to_definition(cohort), _warehouse(warehouse), group_by=group_by,
                           suppress_small=suppressed)


def load_cohort(cohort: CohortLike, *, warehouse: Warehouse = None) -> pl.DataFrame:
    """The member courses: marts.fct_courses rows of the cohort, with the patient's age, sex, diagnosis."""
    definition = to_definition(cohort)
    with open_marts(_warehouse(warehouse)) as con:
        select_cohort(con, definition)
        courses = con.sql(mart_sql("fct_courses", members_only=True)).pl()
        patients = con.sql(mart_sql("dim_patients", members_only=True)).pl()
    extra = ("patient_id", "age_at_first_session", "age_band", "sex", "substance_use_history", "primary_dx_icd10")
    return courses.join(patients.select(extra), on="patient_id", how="left")


def read_mart(mart: str, *, warehouse: Warehouse = None, cohort: CohortLike | None = None) -> pl.DataFrame:
    """A row-level mart (dim_patients, fct_courses, fct_sessions, fct_response, fct_durability,
    fct_adverse_events), whole or restricted to a cohort's member courses."""
    definition = to_definition(cohort) if cohort is not None else None
    sql = mart_sql(mart, members_only=definition is not None)  # checks the name first
    with open_marts(_warehouse(warehouse)) as con:
        if definition is not None:
            select_cohort(con, definition)
        return con.sql(sql).pl()


def cohort_summary(cohort: CohortLike, *, warehouse: Warehouse = None, group_by: str = "all",
                   suppressed: bool = True) -> pl.DataFrame:
    """summary.csv as a DataFrame; ``group_by`` all, indication or site; ``suppressed=False`` for exact counts
    (for the analyst's own eyes: never share those)."""
    return cohort_result(cohort, warehouse=warehouse, group_by=group_by, suppressed=suppressed).summary


def cohort_attrition(cohort: CohortLike, *, warehouse: Warehouse = None) -> pl.DataFrame:
    """attrition.csv as a DataFrame: each criterion in order, then the outcome steps."""
    return cohort_result(cohort, warehouse=warehouse).attrition


def compare_cohorts(a: CohortLike, b: CohortLike, *, warehouse: Warehouse = None) -> pl.DataFrame:
    """Two cohorts side by side with A - B and its interval (Newcombe for shares, exact MOVER for rates)."""
    return compare_results(cohort_result(a, warehouse=warehouse), cohort_result(b, warehouse=warehouse))


def durability_curve(cohort: CohortLike, *, warehouse: Warehouse = None, group_by: str = "all") -> pl.DataFrame:
    """Kaplan-Meier steps (group, day, still_responding) of responding courses, cut where fewer than
    min_cell_size remain at risk, as the report draws them."""
    result = cohort_result(cohort, warehouse=warehouse, group_by=group_by)
    frames = [pl.DataFrame({"group": curve.indication, "day": curve.times.astype(int),
                            "still_responding": curve.survival}) for curve in result.curves]
    empty = pl.DataFrame(schema={"group": pl.String, "day": pl.Int64, "still_responding": pl.Float64})
    curve = pl.concat([empty, *(f.cast(empty.schema) for f in frames)])
    return curve.sort(pl.col("group") != ALL, "group", "day")
