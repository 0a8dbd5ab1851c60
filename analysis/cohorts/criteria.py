"""Criteria -> parameterised SQL: every criterion maps to a fragment we wrote, values travel as parameters.

The style guide's "values as parameters, identifiers from an allow-list": a fragment names only columns
of BASE_SQL (our constant) and parameters named from the criterion's position (c1_values, c2_min), so no
text from a definition ever becomes SQL. Fragments may be NULL (missing age, sex, baseline): an include
treats NULL as "does not meet", an exclude as "not excluded".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # definition.py imports this module's CRITERIA at import time
    from analysis.cohorts.definition import CohortDefinition, Criterion

# One row per course with every column a criterion reads, and the primary result the summary needs.
# `wh` is the read-only ATTACH alias (analysis/cohorts/connection.py); fct_courses carries the patient's
# indication and site, so dim_patients is joined only when a criterion reads a patient column (the
# join is most of the selection's time at a million patients).
_COURSE_COLUMNS = """c.patient_id, c.course_number, c.indication, c.site_id, c.first_session_route AS route,
           c.completed_induction, c.sessions, c.first_session_date, c.primary_baseline_score,
           c.primary_not_evaluable_reason AS primary_reason, c.primary_evaluable, c.primary_responder,
           c.primary_remitter"""
BASE_SQL = f"SELECT {_COURSE_COLUMNS} FROM wh.marts.fct_courses c"  # noqa: S608 - constant
BASE_WITH_PATIENT_SQL = f"""
    SELECT {_COURSE_COLUMNS}, p.age_at_first_session AS age, p.sex, p.substance_use_history,
           p.primary_dx_icd10 AS primary_dx
    FROM wh.marts.fct_courses c JOIN wh.marts.dim_patients p USING (patient_id)"""  # noqa: S608 - constant
# What the members table keeps of a course (outcomes.py reads these)
KEPT_COLUMNS = ("patient_id", "course_number", "indication", "site_id", "sessions", "completed_induction",
                "primary_reason", "primary_evaluable", "primary_responder", "primary_remitter")

# The baseline on a named instrument: fct_response has a row per course and instrument with a baseline or
# an endpoint; no row means no baseline (NULL, so the course does not meet a baseline range).
_BASELINE_ON = """(SELECT r.baseline_score FROM wh.marts.fct_response r
     WHERE r.patient_id = b.patient_id AND r.course_number = b.course_number AND r.instrument = ${p}_instrument)"""

FLAGS_TABLE = "cohort_courses"  # temp table and view of the in-memory connection, never in the warehouse
MEMBERS_TABLE = "cohort_members"


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    kind: str  # values | flag | range | score_range | at_least
    column: str  # a column of BASE_SQL
    label: str  # for attrition rows and errors
    help: str  # for docs/cohorts.md
    value_type: str = "text"  # text | integer | number | date
    bound_keys: tuple[str, str] = ("min", "max")
    lowest: float = 0
    highest: float = 0
    prefix: bool = False  # values match as code prefixes
    patient_column: bool = False  # read from dim_patients (BASE_WITH_PATIENT_SQL)


CRITERIA: dict[str, CriterionSpec] = {s.name: s for s in (
    CriterionSpec("indication", "values", "indication", "indication",
                  "Patient's indication (dim_patients.indication), e.g. [TRD, MDD]; checked against the seeds."),
    CriterionSpec("site", "values", "site_id", "site", "Patient's site_id."),
    CriterionSpec("route", "values", "route", "route",
                  "Route of the course's first session (IV, IM, INTRANASAL, ORAL, SUBLINGUAL)."),
    CriterionSpec("age", "range", "age", "age", "Age at the patient's first session, {min, max} inclusive; 90 = 90+.",
                  value_type="integer", lowest=0, highest=130, patient_column=True),
    CriterionSpec("sex", "values", "sex", "sex", "female, male, other or unknown (missing sex matches none).",
                  patient_column=True),
    CriterionSpec("substance_use_history", "flag", "substance_use_history", "substance use history",
                  "true or false (missing matches neither).", patient_column=True),
    CriterionSpec("primary_dx_prefix", "values", "primary_dx", "primary diagnosis",
                  "ICD-10 prefixes of the primary diagnosis, e.g. [F33, F43.1] (dots ignored).", prefix=True,
                  patient_column=True),
    CriterionSpec("course_number", "range", "course_number", "course number",
                  "Course number within the patient: a list [1, 2] or {min, max}.", value_type="integer",
                  lowest=1, highest=10_000),
    CriterionSpec("completed_induction", "flag", "completed_induction", "completed induction",
                  "true: the course had induction_sessions sessions within induction_window_days."),
    CriterionSpec("min_sessions", "at_least", "sessions", "sessions",
                  "At least this many sessions in the course (completed or not).", value_type="integer",
                  lowest=0, highest=100_000),
    CriterionSpec("baseline_score", "score_range", "primary_baseline_score", "baseline score",
                  "Baseline score {min, max} on `instrument` (default: the outcome instrument).",
                  value_type="number", lowest=-1_000, highest=1_000),
    CriterionSpec("first_session_date", "range", "first_session_date", "first session",
                  "Date of the course's first session, {from, to} inclusive (YYYY-MM-DD).", value_type="date",
                  bound_keys=("from", "to")),
)}


def condition(criterion: Criterion, prefix: str, outcome_instrument: str) -> tuple[str, dict[str, Any]]:
    """The SQL fragment (over base row `b`) and its parameters for one criterion.

    ``prefix`` is positional (c1, c2, ...), so parameter names never come from the definition.
    """
    spec = criterion.spec
    column = f"b.{spec.column}"
    params: dict[str, Any] = {}
    if spec.kind == "score_range":
        instrument = criterion.instrument or (None if outcome_instrument == "primary" else outcome_instrument)
        if instrument is not None:
            column = _BASELINE_ON.replace("{p}", prefix)
            params[f"{prefix}_instrument"] = instrument
    if criterion.values:
        params[f"{prefix}_values"] = list(criterion.values)
        if spec.kind == "flag":
            params[f"{prefix}_value"] = params.pop(f"{prefix}_values")[0]
            return f"{column} = ${prefix}_value", params
        if spec.prefix:
            return f"len(list_filter(${prefix}_values, lambda x: starts_with({column}, x))) > 0", params
        return f"list_contains(${prefix}_values, {column})", params
    parts = []
    if criterion.low is not None:
        parts.append(f"{column} >= ${prefix}_min")
        params[f"{prefix}_min"] = criterion.low
    if criterion.high is not None:
        parts.append(f"{column} <= ${prefix}_max")
        params[f"{prefix}_max"] = criterion.high
    return " AND ".join(parts), params


def flags_sql(definition: CohortDefinition) -> tuple[str, dict[str, Any]]:
    """CREATE TEMP TABLE cohort_courses: one row per course with a boolean per criterion (step_1, ...)."""
    columns = [f"b.{name}" for name in KEPT_COLUMNS]
    params: dict[str, Any] = {}
    for step, criterion in enumerate(definition.criteria, start=1):
        fragment, found = condition(criterion, f"c{step}", definition.outcome_instrument)
        meets = f"coalesce(({fragment}), false)"
        columns.append(f"{meets if criterion.stage == 'include' else f'NOT {meets}'} AS step_{step}")
        params.update(found)
    base = BASE_WITH_PATIENT_SQL if any(c.spec.patient_column for c in definition.criteria) else BASE_SQL
    sql = f"CREATE OR REPLACE TEMP TABLE {FLAGS_TABLE} AS WITH base AS ({base}) SELECT {', '.join(columns)} FROM base b"  # noqa: S608, E501 - our fragments only
    return sql, params


def members_sql(steps: int) -> str:
    """CREATE TEMP VIEW cohort_members over the flags: the courses meeting every step.

    A view, not a copy: filtering the flags again for each of the few reads costs less than copying the
    members (a third of a second at a million patients).
    """
    where = " AND ".join(f"step_{k}" for k in range(1, steps + 1)) or "true"
    return (f"CREATE OR REPLACE TEMP VIEW {MEMBERS_TABLE} AS SELECT {', '.join(KEPT_COLUMNS)} "  # noqa: S608
            f"FROM {FLAGS_TABLE} WHERE {where}")


def attrition_sql(steps: int) -> str:
    """Courses and patients remaining after each step: one row, columns courses_0, patients_0, courses_1, ...

    Courses are counted per patient first, then patients with any course left: one grouping instead of a
    count(DISTINCT) per step (a third of the time at a million patients).
    """
    per_patient, selects = [], []
    for k in range(steps + 1):
        keep = " AND ".join(f"step_{j}" for j in range(1, k + 1)) or "true"
        per_patient.append(f"count(*) FILTER (WHERE {keep}) AS c{k}")
        selects += [f"sum(c{k})::BIGINT AS courses_{k}", f"count(*) FILTER (WHERE c{k} > 0)::BIGINT AS patients_{k}"]
    return (f"SELECT {', '.join(selects)} FROM (SELECT {', '.join(per_patient)} "  # noqa: S608 - step columns are ours
            f"FROM {FLAGS_TABLE} GROUP BY patient_id)")


# Where the values of each list criterion can be looked up cheaply, to warn about values no course has.
VALUE_SOURCES = {"indication": ("dim_patients", "indication"), "site": ("dim_patients", "site_id"),
                 "sex": ("dim_patients", "sex"), "route": ("fct_courses", "first_session_route")}


def unmatched_sql(spec: CriterionSpec) -> str:
    """Values of a list criterion that no course has (a typo gives an empty cohort, so we say so)."""
    table, column = VALUE_SOURCES[spec.name]
    return f"SELECT v FROM unnest($values) t(v) EXCEPT SELECT DISTINCT {column} FROM wh.marts.{table}"  # noqa: S608


def text_criteria(criteria: Sequence[Criterion]) -> list[Criterion]:
    return [c for c in criteria if c.name in VALUE_SOURCES]
