"""Session-scoped warehouses for the model tests: each is built by a real `dbt build` once per run.

Tests that share a warehouse carry the same xdist_group, so `pytest -n 2 --dist loadgroup` keeps them on
one worker and the build happens once there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.config import Settings, resolve_settings
from core.definitions import load_definitions
from kow.build import BuildSummary, build_models
from tests.models.clinics import build_clinics_warehouse

# Definitions overridden in the second build: every var that changes a rule is moved.
OVERRIDES: dict[str, Any] = {
    "response_reduction": 0.4,
    "course_gap_days": 60,
    "relapse_consecutive": 3,
    "induction_sessions": 4,
    "induction_window_days": 21,
    "baseline_window_days": 14,
    "endpoint_window_days": 7,
    "derived_hypertension_sbp_mmhg": 160,
    "derived_hypertension_dbp_mmhg": 100,
    "derived_desaturation_spo2_pct": 92,
}


@dataclass(frozen=True)
class BuiltClinics:
    settings: Settings
    summary: BuildSummary
    definitions: dict[str, Any]
    totals: list[int]
    progress: list[int]

    def query(self, sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _build(root: Path, overrides: dict[str, Any] | None) -> BuiltClinics:
    settings = resolve_settings(build_clinics_warehouse(root / "kow.duckdb"), environ={})
    totals: list[int] = []
    progress: list[int] = []
    summary = build_models(settings, vars=overrides, on_total=totals.append, on_progress=progress.append)
    definitions = load_definitions(overrides).as_dict()
    return BuiltClinics(settings, summary, definitions, totals, progress)


@pytest.fixture(scope="session")
def clinics(tmp_path_factory: pytest.TempPathFactory) -> BuiltClinics:
    """The hand-made and fuzz clinics built with the definitions as shipped."""
    return _build(tmp_path_factory.mktemp("clinics_default"), None)


@pytest.fixture(scope="session")
def clinics_overridden(tmp_path_factory: pytest.TempPathFactory) -> BuiltClinics:
    """The same clinics built with every rule's var moved (OVERRIDES)."""
    return _build(tmp_path_factory.mktemp("clinics_overridden"), OVERRIDES)


@pytest.fixture
def raw_warehouse(tmp_path: Path) -> Callable[..., Settings]:
    """A private warehouse with the hand-made clinics' raw layer, for tests that break or change it."""

    def make(name: str = "kow") -> Settings:
        return resolve_settings(build_clinics_warehouse(tmp_path / f"{name}.duckdb", fuzz_patients=20), environ={})

    return make
