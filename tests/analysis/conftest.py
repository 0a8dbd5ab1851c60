"""Fixtures for the analysis tests: one multi-clinic warehouse per test run, built by dbt once.

Several generated clinics (one per seed, each with its own site ids) are loaded into one warehouse and
built together: per-seed estimates come from the marts filtered to that clinic's sites, so a ground-truth
check over many seeds costs a single `dbt build`.

Built once per run, not once per xdist worker: the first worker to need a shared warehouse builds it
under a file lock in the run's shared temp folder and the others reuse it (pytest-xdist's documented
pattern for session fixtures). Grouping by xdist_group alone is not enough here: with pytest 9.2 and
pytest-xdist 3.8 the group suffix is not applied to node ids, so `--dist loadgroup` spreads a group over
both workers. Shared warehouses are only ever opened read-only; tests that write get a private copy.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analysis.run import AnalysisSummary, analyze_warehouse
from core.config import Settings, resolve_settings
from ingest.generate import generate_clinic
from ingest.load import load_source
from kow.build import build_models

RECOVERY_SEEDS = tuple(range(501, 509))
RECOVERY_PATIENTS = 2500
WAREHOUSE_GROUP = "analysis_warehouse"  # xdist_group of every test that uses the built warehouse
WAREHOUSE = "kow.duckdb"


@dataclass(frozen=True)
class BuiltClinics:
    settings: Settings
    truths: dict[int, dict[str, Any]]  # seed -> truth.json

    def clinic_code(self, seed: int) -> str:
        return str(self.truths[seed]["clinic_code"])


@dataclass(frozen=True)
class Analyzed:
    settings: Settings
    report: Path
    rows: dict[str, int]
    progress_calls: list[int]


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder made by `make` exactly once per test run, whichever worker asks first."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # workers' basetemps share a parent
    folder = shared / name
    with _exclusive(shared / f"{name}.lock"):
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            (folder / ".done").touch()
    return folder


def _build_clinics(folder: Path) -> None:
    settings = resolve_settings(folder / WAREHOUSE, environ={})
    for seed in RECOVERY_SEEDS:
        source = folder / f"clinic_{seed}"
        generate_clinic(source, patients=RECOVERY_PATIENTS, seed=seed)
        load_source(source, settings)
    build_models(settings)


@pytest.fixture(scope="session")
def built_clinics(tmp_path_factory: pytest.TempPathFactory) -> BuiltClinics:
    """RECOVERY_SEEDS clinics generated, ingested and built into one warehouse; read-only for tests."""
    folder = _once(tmp_path_factory, "analysis_clinics", _build_clinics)
    truths = {seed: json.loads((folder / f"clinic_{seed}" / "truth.json").read_text()) for seed in RECOVERY_SEEDS}
    return BuiltClinics(resolve_settings(folder / WAREHOUSE, environ={}), truths)


@pytest.fixture(scope="session")
def analyzed(built_clinics: BuiltClinics, tmp_path_factory: pytest.TempPathFactory) -> Analyzed:
    """A copy of the built warehouse after one analyze_warehouse run; read-only for tests."""

    def analyze(folder: Path) -> None:
        shutil.copyfile(built_clinics.settings.warehouse, folder / WAREHOUSE)
        calls: list[int] = []
        summary: AnalysisSummary = analyze_warehouse(resolve_settings(folder / WAREHOUSE, environ={}),
                                                     out_dir=folder / "report", on_progress=calls.append)
        (folder / "summary.json").write_text(json.dumps({"rows": summary.rows, "calls": calls}))

    folder = _once(tmp_path_factory, "analysis_analyzed", analyze)
    saved = json.loads((folder / "summary.json").read_text())
    return Analyzed(resolve_settings(folder / WAREHOUSE, environ={}), folder / "report" / "report.html",
                    saved["rows"], saved["calls"])


@pytest.fixture
def private_copy(tmp_path: Path) -> Callable[[Settings], Settings]:
    """A writable copy of a shared warehouse, for tests that run analyses into it or damage its marts."""

    def copy(source: Settings) -> Settings:
        target = tmp_path / "private" / WAREHOUSE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.warehouse, target)
        return resolve_settings(target, environ={})

    return copy
