"""kow ingest on real DuckDB files: what a good source becomes, and how a clinic is added or replaced."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from core.errors import ContractError
from ingest.load import load_source
from tests.conftest import GOOD_SOURCE, raw_counts, table_fingerprints


def test_ingest_loads_every_table_typed_per_contract(write_source, settings):
    summary = load_source(write_source(), settings)

    assert summary.outcome == "loaded"
    assert raw_counts(settings.warehouse) == {"sites": 2, "patients": 3, "sessions": 3, "assessments": 3,
                                              "adverse_events": 2}
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema = 'raw' AND table_name = 'sessions'").fetchall())
    assert types["session_date"] == "DATE"
    assert types["dose_mg"] == "DOUBLE"
    assert types["sbp_max"] == "INTEGER"
    assert types["completed"] == "BOOLEAN"
    # the contract's defaults: completed true, serious false when the cell is empty
    completed = dict(con.execute("SELECT session_id, completed FROM raw.sessions").fetchall())
    assert completed == {"V1": True, "V2": True, "V3": False}
    assert con.execute("SELECT serious FROM raw.adverse_events WHERE event_id = 'E2'").fetchone() == (False,)
    assert con.execute("SELECT session_date FROM raw.sessions WHERE session_id = 'V1'").fetchone() == (
        dt.date(2024, 1, 2),)
    load = con.execute("SELECT load_id, outcome, site_ids, source_path FROM raw.loads").fetchall()
    assert load == [(summary.load_id, "loaded", ["S1", "S2"], str(summary.source))]
    files = con.execute("SELECT table_name, file_name, row_count, length(content_hash) FROM raw.load_files "
                        "ORDER BY table_name").fetchall()
    assert files[0] == ("adverse_events", "adverse_events.csv", 2, 64)
    assert len(files) == 5
    assert con.execute("SELECT count(DISTINCT load_id) FROM raw.patients").fetchone() == (1,)


def test_ingest_again_with_identical_content_changes_nothing(write_source, settings):
    first = load_source(write_source(), settings)
    before = table_fingerprints(settings.warehouse)

    again = load_source(write_source(), settings)  # same bytes, another folder

    assert again.outcome == "unchanged"
    assert again.load_id == first.load_id
    assert table_fingerprints(settings.warehouse) == before
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.loads").fetchone() == (1,)


def test_newer_export_of_same_clinic_replaces_its_rows(write_source, settings):
    first = load_source(write_source(), settings)
    newer_sessions = GOOD_SOURCE["sessions"] + "V4,P3,2024-03-01,IM,40,80,,,,,,,,,,\n"

    second = load_source(write_source(sessions=newer_sessions), settings)

    assert second.outcome == "loaded"
    assert second.replaced == (first.load_id,)
    assert raw_counts(settings.warehouse)["sessions"] == 4
    assert raw_counts(settings.warehouse)["patients"] == 3  # replaced, not added twice
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    assert con.execute("SELECT DISTINCT load_id FROM raw.sessions").fetchall() == [(second.load_id,)]
    outcomes = dict(con.execute("SELECT load_id, outcome FROM raw.loads").fetchall())
    assert outcomes == {first.load_id: "replaced", second.load_id: "loaded"}


def _other_clinic(write_source) -> Path:
    return write_source(
        "other",
        sites="site_id,site_name,region\nT1,Lakeside,WA\n",
        patients="patient_id,site_id,primary_dx_icd10\nQ1,T1,F33.1\n",
        sessions="session_id,patient_id,session_date,route,dose_mg\nW1,Q1,2023-05-01,IV,40\n",
        assessments="assessment_id,patient_id,assessed_on,instrument,total_score\nB1,Q1,2023-05-01,PHQ9,15\n",
        adverse_events=None,
    )


def test_another_clinic_adds_to_the_warehouse(write_source, settings):
    load_source(write_source(), settings)

    load_source(_other_clinic(write_source), settings)

    assert raw_counts(settings.warehouse) == {"sites": 3, "patients": 4, "sessions": 4, "assessments": 4,
                                              "adverse_events": 2}


def test_ids_must_stay_unique_across_clinics(write_source, settings):
    load_source(write_source(), settings)
    before = table_fingerprints(settings.warehouse)
    clash = write_source("clash", sites="site_id,site_name,region\nT1,Lakeside,WA\n",
                         patients="patient_id,site_id,primary_dx_icd10\nP2,T1,F33.1\n",
                         sessions=None, assessments=None, adverse_events=None)

    with pytest.raises(ContractError) as refused:
        load_source(clash, settings)

    assert "patients.csv, row 1 (line 2), column patient_id: id already in the warehouse" in str(refused.value)
    assert table_fingerprints(settings.warehouse) == before


def test_newer_export_that_drops_a_site_is_refused(write_source, settings):
    load_source(write_source(), settings)
    before = table_fingerprints(settings.warehouse)
    fewer_sites = write_source(sites="site_id,site_name,region\nS1,North clinic,CA\n",
                               patients="patient_id,site_id,primary_dx_icd10\nP1,S1,F33.1\n",
                               sessions=None, assessments=None, adverse_events=None)

    with pytest.raises(ContractError, match="also had site\\(s\\) S2"):
        load_source(fewer_sites, settings)

    assert table_fingerprints(settings.warehouse) == before


def test_parquet_source_loads_the_same_rows_as_csv(write_source, settings, tmp_path):
    csv_dir = write_source()
    parquet_dir = tmp_path / "parquet_source"
    parquet_dir.mkdir()
    con = duckdb.connect()
    for table in GOOD_SOURCE:
        # typed parquet, as a clinic's pipeline would write it (dates as dates, numbers as numbers)
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_dir / table}.csv')) TO "  # noqa: S608
                    f"'{parquet_dir / table}.parquet' (FORMAT parquet)")
    load_source(csv_dir, settings)
    from_csv = table_fingerprints(settings.warehouse)
    other = settings.__class__(settings.warehouse.with_name("p.duckdb"), settings.published)

    load_source(parquet_dir, other)

    assert _without_load_ids(other.warehouse) == _without_load_ids(settings.warehouse)
    assert from_csv  # both loads produced data


def _without_load_ids(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    return {t: con.execute(f"SELECT * EXCLUDE (load_id) FROM raw.{t} ORDER BY ALL").fetchall()  # noqa: S608
            for t in ("sites", "patients", "sessions", "assessments", "adverse_events")}


def test_column_names_and_file_names_are_case_insensitive(write_source, settings):
    upper = GOOD_SOURCE["sites"].replace("site_id,site_name,region", "SITE_ID,Site_Name,REGION")
    folder = write_source(sites=None)
    (folder / "Sites.CSV").write_text(upper, encoding="utf-8")

    load_source(folder, settings)

    assert raw_counts(settings.warehouse)["sites"] == 2


def test_unknown_columns_are_dropped_only_when_asked(write_source, settings):
    extra = GOOD_SOURCE["sites"].replace("region\n", "region,notes\n").replace("CA\n", "CA,ok\n").replace(
        "TX\n", "TX,fine\n")
    folder = write_source(sites=extra)

    with pytest.raises(ContractError, match="sites.csv, column notes: column not in the source contract"):
        load_source(folder, settings)
    load_source(folder, settings, drop_unknown_columns=True)

    assert raw_counts(settings.warehouse)["sites"] == 2


def test_empty_clinic_without_optional_files_loads(write_source, settings):
    load_source(write_source(sessions=None, assessments=None, adverse_events=None), settings)

    assert raw_counts(settings.warehouse) == {"sites": 2, "patients": 3, "sessions": 0, "assessments": 0,
                                              "adverse_events": 0}


def test_windows_line_endings_and_byte_order_mark_are_read(write_source, settings):
    crlf = {t: ("\ufeff" if t == "sites" else "") + text.replace("\n", "\r\n") for t, text in GOOD_SOURCE.items()}

    load_source(write_source(**crlf), settings)

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    assert con.execute("SELECT site_id, region FROM raw.sites ORDER BY 1").fetchall() == [("S1", "CA"), ("S2", "TX")]
    assert con.execute("SELECT completed FROM raw.sessions WHERE session_id = 'V3'").fetchone() == (False,)
