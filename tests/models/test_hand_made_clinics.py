"""End-to-end stories of the hand-made clinics (clinics.py), read straight off the marts."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.models.conftest import BuiltClinics

pytestmark = pytest.mark.xdist_group("models_clinics_default")
D = dt.date.fromisoformat


def _one(built: BuiltClinics, sql: str) -> dict:
    rows = built.query(sql)
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize(
    ("patient_id", "indication"),
    [("T01", "TRD"), ("T02", "MDD"), ("T03", "PTSD"), ("T04", "ANXIETY"), ("T05", "CHRONIC_PAIN"), ("T06", "OCD"),
     ("T07", "SUICIDAL_IDEATION"), ("T08", "OTHER"), ("E01", "TRD"), ("E02", "MDD"), ("E04", "MDD")],
)
def test_dim_patients_derives_indication_from_code_and_failed_treatments(clinics, patient_id, indication):
    row = _one(clinics, f"SELECT indication FROM marts.dim_patients WHERE patient_id = '{patient_id}'")  # noqa: S608
    assert row["indication"] == indication


def test_fct_sessions_starts_a_course_at_90_days_not_89(clinics):
    rows = clinics.query("SELECT session_id, course_number, session_number FROM marts.fct_sessions "
                         "WHERE patient_id = 'E01' ORDER BY session_id")
    assert [(r["course_number"], r["session_number"]) for r in rows] == [(1, 1), (1, 2), (2, 1)]


def test_fct_sessions_induction_ends_at_day_42_and_the_sixth_session(clinics):
    e02 = clinics.query("SELECT phase FROM marts.fct_sessions WHERE patient_id = 'E02' ORDER BY session_number")
    e03 = clinics.query("SELECT phase FROM marts.fct_sessions WHERE patient_id = 'E03' ORDER BY session_number")
    assert [r["phase"] for r in e02] == ["induction"] * 5 + ["maintenance"]
    assert [r["phase"] for r in e03] == ["induction"] * 6 + ["maintenance"]


def test_fct_sessions_orders_same_day_sessions_by_session_id(clinics):
    rows = clinics.query("SELECT session_id FROM marts.fct_sessions WHERE patient_id = 'E06' ORDER BY session_number")
    assert [r["session_id"] for r in rows] == ["E06-a", "E06-b", "E06-c"]


def test_fct_courses_induction_completion(clinics):
    rows = clinics.query("SELECT patient_id, completed_induction FROM marts.fct_courses "
                         "WHERE patient_id IN ('E02', 'E03', 'T01', 'T04') ORDER BY patient_id")
    assert {r["patient_id"]: r["completed_induction"] for r in rows} == {
        "E02": False, "E03": True, "T01": True, "T04": False}


def test_fct_response_uses_madrs_as_primary_when_the_course_has_both_madrs_scores(clinics):
    rows = clinics.query("SELECT patient_id, instrument FROM marts.fct_response WHERE is_primary "
                         "AND patient_id IN ('T01', 'E05', 'E06') ORDER BY patient_id")
    assert {r["patient_id"]: r["instrument"] for r in rows} == {"E05": "MADRS", "E06": "PHQ9", "T01": "MADRS"}


def test_fct_response_window_edges_and_exact_half(clinics):
    e04 = _one(clinics, "SELECT * FROM marts.fct_response WHERE patient_id = 'E04' AND instrument = 'PHQ9'")
    assert (e04["baseline_assessment_id"], e04["endpoint_assessment_id"]) == ("E04-p2", "E04-p3")
    assert (e04["pct_change"], e04["responder"], e04["remitter"]) == (-0.5, True, False)


def test_fct_response_same_day_score_is_the_baseline(clinics):
    e05 = _one(clinics, "SELECT * FROM marts.fct_response WHERE patient_id = 'E05' AND instrument = 'PHQ9'")
    assert (e05["baseline_date"], e05["endpoint_date"]) == (D("2023-05-08"), D("2023-05-09"))


def test_fct_response_ties_on_a_date_go_to_the_later_assessment_id(clinics):
    e06 = _one(clinics, "SELECT * FROM marts.fct_response WHERE patient_id = 'E06' AND instrument = 'PHQ9'")
    assert (e06["baseline_assessment_id"], e06["endpoint_assessment_id"]) == ("E06-a2", "E06-b2")


def test_fct_response_min_baseline_and_remission_edges(clinics):
    rows = clinics.query("SELECT instrument, evaluable, not_evaluable_reason, responder, remitter "
                         "FROM marts.fct_response WHERE patient_id = 'E07' ORDER BY instrument")
    assert [tuple(r.values()) for r in rows] == [
        ("PCL5", True, None, False, True),
        ("PHQ9", False, "below_min_baseline", None, None),
    ]


def test_fct_courses_gives_every_course_its_attrition_reason(clinics):
    rows = clinics.query("SELECT patient_id, course_number, primary_not_evaluable_reason AS reason "
                         "FROM marts.fct_courses WHERE patient_id IN ('T02', 'T04', 'T05', 'T06') ORDER BY ALL")
    assert [(r["patient_id"], r["course_number"], r["reason"]) for r in rows] == [
        ("T02", 1, None), ("T02", 2, "below_min_baseline"), ("T04", 1, "below_min_baseline"),
        ("T05", 1, "no_endpoint"), ("T06", 1, "no_baseline"),
    ]


def test_fct_durability_single_high_score_recovers_and_two_in_a_row_lose_response(clinics):
    t01 = _one(clinics, "SELECT * FROM marts.fct_durability WHERE patient_id = 'T01' AND instrument = 'MADRS'")
    assert (t01["lost_response"], t01["event_date"], t01["days_to_event"]) == (True, D("2023-04-12"), 68)


def test_fct_durability_follow_up_stops_at_the_next_course(clinics):
    t02 = _one(clinics, "SELECT * FROM marts.fct_durability WHERE patient_id = 'T02' AND course_number = 1")
    e08 = _one(clinics, "SELECT * FROM marts.fct_durability WHERE patient_id = 'E08' AND course_number = 1")
    assert (t02["lost_response"], t02["event_date"], t02["days_to_event"]) == (False, D("2023-06-28"), 112)
    assert (e08["lost_response"], e08["event_date"], e08["followup_scores"]) == (False, D("2023-03-20"), 3)


def test_fct_durability_censors_at_the_endpoint_without_follow_up(clinics):
    t03 = _one(clinics, "SELECT * FROM marts.fct_durability WHERE patient_id = 'T03'")
    assert (t03["lost_response"], t03["event_date"], t03["days_to_event"]) == (False, D("2023-03-24"), 0)


def test_fct_adverse_events_derives_at_thresholds_unless_reported(clinics):
    rows = clinics.query("SELECT session_id, event_term, source, event_id, severity_grade, serious "
                         "FROM marts.fct_adverse_events WHERE patient_id = 'T08' ORDER BY session_id, event_term")
    assert [tuple(r.values()) for r in rows] == [
        ("T08-01", "hypertension", "derived", None, None, None),
        ("T08-01", "nausea", "reported", "T-ae2", 1, False),
        ("T08-02", "hypertension", "derived", None, None, None),
        ("T08-03", "desaturation", "derived", None, None, None),
        ("T08-03", "hypertension", "reported", "T-ae3", 3, True),
    ]


def test_fct_sessions_dose_per_kg_and_blood_pressure_rise(clinics):
    row = _one(clinics, "SELECT dose_mg_per_kg, sbp_rise_mmhg, vitals_complete FROM marts.fct_sessions "
                        "WHERE session_id = 'T01-01'")
    assert row == {"dose_mg_per_kg": 0.5, "sbp_rise_mmhg": 20, "vitals_complete": True}


def test_agg_data_quality_counts_completion_and_missing_vitals_per_site(clinics):
    s1 = _one(clinics, "SELECT * FROM marts.agg_data_quality WHERE site_id = 'S1'")
    assert s1["load_id"] == "load-0001"
    assert (s1["patients"], s1["patients_without_sessions"], s1["patients_dx_unmapped"]) == (8, 1, 1)
    # courses T01, T02 x2, T03, T04, T05, T06, T08; primary baselines: all but T06 and T08
    assert (s1["courses"], s1["courses_with_primary_baseline"], s1["courses_with_primary_endpoint"]) == (8, 6, 5)
    # T05 has no vitals at all (6 sessions), T08-05 none either; a missing weight or CADSS is not a vital
    assert (s1["sessions"], s1["sessions_missing_vitals"], s1["sessions_missing_weight"]) == (42, 7, 11)
    assert (s1["reported_adverse_events"], s1["derived_adverse_events"]) == (4, 3)
