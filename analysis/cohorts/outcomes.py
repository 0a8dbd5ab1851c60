"""What a cohort's summary needs, read for its members in DuckDB and aggregated there.

Everything comes back in cells by (indication, site_id): both are patient attributes, so patient counts
of the cells add up to the cohort's, and the same cells serve the summary (all) and the exports' tables
by indication or site. Durability comes as (days_to_event, lost_response) with a course count, enough
for Kaplan-Meier at any size. The outcome instrument is a bound parameter; "primary" picks the queries
over each course's primary result instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from analysis.cohorts.criteria import MEMBERS_TABLE
from analysis.cohorts.definition import PRIMARY

# One row per member course: its result on the outcome instrument, with the reason when there is none.
# The primary result was kept from fct_courses when the members were selected (criteria.KEPT_COLUMNS).
_PRIMARY_RESULT = f"""
    SELECT patient_id, indication, site_id, sessions, completed_induction, primary_reason AS reason,
           primary_evaluable AS evaluable, primary_responder AS responder, primary_remitter AS remitter
    FROM {MEMBERS_TABLE}"""  # noqa: S608
_NAMED_RESULT = f"""
    SELECT m.patient_id, m.indication, m.site_id, m.sessions, m.completed_induction,
           CASE WHEN r.patient_id IS NULL THEN 'no_baseline' ELSE r.not_evaluable_reason END AS reason,
           coalesce(r.evaluable, false) AS evaluable, r.responder, r.remitter
    FROM {MEMBERS_TABLE} m LEFT JOIN wh.marts.fct_response r
      ON r.patient_id = m.patient_id AND r.course_number = m.course_number AND r.instrument = $instrument"""  # noqa: S608

# Outcome steps (definitions.md, "Baseline, endpoint"): reasons are given in this order, so each step
# keeps the courses whose reason is none of those before it.
OUTCOME_STEPS = (("with_baseline", "has a baseline", ("no_baseline",)),
                 ("eligible", "baseline at or above min_baseline", ("no_baseline", "below_min_baseline")),
                 ("evaluable", "has an endpoint (evaluable for response)",
                  ("no_baseline", "below_min_baseline", "no_endpoint")))


def _course_cells_sql(result: str) -> str:
    """Counts per patient first (as attrition_sql), then per (indication, site_id): no count(DISTINCT)."""
    inner, outer = [], []
    for name, _, reasons in OUTCOME_STEPS:
        kept = " AND ".join(f"reason IS DISTINCT FROM '{r}'" for r in reasons)  # our constants
        inner.append(f"count(*) FILTER (WHERE {kept}) AS {name}")
        outer += [f"sum({name})::BIGINT AS {name}", f"count(*) FILTER (WHERE {name} > 0)::BIGINT AS {name}_patients"]
    return f"""
    WITH o AS ({result}), per_patient AS (
        SELECT patient_id, indication, site_id, count(*) AS courses, sum(sessions) AS sessions,
               count(*) FILTER (WHERE completed_induction) AS completed_induction, {', '.join(inner)},
               count(*) FILTER (WHERE responder) AS responders, count(*) FILTER (WHERE remitter) AS remitters
        FROM o GROUP BY patient_id, indication, site_id)
    SELECT indication, site_id, sum(courses)::BIGINT AS courses, count(*)::BIGINT AS patients,
           sum(sessions)::BIGINT AS sessions, sum(completed_induction)::BIGINT AS completed_induction,
           {', '.join(outer)}, sum(responders)::BIGINT AS responders, sum(remitters)::BIGINT AS remitters
    FROM per_patient GROUP BY indication, site_id"""  # noqa: S608 - our fragments only


_DURABILITY = f"""
    SELECT m.indication, m.site_id, d.days_to_event, d.lost_response, count(*)::BIGINT AS courses
    FROM {MEMBERS_TABLE} m JOIN wh.marts.fct_durability d USING (patient_id, course_number)
    WHERE {{which}} AND d.days_to_event IS NOT NULL AND d.lost_response IS NOT NULL
    GROUP BY ALL"""  # noqa: S608
_EVENTS = f"""
    SELECT m.indication, m.site_id, e.event_term, e.source, count(*)::BIGINT AS events
    FROM {MEMBERS_TABLE} m JOIN wh.marts.fct_adverse_events e USING (patient_id, course_number)
    GROUP BY ALL"""  # noqa: S608
# Every value a group can take, members or not: a group left out of the summary would read as zero courses.
_GROUP_VALUES = """
    SELECT 'site' AS dimension, site_id AS value FROM wh.marts.dim_patients
    UNION SELECT 'indication', indication FROM wh.seeds.icd10_indications
    UNION SELECT 'indication', indication FROM wh.marts.fct_courses"""


@dataclass(frozen=True)
class CohortData:
    instrument: str  # "primary" or the instrument's name
    # indication, site_id, courses, patients, sessions, completed_induction, <step>[_patients], ...; sessions
    # from fct_courses.sessions (every session, completed or not), which a dbt test ties to fct_sessions
    courses: pl.DataFrame
    durability: pl.DataFrame  # indication, site_id, days_to_event, lost_response, courses
    events: pl.DataFrame  # indication, site_id, event_term, source, events
    group_values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dimension -> every value it can take


def read_cohort_data(con: duckdb.DuckDBPyConnection, instrument: str) -> CohortData:
    """The members' outcome cells; select_cohort must have filled cohort_members on this connection."""
    if instrument == PRIMARY:
        courses = con.sql(_course_cells_sql(_PRIMARY_RESULT)).pl()
        durability = con.sql(_DURABILITY.format(which="d.is_primary")).pl()
    else:
        params = {"instrument": instrument}
        courses = con.sql(_course_cells_sql(_NAMED_RESULT), params=params).pl()
        durability = con.sql(_DURABILITY.format(which="d.instrument = $instrument"), params=params).pl()
    values = con.sql(_GROUP_VALUES).pl().drop_nulls()
    group_values = {d: tuple(sorted(values.filter(pl.col("dimension") == d)["value"].to_list()))
                    for d in ("site", "indication")}
    return CohortData(instrument=instrument, courses=courses, durability=durability, events=con.sql(_EVENTS).pl(),
                      group_values=group_values)


def outcome_attrition(data: CohortData, start_step: int) -> list[dict[str, object]]:
    """Attrition rows after the criteria: members with a baseline, eligible, evaluable on the outcome instrument."""
    totals = data.courses.select(pl.exclude("indication", "site_id").sum()).row(0, named=True) \
        if data.courses.height else {}
    before = (int(totals.get("patients", 0)), int(totals.get("courses", 0)))
    on = "its primary instrument" if data.instrument == PRIMARY else data.instrument
    rows = []
    for k, (name, label, _) in enumerate(OUTCOME_STEPS, start=start_step):
        patients, courses = int(totals.get(f"{name}_patients", 0)), int(totals.get(name, 0))
        rows.append({"step": k, "stage": "outcome", "criterion": name, "description": f"{label} on {on}",
                     "patients": patients, "courses": courses, "patients_removed": before[0] - patients,
                     "courses_removed": before[1] - courses})
        before = (patients, courses)
    return rows
