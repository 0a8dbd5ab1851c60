"""Hand-made clinics for the model tests: small raw tables written as SQL, each row a story.

TEXTBOOK_CLINIC walks through the usual paths (response, loss of response, a second course, each
indication, derived adverse events); EDGE_CLINIC puts a case on every boundary of definitions.md.
fuzz_clinic() adds seeded random patients whose gaps, windows, scores and vitals sit near the boundaries,
so the independent Python reading of the definitions (reference.py) is compared on many more cases.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import duckdb

from tests.models.raw_layer import LOAD_ID, create_raw_layer, insert_rows, record_load

SITES_SQL = """
INSERT INTO raw.sites VALUES
    ('S1', 'Textbook Clinic', 'CA', 'load-0001'),
    ('S2', 'Edge Clinic',     'NY', 'load-0001'),
    ('S3', 'Fuzz Clinic',     'TX', 'load-0002');
"""

# Rows carry no load_id (build_clinics_warehouse stamps them) and the ingest's defaults are applied after.
TEXTBOOK_CLINIC = """
INSERT INTO raw.patients (patient_id, site_id, age_at_first_session, sex, zip3, primary_dx_icd10,
                          prior_failed_treatments, substance_use_history) VALUES
    ('T01', 'S1', 45, 'female',  '941', 'F33.2',   3,    false),  -- TRD: MADRS primary, loses response
    ('T02', 'S1', 33, 'male',    '100', 'F32.1',   1,    true),  -- MDD: two courses, follow-up cut
    ('T03', 'S1', 29, 'female',  NULL,  'f43.10',  NULL, false),  -- PTSD (lower case, dot)
    ('T04', 'S1', 61, 'other',   '606', 'F41.1',   0,    NULL),  -- ANXIETY: baseline below min
    ('T05', 'S1', 52, 'unknown', '770', 'M79.7',   NULL, false),  -- CHRONIC_PAIN: no endpoint
    ('T06', 'S1', 90, 'male',    '000', 'F42.2',   NULL, false),  -- OCD: no scores at all
    ('T07', 'S1', 19, 'female',  '303', 'R45.851', NULL, true),  -- SUICIDAL_IDEATION: no sessions
    ('T08', 'S1', 70, 'male',    '212', 'Z00.00',  NULL, false);  -- OTHER: derived events

INSERT INTO raw.sessions (session_id, patient_id, session_date, route, dose_mg, weight_kg, duration_min,
                          sbp_pre, dbp_pre, hr_pre, sbp_max, dbp_max, hr_max, spo2_min, cadss_total, completed) VALUES
    ('T01-01', 'T01', DATE '2023-01-09', 'IV', 40, 80, 40, 125, 80, 70, 145, 85, 88, 97, 20, true),
    ('T01-02', 'T01', DATE '2023-01-11', 'IV', 40, 80, 40, 124, 79, 72, 150, 88, 90, 96, 18, true),
    ('T01-03', 'T01', DATE '2023-01-13', 'IV', 40, 80, 40, 126, 81, 71, 148, 86, 86, 97, 15, false),
    ('T01-04', 'T01', DATE '2023-01-16', 'IV', 40, 80, 40, 122, 78, 69, 140, 84, 85, 98, 12, true),
    ('T01-05', 'T01', DATE '2023-01-18', 'IV', 40, 80, 40, 121, 77, 70, 139, 83, 84, 98, 10, true),
    ('T01-06', 'T01', DATE '2023-01-20', 'IV', 40, 80, 40, 120, 76, 68, 138, 82, 83, 98, 9,  true),
    ('T01-07', 'T01', DATE '2023-02-17', 'IV', 40, 80, 40, 123, 78, 70, 141, 84, 85, 97, 8,  true),
    ('T01-08', 'T01', DATE '2023-03-17', 'IV', 40, 80, 40, 124, 79, 71, 142, 85, 86, 97, 8,  true),
    ('T02-01', 'T02', DATE '2023-02-06', 'INTRANASAL', 56, NULL, 120, 130, 85, 75, 150, 95, 90, 96, 25, true),
    ('T02-02', 'T02', DATE '2023-02-09', 'INTRANASAL', 56, NULL, 120, 131, 85, 75, 151, 95, 90, 96, 22, true),
    ('T02-03', 'T02', DATE '2023-02-13', 'INTRANASAL', 56, NULL, 120, 129, 84, 74, 149, 94, 89, 97, 20, true),
    ('T02-04', 'T02', DATE '2023-02-16', 'INTRANASAL', 84, NULL, 120, 130, 85, 75, 155, 96, 92, 96, 24, true),
    ('T02-05', 'T02', DATE '2023-02-20', 'INTRANASAL', 84, NULL, 120, 128, 84, 74, 152, 95, 91, 96, 21, true),
    ('T02-06', 'T02', DATE '2023-02-23', 'INTRANASAL', 84, NULL, 120, 127, 83, 73, 150, 94, 90, 97, 19, true),
    ('T02-07', 'T02', DATE '2023-02-27', 'INTRANASAL', 84, NULL, 120, 128, 84, 74, 151, 95, 90, 97, 18, true),
    ('T02-08', 'T02', DATE '2023-03-02', 'INTRANASAL', 84, NULL, 120, 129, 84, 74, 150, 94, 90, 97, 17, true),
    ('T02-09', 'T02', DATE '2023-07-03', 'INTRANASAL', 56, NULL, 120, 130, 85, 75, 150, 95, 90, 96, 23, true),
    ('T02-10', 'T02', DATE '2023-07-06', 'INTRANASAL', 56, NULL, 120, 130, 85, 75, 150, 95, 90, 96, 22, true),
    ('T02-11', 'T02', DATE '2023-07-10', 'INTRANASAL', 56, NULL, 120, 130, 85, 75, 150, 95, 90, 96, 21, true),
    ('T03-01', 'T03', DATE '2023-03-06', 'IV', 35, 70, 40, 118, 75, 66, 135, 82, 80, 98, 30, true),
    ('T03-02', 'T03', DATE '2023-03-08', 'IV', 35, 70, 40, 118, 75, 66, 135, 82, 80, 98, 28, true),
    ('T03-03', 'T03', DATE '2023-03-10', 'IV', 35, 70, 40, 118, 75, 66, 135, 82, 80, 98, 26, true),
    ('T03-04', 'T03', DATE '2023-03-13', 'IV', 35, 70, 40, 118, 75, 66, 135, 82, 80, 98, 24, true),
    ('T03-05', 'T03', DATE '2023-03-15', 'IV', 35, 70, 40, 118, 75, 66, 135, 82, 80, 98, 22, true),
    ('T03-06', 'T03', DATE '2023-03-17', 'IV', 35, 70, 40, 118, 75, 66, 135, 82, 80, 98, 20, true),
    ('T04-01', 'T04', DATE '2023-04-03', 'IM', 50, 90, 30, 135, 88, 78, 160, 98, 95, 95, NULL, true),
    ('T04-02', 'T04', DATE '2023-04-10', 'IM', 50, 90, 30, 135, 88, 78, 160, 98, 95, 95, NULL, true),
    ('T04-03', 'T04', DATE '2023-04-17', 'IM', 50, 90, 30, 135, 88, 78, 160, 98, 95, 95, NULL, true),
    ('T04-04', 'T04', DATE '2023-04-24', 'IM', 50, 90, 30, 135, 88, 78, 160, 98, 95, 95, NULL, true),
    ('T06-01', 'T06', DATE '2023-06-12', 'SUBLINGUAL', 100, 85, NULL, 128, 82, 72, 140, 88, 80, 97, 5, true),
    ('T06-02', 'T06', DATE '2023-06-14', 'SUBLINGUAL', 100, 85, NULL, 128, 82, 72, 140, 88, 80, 97, 5, false),
    ('T08-01', 'T08', DATE '2023-06-05', 'IV', 45, 90, 40, 140, 90, 80, 180, 95,  100, 95, 30, true),  -- sbp 180
    ('T08-02', 'T08', DATE '2023-06-07', 'IV', 45, 90, 40, 140, 90, 80, 179, 110, 100, 90, 30, true),  -- dbp 110
    ('T08-03', 'T08', DATE '2023-06-09', 'IV', 45, 90, 40, 140, 90, 80, 190, 100, 100, 89, 30, true),  -- HTN reported
    ('T08-04', 'T08', DATE '2023-06-12', 'IV', 45, 90, 40, 140, 90, 80, 179, 109, 100, 90, 30, true),  -- just under all
    ('T08-05', 'T08', DATE '2023-06-14', 'IV', 45, 90, 40, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true);

INSERT INTO raw.sessions (session_id, patient_id, session_date, route, dose_mg, weight_kg) VALUES  -- no vitals
    ('T05-01', 'T05', DATE '2023-05-01', 'ORAL', 150, 75),
    ('T05-02', 'T05', DATE '2023-05-08', 'ORAL', 150, 75),
    ('T05-03', 'T05', DATE '2023-05-15', 'ORAL', 150, 75),
    ('T05-04', 'T05', DATE '2023-05-22', 'ORAL', 150, 75),
    ('T05-05', 'T05', DATE '2023-05-29', 'ORAL', 150, 75),
    ('T05-06', 'T05', DATE '2023-06-05', 'ORAL', 150, 75);

INSERT INTO raw.assessments (assessment_id, patient_id, assessed_on, instrument, total_score) VALUES
    ('T01-p1', 'T01', DATE '2023-01-02', 'PHQ9', 19),
    ('T01-p2', 'T01', DATE '2023-01-09', 'PHQ9', 21),   -- same day as first session: baseline
    ('T01-p3', 'T01', DATE '2023-01-20', 'PHQ9', 12),
    ('T01-p4', 'T01', DATE '2023-02-01', 'PHQ9', 9),   -- endpoint, line 10.5: response
    ('T01-p5', 'T01', DATE '2023-03-01', 'PHQ9', 8),
    ('T01-p6', 'T01', DATE '2023-04-12', 'PHQ9', 11),   -- first of two above the line: loss
    ('T01-p7', 'T01', DATE '2023-05-10', 'PHQ9', 12),
    ('T01-m1', 'T01', DATE '2023-01-05', 'MADRS', 34),
    ('T01-m2', 'T01', DATE '2023-02-03', 'MADRS', 16),  -- endpoint on the last day of the window
    ('T01-m3', 'T01', DATE '2023-03-01', 'MADRS', 18),  -- one above line 17, then recovers
    ('T01-m4', 'T01', DATE '2023-03-15', 'MADRS', 12),
    ('T01-m5', 'T01', DATE '2023-04-12', 'MADRS', 20),  -- loss dated here
    ('T01-m6', 'T01', DATE '2023-05-10', 'MADRS', 22),
    ('T02-p1', 'T02', DATE '2023-01-20', 'PHQ9', 16),
    ('T02-p2', 'T02', DATE '2023-03-08', 'PHQ9', 7),   -- endpoint, line 8
    ('T02-p3', 'T02', DATE '2023-04-05', 'PHQ9', 9),   -- one above, recovers
    ('T02-p4', 'T02', DATE '2023-06-28', 'PHQ9', 7),   -- last follow-up; also course 2 baseline
    ('T02-p5', 'T02', DATE '2023-07-05', 'PHQ9', 15),   -- after course 2 began: not follow-up
    ('T02-p6', 'T02', DATE '2023-07-20', 'PHQ9', 16),
    ('T03-c1', 'T03', DATE '2023-03-01', 'PCL5', 52),
    ('T03-c2', 'T03', DATE '2023-03-24', 'PCL5', 26),   -- exactly half, and <= 32
    ('T03-p1', 'T03', DATE '2023-03-01', 'PHQ9', 14),
    ('T03-p2', 'T03', DATE '2023-03-24', 'PHQ9', 10),
    ('T04-g1', 'T04', DATE '2023-03-30', 'GAD7', 9),   -- below min_baseline 10
    ('T04-g2', 'T04', DATE '2023-05-01', 'GAD7', 4),
    ('T05-n1', 'T05', DATE '2023-04-28', 'PAIN_NRS', 7),
    ('T05-n2', 'T05', DATE '2023-07-10', 'PAIN_NRS', 2), -- after the endpoint window
    ('T07-p1', 'T07', DATE '2023-06-01', 'PHQ9', 15);

INSERT INTO raw.adverse_events (event_id, session_id, event_term, severity_grade, serious, resolved) VALUES
    ('T-ae1', 'T01-02', 'dissociation', 2, false, true),
    ('T-ae2', 'T08-01', 'nausea',       1, false, true),
    ('T-ae3', 'T08-03', 'hypertension', 3, true,  true),
    ('T-ae4', 'T02-04', 'sedation',     1, false, NULL);
"""

EDGE_CLINIC = """
INSERT INTO raw.patients (patient_id, site_id, age_at_first_session, sex, zip3, primary_dx_icd10,
                          prior_failed_treatments, substance_use_history) VALUES
    ('E01', 'S2', 40, 'female', NULL, 'F33.1',  2,    false),  -- TRD at exactly 2; gap 89 then 90
    ('E02', 'S2', 41, 'male',   NULL, 'F33.1',  1,    false),  -- MDD at 1; day 42 in, day 43 out
    ('E03', 'S2', 42, 'female', NULL, 'F32.0',  0,    false),  -- seven sessions in two weeks
    ('E04', 'S2', 43, 'male',   NULL, 'F33.0',  NULL, false),  -- window edges, exactly 50%
    ('E05', 'S2', 44, 'female', NULL, 'F33.9',  2,    false),  -- same-day baseline, MADRS edges
    ('E06', 'S2', 45, 'male',   NULL, 'F33.1',  5,    false),  -- same-date ties
    ('E07', 'S2', 46, 'female', NULL, 'F43.12', NULL, false),  -- min_baseline and remission edges
    ('E08', 'S2', 47, 'male',   NULL, 'F32.9',  0,    false);  -- follow-up cut at course 2

INSERT INTO raw.sessions (session_id, patient_id, session_date, route, dose_mg) VALUES
    ('E01-1', 'E01', DATE '2023-01-02', 'IV', 40),
    ('E01-2', 'E01', DATE '2023-04-01', 'IV', 40),   -- 89 days later: same course
    ('E01-3', 'E01', DATE '2023-06-30', 'IV', 40),   -- 90 days later: course 2
    ('E02-1', 'E02', DATE '2023-02-06', 'IV', 40),
    ('E02-2', 'E02', DATE '2023-02-13', 'IV', 40),
    ('E02-3', 'E02', DATE '2023-02-20', 'IV', 40),
    ('E02-4', 'E02', DATE '2023-02-27', 'IV', 40),
    ('E02-5', 'E02', DATE '2023-03-20', 'IV', 40),   -- day 42: induction
    ('E02-6', 'E02', DATE '2023-03-21', 'IV', 40),   -- day 43: maintenance
    ('E03-1', 'E03', DATE '2023-03-06', 'IV', 40),
    ('E03-2', 'E03', DATE '2023-03-08', 'IV', 40),
    ('E03-3', 'E03', DATE '2023-03-10', 'IV', 40),
    ('E03-4', 'E03', DATE '2023-03-12', 'IV', 40),
    ('E03-5', 'E03', DATE '2023-03-14', 'IV', 40),
    ('E03-6', 'E03', DATE '2023-03-16', 'IV', 40),
    ('E03-7', 'E03', DATE '2023-03-19', 'IV', 40),   -- seventh: maintenance
    ('E04-1', 'E04', DATE '2023-04-03', 'IV', 40),
    ('E04-2', 'E04', DATE '2023-04-05', 'IV', 40),
    ('E04-3', 'E04', DATE '2023-04-07', 'IV', 40),
    ('E04-4', 'E04', DATE '2023-04-10', 'IV', 40),
    ('E04-5', 'E04', DATE '2023-04-12', 'IV', 40),
    ('E04-6', 'E04', DATE '2023-04-14', 'IV', 40),
    ('E05-1', 'E05', DATE '2023-05-08', 'IV', 40),
    ('E06-b', 'E06', DATE '2023-06-05', 'IV', 40),   -- same day: ordered by session_id
    ('E06-a', 'E06', DATE '2023-06-05', 'IV', 40),
    ('E06-c', 'E06', DATE '2023-06-07', 'IV', 40),
    ('E07-1', 'E07', DATE '2023-07-03', 'IV', 40),
    ('E07-2', 'E07', DATE '2023-07-05', 'IV', 40),
    ('E08-1', 'E08', DATE '2023-01-09', 'IV', 40),
    ('E08-2', 'E08', DATE '2023-01-11', 'IV', 40),
    ('E08-3', 'E08', DATE '2023-01-13', 'IV', 40),
    ('E08-4', 'E08', DATE '2023-04-17', 'IV', 40),   -- 94 days later: course 2
    ('E08-5', 'E08', DATE '2023-04-19', 'IV', 40);

INSERT INTO raw.assessments (assessment_id, patient_id, assessed_on, instrument, total_score) VALUES
    ('E04-p1', 'E04', DATE '2023-03-03', 'PHQ9', 25),  -- first session - 31: outside
    ('E04-p2', 'E04', DATE '2023-03-04', 'PHQ9', 20),  -- first session - 30: baseline
    ('E04-p3', 'E04', DATE '2023-04-28', 'PHQ9', 10),  -- last induction + 14: endpoint, exactly 50%
    ('E04-p4', 'E04', DATE '2023-04-29', 'PHQ9', 3),  -- last induction + 15: outside
    ('E04-g1', 'E04', DATE '2023-03-04', 'GAD7', 12),
    ('E04-g2', 'E04', DATE '2023-04-20', 'GAD7', 4),  -- remission ceiling 4: remitter
    ('E05-p1', 'E05', DATE '2023-05-08', 'PHQ9', 22),  -- same day as the only session: baseline
    ('E05-p2', 'E05', DATE '2023-05-09', 'PHQ9', 11),
    ('E05-m1', 'E05', DATE '2023-04-10', 'MADRS', 20), -- min_baseline 20: eligible
    ('E05-m2', 'E05', DATE '2023-05-22', 'MADRS', 10), -- ceiling 10 and exactly 50%
    ('E06-a1', 'E06', DATE '2023-06-01', 'PHQ9', 20),
    ('E06-a2', 'E06', DATE '2023-06-01', 'PHQ9', 14),  -- same date, later id: baseline
    ('E06-b2', 'E06', DATE '2023-06-10', 'PHQ9', 5),  -- same date, later id: endpoint
    ('E06-b1', 'E06', DATE '2023-06-10', 'PHQ9', 15),
    ('E06-m1', 'E06', DATE '2023-06-01', 'MADRS', 30), -- MADRS baseline only: PHQ9 stays primary
    ('E07-p1', 'E07', DATE '2023-07-01', 'PHQ9', 9),  -- below min_baseline 10
    ('E07-p2', 'E07', DATE '2023-07-12', 'PHQ9', 3),
    ('E07-c1', 'E07', DATE '2023-07-01', 'PCL5', 33),  -- min_baseline 33: eligible
    ('E07-c2', 'E07', DATE '2023-07-12', 'PCL5', 32),  -- remission ceiling 32, not a response
    ('E08-p1', 'E08', DATE '2023-01-05', 'PHQ9', 18),
    ('E08-p2', 'E08', DATE '2023-01-20', 'PHQ9', 6),  -- endpoint, line 9
    ('E08-p3', 'E08', DATE '2023-02-10', 'PHQ9', 12),  -- one above, recovers
    ('E08-p4', 'E08', DATE '2023-03-01', 'PHQ9', 7),
    ('E08-p5', 'E08', DATE '2023-03-20', 'PHQ9', 11),  -- above; the next one is course 2's
    ('E08-p6', 'E08', DATE '2023-04-17', 'PHQ9', 13),  -- course 2 first day: baseline, not follow-up
    ('E08-p7', 'E08', DATE '2023-04-30', 'PHQ9', 5),  -- course 2 endpoint, line 6.5
    ('E08-p8', 'E08', DATE '2023-05-20', 'PHQ9', 8),  -- two above: loss dated here
    ('E08-p9', 'E08', DATE '2023-06-10', 'PHQ9', 9);
"""

FUZZ_LOAD_ID = "load-0002"


def fuzz_clinic(seed: int, patients: int) -> dict[str, list[dict[str, Any]]]:
    """Random patients whose dates, scores and vitals crowd the boundaries of the definitions."""
    rng = random.Random(seed)
    codes = ["F33.1", "f331", "F32.9", "F31.4", "F43.10", "F4312", "F41.1", "F42.2", "G89.4", "M79.7", "M79.1",
             "R45.851", "Z00.00", " F33.2 "]
    gaps = [0, 1, 2, 3, 4, 7, 10, 14, 20, 30, 40, 41, 42, 43, 59, 60, 61, 88, 89, 90, 91, 120]
    instruments = ["PHQ9", "MADRS", "GAD7", "PCL5", "PAIN_NRS", "QIDS_SR16", "BDI_II"]
    ranges = {"PHQ9": 27, "MADRS": 60, "GAD7": 21, "PCL5": 80, "PAIN_NRS": 10, "QIDS_SR16": 27, "BDI_II": 63}
    terms = ["hypertension", "desaturation", "nausea", "dissociation"]
    out: dict[str, list[dict[str, Any]]] = {"patients": [], "sessions": [], "assessments": [], "adverse_events": []}
    for p in range(patients):
        pid = f"F{p:03d}"
        out["patients"].append({
            "patient_id": pid, "site_id": "S3", "age_at_first_session": rng.randint(18, 90),
            "primary_dx_icd10": rng.choice(codes), "prior_failed_treatments": rng.choice([None, 0, 1, 2, 3]),
            "sex": rng.choice(["female", "male", None]),
        })
        day = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
        session_days = []
        for s in range(rng.choice([0, 1, 3, 5, 6, 7, 8, 10, 12])):
            if s:
                day += dt.timedelta(days=rng.choice(gaps))
            session_days.append(day)
            sid = f"{pid}-s{rng.randrange(100):02d}{s:02d}"  # id order is not date order: ties are real
            out["sessions"].append({
                "session_id": sid, "patient_id": pid, "session_date": day, "route": "IV", "dose_mg": 40.0,
                "sbp_max": rng.choice([None, 150, 179, 180, 181]), "dbp_max": rng.choice([None, 90, 109, 110]),
                "spo2_min": rng.choice([None, 85, 89, 90, 95]), "completed": rng.random() > 0.1,
            })
            if rng.random() < 0.15:
                out["adverse_events"].append({
                    "event_id": f"{sid}-e", "session_id": sid, "event_term": rng.choice(terms),
                    "severity_grade": rng.randint(1, 5),
                })
        if not session_days:
            continue
        for instrument in rng.sample(instruments, rng.choice([1, 2, 3])):
            top = ranges[instrument]
            start = session_days[0] - dt.timedelta(days=rng.choice([31, 30, 29, 10, 0]))
            score_day = start
            for a in range(rng.randint(1, 9)):
                out["assessments"].append({
                    "assessment_id": f"{pid}-{instrument}-{rng.randrange(100):02d}{a:02d}", "patient_id": pid,
                    "assessed_on": score_day,
                    "instrument": instrument, "total_score": float(rng.randint(0, top)),
                })
                score_day += dt.timedelta(days=rng.choice([0, 1, 7, 13, 14, 15, 21, 30, 45]))
    return out


def build_clinics_warehouse(path: Path, *, fuzz_patients: int = 150, fuzz_seed: int = 20240601) -> Path:
    """A warehouse whose raw layer holds the textbook, edge and fuzz clinics."""
    create_raw_layer(path)
    with duckdb.connect(str(path)) as con:
        con.execute(SITES_SQL)
        con.execute(TEXTBOOK_CLINIC)
        con.execute(EDGE_CLINIC)
        for table in ("patients", "sessions", "assessments", "adverse_events"):
            con.execute(f"UPDATE raw.{table} SET load_id = ? WHERE load_id IS NULL", [LOAD_ID])  # noqa: S608
        con.execute("UPDATE raw.sessions SET completed = true WHERE completed IS NULL")  # the ingest's defaults
        con.execute("UPDATE raw.adverse_events SET serious = false WHERE serious IS NULL")
    for table, rows in fuzz_clinic(fuzz_seed, fuzz_patients).items():
        insert_rows(path, table, rows, load_id=FUZZ_LOAD_ID)
    record_load(path, load_id=LOAD_ID, site_ids=["S1", "S2"], source_path="hand-made")
    record_load(path, load_id=FUZZ_LOAD_ID, site_ids=["S3"], source_path="fuzz")
    return path
