"""One refused load per contract rule: exit status 2, no traceback, file/row/column/rule named, nothing changed.

Every case breaks GOOD_SOURCE in one place and is loaded over a warehouse that already holds the good load
of the same clinic, so "nothing changed" is checked against real data.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kow.cli import cli
from tests.conftest import GOOD_SOURCE, table_fingerprints


def _swap(table: str, old: str, new: str) -> dict[str, str]:
    text = GOOD_SOURCE[table]
    assert old in text, f"test set-up: {old!r} not in {table}"
    return {table: text.replace(old, new, 1)}


def _add_row(table: str, row: str) -> dict[str, str]:
    return {table: GOOD_SOURCE[table] + row + "\n"}


CASES = [
    # (case id, changed tables, expected fragment of the message)
    ("sites_file_missing", {"sites": None}, "sites.csv: required file missing"),
    ("patients_file_missing", {"patients": None}, "patients.csv: required file missing"),
    ("required_column_missing", {"sites": "site_id,region\nS1,CA\nS2,TX\n"},
     "sites.csv, column site_name: required column missing"),
    ("unknown_column", {"sites": "site_id,site_name,region,notes\nS1,a,CA,x\nS2,b,TX,y\n"},
     "sites.csv, column notes: column not in the source contract"),
    ("duplicate_column", {"sites": "site_id,site_name,Site_Name\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column Site_Name: column appears more than once"),
    ("empty_file", {"sites": ""}, "sites.csv: file is empty"),
    ("site_id_missing", _swap("sites", "S2,South clinic", ",South clinic"),
     "sites.csv, row 2 (line 3), column site_id: required value missing"),
    ("site_id_duplicate", _swap("sites", "S2,South clinic", "S1,South clinic"),
     "sites.csv, row 2 (line 3), column site_id: duplicate id"),
    ("site_name_missing", _swap("sites", "North clinic", ""), "sites.csv, row 1 (line 2), column site_name: required"),
    ("region_finer_than_state", _swap("sites", "North clinic,CA", "North clinic,San Francisco"),
     "sites.csv, row 1 (line 2), column region: region must be a US state code or a country"),
    ("patient_id_duplicate", _swap("patients", "P3,S1", "P1,S1"),
     "patients.csv, row 3 (line 4), column patient_id: duplicate id"),
    ("patient_site_unknown", _swap("patients", "P3,S1", "P3,S9"),
     "patients.csv, row 3 (line 4), column site_id: refers to a site_id that is not in sites.csv"),
    ("age_over_90", _swap("patients", "P1,S1,45", "P1,S1,91"),
     "patients.csv, row 1 (line 2), column age_at_first_session: age over 90"),
    ("age_not_integer", _swap("patients", "P1,S1,45", "P1,S1,45.5"),
     "patients.csv, row 1 (line 2), column age_at_first_session: not a whole number"),
    ("sex_not_in_list", _swap("patients", "female", "F"),
     "patients.csv, row 1 (line 2), column sex: not in the controlled list"),
    ("zip3_not_three_digits", _swap("patients", ",941,", ",94103,"),
     "patients.csv, row 1 (line 2), column zip3: ZIP3 must be exactly 3 digits"),
    ("zip3_restricted_prefix", _swap("patients", ",941,", ",036,"),
     "patients.csv, row 1 (line 2), column zip3: restricted ZIP3 prefix"),
    ("icd10_not_a_code", _swap("patients", "F41.1", "anxiety"),
     "patients.csv, row 3 (line 4), column primary_dx_icd10: not an ICD-10-CM code"),
    ("icd10_missing", _swap("patients", "F41.1", ""),
     "patients.csv, row 3 (line 4), column primary_dx_icd10: required value missing"),
    ("prior_failed_negative", _swap("patients", "F33.2,3", "F33.2,-1"),
     "patients.csv, row 1 (line 2), column prior_failed_treatments: out of range"),
    ("substance_use_not_boolean", _swap("patients", "F33.2,3,false", "F33.2,3,sometimes"),
     "patients.csv, row 1 (line 2), column substance_use_history: not a boolean"),
    ("session_id_duplicate", _swap("sessions", "V3,P2", "V1,P2"),
     "sessions.csv, row 3 (line 4), column session_id: duplicate id"),
    ("session_patient_unknown", _swap("sessions", "V3,P2", "V3,P7"),
     "sessions.csv, row 3 (line 4), column patient_id: refers to a patient_id that is not in patients.csv"),
    ("session_date_future", _swap("sessions", "2024-02-01", "2099-02-01"),
     "sessions.csv, row 3 (line 4), column session_date: date lies in the future"),
    ("session_date_unparseable", _swap("sessions", "2024-02-01", "2024-02-30"),
     "sessions.csv, row 3 (line 4), column session_date: not a valid ISO-8601 date"),
    ("session_date_not_iso", _swap("sessions", "2024-02-01", "02/01/2024"),
     "sessions.csv, row 3 (line 4), column session_date: not a valid ISO-8601 date"),
    ("session_date_missing", _swap("sessions", "2024-02-01", ""),
     "sessions.csv, row 3 (line 4), column session_date: required value missing"),
    ("route_not_in_list", _swap("sessions", "INTRANASAL", "nasal"),
     "sessions.csv, row 3 (line 4), column route: not in the controlled list"),
    ("dose_zero", _swap("sessions", "INTRANASAL,56", "INTRANASAL,0"),
     "sessions.csv, row 3 (line 4), column dose_mg: out of range"),
    ("dose_not_a_number", _swap("sessions", "INTRANASAL,56", "INTRANASAL,lots"),
     "sessions.csv, row 3 (line 4), column dose_mg: not a number"),
    ("weight_out_of_range", _swap("sessions", "V1,P1,2024-01-02,IV,35,70", "V1,P1,2024-01-02,IV,35,400"),
     "sessions.csv, row 1 (line 2), column weight_kg: out of range"),
    ("duration_out_of_range", _swap("sessions", "35,70,40,120", "35,70,0,120"),
     "sessions.csv, row 1 (line 2), column duration_min: out of range"),
    ("sbp_max_not_physiologic", _swap("sessions", "150,90,95", "450,90,95"),
     "sessions.csv, row 1 (line 2), column sbp_max: out of range"),
    ("spo2_out_of_range", _swap("sessions", "95,97,12", "95,45,12"),
     "sessions.csv, row 1 (line 2), column spo2_min: out of range"),
    ("cadss_out_of_range", _swap("sessions", "95,97,12", "95,97,93"),
     "sessions.csv, row 1 (line 2), column cadss_total: out of range"),
    ("completed_not_boolean", _swap("sessions", ",,false", ",,stopped"),
     "sessions.csv, row 3 (line 4), column completed: not a boolean"),
    ("instrument_not_in_list", _swap("assessments", "PCL5,50", "HAMD,50"),
     "assessments.csv, row 3 (line 4), column instrument: not in the controlled list"),
    ("score_outside_instrument_range", _swap("assessments", "PHQ9,20", "PHQ9,28"),
     "assessments.csv, row 1 (line 2), column total_score: score outside the instrument's range"),
    ("score_missing", _swap("assessments", "PHQ9,20", "PHQ9,"),
     "assessments.csv, row 1 (line 2), column total_score: required value missing"),
    ("assessment_date_future", _swap("assessments", "2024-01-19", "2099-01-19"),
     "assessments.csv, row 2 (line 3), column assessed_on: date lies in the future"),
    ("assessment_patient_unknown", _swap("assessments", "A3,P2", "A3,P8"),
     "assessments.csv, row 3 (line 4), column patient_id: refers to a patient_id"),
    ("assessment_id_duplicate", _swap("assessments", "A3,P2", "A1,P2"),
     "assessments.csv, row 3 (line 4), column assessment_id: duplicate id"),
    ("event_term_not_in_list", _swap("adverse_events", "nausea", "rash"),
     "adverse_events.csv, row 1 (line 2), column event_term: not in the controlled list"),
    ("severity_out_of_range", _swap("adverse_events", "nausea,1", "nausea,6"),
     "adverse_events.csv, row 1 (line 2), column severity_grade: out of range"),
    ("severity_missing", _swap("adverse_events", "hypertension,2", "hypertension,"),
     "adverse_events.csv, row 2 (line 3), column severity_grade: required value missing"),
    ("event_session_unknown", _swap("adverse_events", "E2,V2", "E2,V9"),
     "adverse_events.csv, row 2 (line 3), column session_id: refers to a session_id that is not in sessions.csv"),
    ("event_without_sessions_file", {"sessions": None},
     "adverse_events.csv, row 1 (line 2), column session_id: refers to a session_id that is not in sessions"),
    ("serious_not_boolean", _swap("adverse_events", "1,false,true", "1,no way,true"),
     "adverse_events.csv, row 1 (line 2), column serious: not a boolean"),
    ("event_id_duplicate", _swap("adverse_events", "E2,V2", "E1,V2"),
     "adverse_events.csv, row 2 (line 3), column event_id: duplicate id"),
    ("ragged_row_too_many", _add_row("sessions", "V9,P1,2024-01-09,IV,35,70,40,120,80,70,150,90,95,97,12,true,extra"),
     "sessions.csv, row 4 (line 5): row has more cells than the header"),
    ("ragged_row_too_few", _add_row("assessments", "A9,P1,2024-01-09"),
     "assessments.csv, row 4 (line 5)"),
]

IDENTIFIER_CASES = [
    ("column_named_like_a_name", {"patients": "patient_id,site_id,primary_dx_icd10,Last Name\nP1,S1,F33.2,x\n"},
     "patients.csv, column Last Name: column name suggests an identifier (a person's name)"),
    ("column_named_email", {"sites": "site_id,site_name,E-mail\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column E-mail: column name suggests an identifier (an email address)"),
    ("column_named_phone", {"sites": "site_id,site_name,phone_number\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column phone_number: column name suggests an identifier (a phone or fax number)"),
    ("column_named_ssn", {"sites": "site_id,site_name,SSN\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column SSN: column name suggests an identifier (a social security number)"),
    ("column_named_mrn", {"sites": "site_id,site_name,MRN\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column MRN: column name suggests an identifier (a medical record number)"),
    ("column_named_address", {"sites": "site_id,site_name,street_address\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column street_address: column name suggests an identifier (a street address)"),
    ("column_named_birth_date", {"sites": "site_id,site_name,Date of Birth\nS1,a,b\nS2,c,d\n"},
     "sites.csv, column Date of Birth: column name suggests an identifier (a birth date)"),
    ("email_in_text", _swap("sites", "North clinic", "ask jane.doe@example.org"),
     "sites.csv, row 1 (line 2), column site_name: value shaped like an email address"),
    ("phone_in_text", _swap("sites", "North clinic", "call (555) 123-4567"),
     "sites.csv, row 1 (line 2), column site_name: value shaped like a phone number"),
    ("phone_with_dashes_in_id", _swap("patients", "P3,S1", "555-123-4567,S1"),
     "patients.csv, row 3 (line 4), column patient_id: value shaped like a phone number"),
    ("ssn_in_id", _swap("patients", "P3,S1", "123-45-6789,S1"),
     "patients.csv, row 3 (line 4), column patient_id: value shaped like a social security number"),
]


@pytest.fixture
def loaded(write_source, settings):
    """A warehouse already holding the good load of the same clinic."""
    result = CliRunner().invoke(cli, ["ingest", str(write_source()), "--warehouse", str(settings.warehouse)])
    assert result.exit_code == 0, result.output
    return settings


@pytest.mark.parametrize(("tables", "expected"), [c[1:] for c in CASES + IDENTIFIER_CASES],
                         ids=[c[0] for c in CASES + IDENTIFIER_CASES])
def test_ingest_refuses_source_breaking_a_rule_and_changes_nothing(loaded, write_source, tables, expected):
    before = table_fingerprints(loaded.warehouse)

    result = CliRunner().invoke(cli, ["ingest", str(write_source(**tables)), "--warehouse", str(loaded.warehouse)])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert expected in result.stderr
    assert "nothing was loaded" in result.stderr
    assert table_fingerprints(loaded.warehouse) == before


def test_non_utf8_bytes_are_refused_with_their_row(loaded, write_source):
    latin1 = GOOD_SOURCE["sites"].replace("North clinic", "Nörth clinic").encode("latin-1")
    before = table_fingerprints(loaded.warehouse)

    result = CliRunner().invoke(cli, ["ingest", str(write_source(sites=latin1)), "--warehouse", str(loaded.warehouse)])

    assert result.exit_code == 2
    assert "sites.csv, row 1 (line 2)" in result.stderr
    assert "not UTF-8" in result.stderr
    assert table_fingerprints(loaded.warehouse) == before


def test_refusal_never_prints_the_refused_value(loaded, write_source):
    tables = _swap("sites", "North clinic", "ask jane.doe@example.org")

    result = CliRunner().invoke(cli, ["ingest", str(write_source(**tables)), "--warehouse", str(loaded.warehouse)])

    assert result.exit_code == 2
    assert "jane.doe" not in result.output


def test_many_violations_are_capped_with_a_count_of_the_rest(loaded, write_source):
    rows = "".join(f"X{i},P1,2024-01-0{1 + i % 9},IV,35,70,40,120,80,70,150,90,95,97,12,perhaps\n" for i in range(80))
    tables = {"sessions": GOOD_SOURCE["sessions"] + rows, "adverse_events": None}

    result = CliRunner().invoke(cli, ["ingest", str(write_source(**tables)), "--warehouse", str(loaded.warehouse)])

    assert result.exit_code == 2
    assert "(80 violations)" in result.stderr
    assert "... and 30 more" in result.stderr
    assert "sessions.csv, row 83 (line 84), column completed" not in result.stderr  # beyond the cap


def test_refused_attempt_is_recorded_in_the_loads_table(loaded, write_source):
    import duckdb

    CliRunner().invoke(cli, ["ingest", str(write_source(**_swap("sites", "CA", "Mars"))), "--warehouse",
                             str(loaded.warehouse)])

    con = duckdb.connect(str(loaded.warehouse), read_only=True)
    outcomes = [r[0] for r in con.execute("SELECT outcome FROM raw.loads ORDER BY started_at").fetchall()]
    assert outcomes == ["loaded", "refused"]
