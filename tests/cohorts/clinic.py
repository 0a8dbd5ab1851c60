"""One generated clinic per test run, built by a real `dbt build`, shared by tests/cohorts, tests/api and
tests/notebooks; tests only ever open it read-only (tests that write take a private copy).

Built once per run, not once per xdist worker: the first worker to ask builds it under a file lock in the
run's shared temp folder and the others reuse it (xdist_group alone does not keep a group on one worker
with pytest 9.2 and pytest-xdist 3.8; see tests/analysis/conftest.py).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core.config import Settings, resolve_settings
from ingest.generate import generate_clinic
from ingest.load import load_source
from kow.build import build_models

CLINIC_GROUP = "cohort_clinic"  # xdist_group of every test that reads it
CLINIC_PATIENTS = 1500
CLINIC_SEED = 7707
FOLDER = "cohort_clinic"
WAREHOUSE = "kow.duckdb"
REPOSITORY = Path(__file__).resolve().parents[2]


def _build(folder: Path) -> None:
    settings = resolve_settings(folder / WAREHOUSE, environ={})
    generate_clinic(folder / "source", patients=CLINIC_PATIENTS, seed=CLINIC_SEED)
    load_source(folder / "source", settings)
    build_models(settings)


def shared_clinic(factory: pytest.TempPathFactory) -> Settings:
    """The run's clinic, built on first use by whichever worker asks first."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / FOLDER
    with (shared / f"{FOLDER}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / ".done").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                _build(folder)
                (folder / ".done").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return resolve_settings(folder / WAREHOUSE, environ={})


def private_copy(settings: Settings, folder: Path) -> Settings:
    """A writable copy of the shared warehouse (dbt writes beside the file it builds or documents)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.warehouse, folder / WAREHOUSE)
    return resolve_settings(folder / WAREHOUSE, environ={})


def read_table(settings: Settings, sql: str) -> pl.DataFrame:
    """An independent read of the marts for expected values: plain duckdb, read-only, polars out."""
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()
