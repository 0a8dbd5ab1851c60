"""The raw layer kow's ingest writes (schema ``raw``), created by SQL for the model tests.

Tests build small, readable warehouses with these tables instead of running the ingest, so the models
are tested against exactly the schema the brief pins and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

RAW_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "sites": (("site_id", "VARCHAR"), ("site_name", "VARCHAR"), ("region", "VARCHAR")),
    "patients": (
        ("patient_id", "VARCHAR"), ("site_id", "VARCHAR"), ("age_at_first_session", "INTEGER"),
        ("sex", "VARCHAR"), ("zip3", "VARCHAR"), ("primary_dx_icd10", "VARCHAR"),
        ("prior_failed_treatments", "INTEGER"), ("substance_use_history", "BOOLEAN"),
    ),
    "sessions": (
        ("session_id", "VARCHAR"), ("patient_id", "VARCHAR"), ("session_date", "DATE"), ("route", "VARCHAR"),
        ("dose_mg", "DOUBLE"), ("weight_kg", "DOUBLE"), ("duration_min", "INTEGER"),
        ("sbp_pre", "INTEGER"), ("dbp_pre", "INTEGER"), ("hr_pre", "INTEGER"),
        ("sbp_max", "INTEGER"), ("dbp_max", "INTEGER"), ("hr_max", "INTEGER"),
        ("spo2_min", "INTEGER"), ("cadss_total", "INTEGER"), ("completed", "BOOLEAN"),
    ),
    "assessments": (
        ("assessment_id", "VARCHAR"), ("patient_id", "VARCHAR"), ("assessed_on", "DATE"),
        ("instrument", "VARCHAR"), ("total_score", "DOUBLE"),
    ),
    "adverse_events": (
        ("event_id", "VARCHAR"), ("session_id", "VARCHAR"), ("event_term", "VARCHAR"),
        ("severity_grade", "INTEGER"), ("serious", "BOOLEAN"), ("resolved", "BOOLEAN"),
    ),
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "sessions": {"completed": True},
    "adverse_events": {"serious": False},
}

LOAD_ID = "load-0001"


def create_raw_layer(path: Path) -> None:
    """An empty raw layer: the five data tables (each with load_id), raw.loads and raw.load_files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for name, columns in RAW_TABLES.items():
            cols = ", ".join(f"{col} {typ}" for col, typ in (*columns, ("load_id", "VARCHAR")))
            con.execute(f"CREATE TABLE raw.{name} ({cols})")
        con.execute(
            "CREATE TABLE raw.loads (load_id VARCHAR, source_path VARCHAR, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, outcome VARCHAR, site_ids VARCHAR[], message VARCHAR)"
        )
        con.execute(
            "CREATE TABLE raw.load_files (load_id VARCHAR, table_name VARCHAR, file_name VARCHAR, "
            "content_hash VARCHAR, row_count BIGINT)"
        )


def insert_rows(path: Path, table: str, rows: Iterable[Mapping[str, Any]], *, load_id: str = LOAD_ID) -> int:
    """Insert dict rows into raw.<table>; missing keys are null, or the contract's default."""
    names = [col for col, _ in RAW_TABLES[table]] + ["load_id"]
    defaults = DEFAULTS.get(table, {})
    values = [
        [row.get(col, defaults.get(col)) if col != "load_id" else row.get("load_id", load_id) for col in names]
        for row in rows
    ]
    if not values:
        return 0
    placeholders = ", ".join("?" for _ in names)
    with duckdb.connect(str(path)) as con:
        con.executemany(f"INSERT INTO raw.{table} ({', '.join(names)}) VALUES ({placeholders})", values)  # noqa: S608
    return len(values)


def record_load(
    path: Path, *, load_id: str = LOAD_ID, site_ids: Sequence[str] = (), source_path: str = "clinic"
) -> None:
    """A 'loaded' row in raw.loads, as the ingest writes after a successful load."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO raw.loads VALUES (?, ?, TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-01 00:00:05', "
            "'loaded', ?, NULL)",
            [load_id, source_path, list(site_ids)],
        )
