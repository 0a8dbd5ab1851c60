"""One chunk of patients, start to finish: every draw in a fixed order from the chunk's own Generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generate.calendar import anchor_patients
from ingest.generate.clinical import Clinical
from ingest.generate.courses import draw_courses
from ingest.generate.events import draw_events
from ingest.generate.frames import (
    Numbering,
    assessments_frame,
    events_frame,
    patients_frame,
    sessions_frame,
    truth_courses_frame,
)
from ingest.generate.population import Sites, draw_patients
from ingest.generate.schedule import draw_schedule
from ingest.generate.scores import draw_assessments
from ingest.generate.truth import TruthTotals, measure_courses
from ingest.generate.visits import draw_visits
from ingest.generate.vitals import draw_vitals


@dataclass(frozen=True)
class Chunk:
    tables: dict[str, pl.DataFrame]  # patients, sessions, assessments, adverse_events
    truth_courses: pl.DataFrame
    numbering: Numbering  # for the next chunk


def generate_chunk(rng: np.random.Generator, clinical: Clinical, code: str, sites: Sites, first_patient: int,
                   n: int, numbering: Numbering, totals: TruthTotals) -> Chunk:
    """Patients number `first_patient` .. `first_patient + n - 1`; adds the chunk's truth to `totals`."""
    patients = draw_patients(rng, clinical, sites, first_patient, n)
    courses = draw_courses(rng, clinical, patients)
    schedule = draw_schedule(rng, clinical, patients, courses)
    vitals = draw_vitals(rng, clinical, patients, courses, schedule)
    events = draw_events(rng, clinical, schedule, vitals)
    visits = draw_visits(rng, clinical, courses, schedule)
    assessments, planted = draw_assessments(rng, clinical, courses, patients.uses[courses.patient], visits)
    session_patient = courses.patient[schedule.course]
    anchor = anchor_patients(rng, n, [(session_patient, schedule.day), (assessments.patient, assessments.day)])

    truth = measure_courses(clinical, courses, planted)
    totals.add(courses, truth, schedule.route, vitals, events)

    patients_table, patient_ids = patients_frame(code, sites, patients)
    sessions = sessions_frame(code, numbering, patient_ids, anchor, courses, schedule, vitals)
    tables = {
        "patients": patients_table,
        "sessions": sessions,
        "assessments": assessments_frame(code, numbering, clinical, patient_ids, anchor, assessments),
        "adverse_events": events_frame(code, numbering, clinical, sessions["session_id"], events),
    }
    after = Numbering(
        sessions=numbering.sessions + schedule.size,
        assessments=numbering.assessments + int(assessments.patient.size),
        events=numbering.events + int(events.session.size),
    )
    truth_courses = truth_courses_frame(clinical, patient_ids, anchor, courses, schedule, visits, truth)
    return Chunk(tables=tables, truth_courses=truth_courses, numbering=after)
