"""Arrays -> polars frames with the contract's column names (plus truth_courses), ids and dates filled in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from ingest.generate.arrays import masked
from ingest.generate.clinical import Clinical
from ingest.generate.courses import Courses
from ingest.generate.events import RESOLVED, Events
from ingest.generate.ids import PATIENT_DIGITS, format_ids
from ingest.generate.population import ROUTES, SEXES, Patients, Sites
from ingest.generate.schedule import Schedule
from ingest.generate.scores import Assessments
from ingest.generate.truth import REASONS, CourseTruth
from ingest.generate.visits import Visits
from ingest.generate.vitals import Vitals


@dataclass(frozen=True)
class Numbering:
    """Rows of each kind written by earlier chunks: ids continue from here."""

    sessions: int = 0
    assessments: int = 0
    events: int = 0


def _date(epoch_days: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    return masked(epoch_days.astype(np.int32), missing, pa.date32())


def _int(values: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    return masked(values.astype(np.int64), missing, pa.int64())


def _text(values: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    return masked(values.astype(str), missing, pa.string())


def sites_frame(sites: Sites) -> pl.DataFrame:
    return pl.DataFrame({"site_id": list(sites.ids), "site_name": list(sites.names), "region": list(sites.regions)})


def patients_frame(code: str, sites: Sites, patients: Patients) -> tuple[pl.DataFrame, pl.Series]:
    ids = format_ids(code, "patient", patients.number, PATIENT_DIGITS)
    frame = pl.DataFrame([
        ids,
        _text(np.array(sites.ids)[patients.site]).alias("site_id"),
        _int(patients.age, patients.age_missing).alias("age_at_first_session"),
        _text(np.array(SEXES)[patients.sex], patients.sex_missing).alias("sex"),
        _text(patients.zip3, patients.zip3_missing).alias("zip3"),
        _text(patients.dx_code).alias("primary_dx_icd10"),
        _int(patients.failed, patients.failed_missing).alias("prior_failed_treatments"),
        masked(patients.substance, patients.substance_missing, pa.bool_()).alias("substance_use_history"),
    ])
    return frame, ids


def sessions_frame(code: str, numbering: Numbering, patient_ids: pl.Series, anchor: np.ndarray,
                   courses: Courses, schedule: Schedule, vitals: Vitals) -> pl.DataFrame:
    patient = courses.patient[schedule.course]
    gone = vitals.missing
    columns = [
        format_ids(code, "session", numbering.sessions + 1 + np.arange(schedule.size)),
        patient_ids.gather(patient).alias("patient_id"),
        _date(anchor[patient] + schedule.day).alias("session_date"),
        _text(np.array(ROUTES)[schedule.route]).alias("route"),
        masked(schedule.dose_mg, None, pa.float64()).alias("dose_mg"),
        masked(schedule.weight_kg, schedule.weight_missing, pa.float64()).alias("weight_kg"),
        _int(vitals.duration_min, vitals.duration_missing).alias("duration_min"),
    ]
    for name in ("sbp_pre", "dbp_pre", "hr_pre", "sbp_max", "dbp_max", "hr_max", "spo2_min"):
        columns.append(_int(getattr(vitals, name), gone).alias(name))
    columns.append(_int(vitals.cadss, vitals.cadss_missing).alias("cadss_total"))
    columns.append(masked(vitals.completed, None, pa.bool_()).alias("completed"))
    return pl.DataFrame(columns)


def assessments_frame(code: str, numbering: Numbering, clinical: Clinical, patient_ids: pl.Series,
                      anchor: np.ndarray, rows: Assessments) -> pl.DataFrame:
    return pl.DataFrame([
        format_ids(code, "assessment", numbering.assessments + 1 + np.arange(rows.patient.size)),
        patient_ids.gather(rows.patient).alias("patient_id"),
        _date(anchor[rows.patient] + rows.day).alias("assessed_on"),
        _text(np.array(clinical.instrument_names)[rows.instrument]).alias("instrument"),
        _int(rows.score).alias("total_score"),
    ])


def events_frame(code: str, numbering: Numbering, clinical: Clinical, session_ids: pl.Series,
                 events: Events) -> pl.DataFrame:
    resolved = np.array(RESOLVED)[events.resolved]
    return pl.DataFrame([
        format_ids(code, "event", numbering.events + 1 + np.arange(events.session.size)),
        session_ids.gather(events.session).alias("session_id"),
        _text(np.array(clinical.event_terms)[events.term]).alias("event_term"),
        _int(events.grade).alias("severity_grade"),
        masked(events.serious, events.serious_missing, pa.bool_()).alias("serious"),
        masked(resolved == "true", resolved == "missing", pa.bool_()).alias("resolved"),
    ])


def truth_courses_frame(clinical: Clinical, patient_ids: pl.Series, anchor: np.ndarray, courses: Courses,
                        schedule: Schedule, visits: Visits, truth: CourseTruth) -> pl.DataFrame:
    """One row per generated course: what was planted and what the definitions will measure."""
    anchor_c = anchor[courses.patient]
    not_evaluable = ~truth.evaluable
    reason = np.array(REASONS + ("",))[truth.reason]  # -1 picks the blank, masked anyway
    sessions = courses.induction_sessions + courses.maintenance_sessions
    return pl.DataFrame([
        patient_ids.gather(courses.patient).alias("patient_id"),
        _int(courses.number).alias("course_number"),
        _text(np.array(clinical.indications)[courses.indication]).alias("indication"),
        _text(np.array(clinical.instrument_names)[truth.primary]).alias("primary_instrument"),
        masked(truth.evaluable, None, pa.bool_()).alias("evaluable"),
        _text(reason, truth.evaluable).alias("not_evaluable_reason"),
        masked(courses.probability, None, pa.float64()).alias("planted_probability"),
        masked(courses.responder, None, pa.bool_()).alias("planted_responder"),
        masked(courses.remitter_intent, None, pa.bool_()).alias("planted_remitter_intent"),
        masked(truth.expected_remission, None, pa.float64()).alias("expected_remission_probability"),
        masked(visits.relapse_days, ~courses.responder, pa.float64()).alias("planted_relapse_days"),
        _int(truth.baseline, ~truth.has_baseline).alias("baseline_score"),
        _int(truth.endpoint, ~truth.has_endpoint).alias("endpoint_score"),
        masked(truth.responder, not_evaluable, pa.bool_()).alias("responder"),
        masked(truth.remitter, not_evaluable, pa.bool_()).alias("remitter"),
        _text(np.array(ROUTES)[courses.route]).alias("route"),
        _int(courses.induction_sessions).alias("induction_sessions"),
        _int(sessions).alias("sessions"),
        _date(anchor_c + schedule.start_day).alias("first_session_date"),
        _date(anchor_c + schedule.last_induction_day).alias("last_induction_date"),
        _date(anchor_c + visits.endpoint_day, ~truth.has_endpoint).alias("endpoint_date"),
        masked(visits.followed, None, pa.bool_()).alias("followed_up"),
    ])
