"""Shared fixtures: real DuckDB files in tmp_path, hand-made sources as small readable tables."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.config import Settings, resolve_settings

# A tiny valid clinic, one CSV text per table: the base every refusing test breaks in one place.
GOOD_SOURCE: dict[str, str] = {
    "sites": """\
site_id,site_name,region
S1,North clinic,CA
S2,South clinic,TX
""",
    "patients": """\
patient_id,site_id,age_at_first_session,sex,zip3,primary_dx_icd10,prior_failed_treatments,substance_use_history
P1,S1,45,female,941,F33.2,3,false
P2,S2,90,male,000,f4310,,true
P3,S1,31,other,,F41.1,0,
""",
    "sessions": """\
session_id,patient_id,session_date,route,dose_mg,weight_kg,duration_min,sbp_pre,dbp_pre,hr_pre,sbp_max,dbp_max,hr_max,spo2_min,cadss_total,completed
V1,P1,2024-01-02,IV,35,70,40,120,80,70,150,90,95,97,12,
V2,P1,2024-01-05,IV,35,70,40,122,81,72,181,95,99,96,20,true
V3,P2,2024-02-01,INTRANASAL,56,,,,,,,,,,,false
""",
    "assessments": """\
assessment_id,patient_id,assessed_on,instrument,total_score
A1,P1,2024-01-01,PHQ9,20
A2,P1,2024-01-19,PHQ9,8
A3,P2,2024-02-01,PCL5,50
""",
    "adverse_events": """\
event_id,session_id,event_term,severity_grade,serious,resolved
E1,V1,nausea,1,false,true
E2,V2,hypertension,2,,
""",
}

RAW_TABLES = ("sites", "patients", "sessions", "assessments", "adverse_events")


@pytest.fixture
def write_source(tmp_path: Path) -> Callable[..., Path]:
    """Write GOOD_SOURCE with some tables replaced (text) or removed (None) into a new folder."""
    counter = iter(range(1_000_000))

    def write(name: str = "source", **tables: str | bytes | None) -> Path:
        folder = tmp_path / f"{name}_{next(counter)}"
        folder.mkdir()
        for table, text in (GOOD_SOURCE | tables).items():
            if text is None:
                continue
            path = folder / f"{table}.csv"
            path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return folder

    return write


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return resolve_settings(tmp_path / "warehouse" / "kow.duckdb", environ={})


def table_fingerprints(warehouse: Path) -> dict[str, str]:
    """A content hash of every raw data table (sorted rows), to prove a refused load changed nothing."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for table in RAW_TABLES:
            rows = con.execute(f"SELECT * FROM raw.{table} ORDER BY ALL").fetchall()  # noqa: S608
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def raw_counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in RAW_TABLES}  # noqa: S608
    finally:
        con.close()
