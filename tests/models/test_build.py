"""build_models(): a real `dbt build` through dbtRunner, its summary, its errors, and dbt docs."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from core.config import resolve_settings
from core.errors import KowError
from kow.build import BuildError, EmptyWarehouseError, build_models, dbt_dir_for, generate_docs
from tests.models.clinics import build_clinics_warehouse
from tests.models.conftest import BuiltClinics
from tests.models.raw_layer import create_raw_layer

DEFAULT = pytest.mark.xdist_group("models_clinics_default")
FAILING = pytest.mark.xdist_group("models_failing")
MARTS = ("dim_patients", "dim_definitions", "fct_assessment_scores", "fct_sessions", "fct_courses", "fct_response",
         "fct_durability", "fct_adverse_events",
         "agg_data_quality")


@DEFAULT
def test_build_models_runs_seeds_models_unit_and_data_tests_and_reports_progress(clinics: BuiltClinics):
    summary = clinics.summary
    assert summary.failed == ()
    assert summary.count("seed") == 5
    assert summary.count("model") >= 22
    assert summary.count("unit_test") >= 25
    assert summary.count("test") >= 70
    assert clinics.totals == [len(clinics.progress)]
    assert sum(clinics.progress) == len(summary.nodes)
    assert set(summary.mart_rows) == {f"marts.{m}" for m in MARTS}
    text = summary.describe()
    assert f"Built {clinics.settings.warehouse}" in text
    assert "unit tests" in text


@DEFAULT
def test_build_models_writes_dbt_artifacts_beside_the_warehouse(clinics: BuiltClinics):
    dbt_dir = dbt_dir_for(clinics.settings)
    assert dbt_dir.parent == clinics.settings.warehouse.parent / ".dbt"
    assert (dbt_dir / "target" / "run_results.json").is_file()
    assert (dbt_dir / "logs" / "dbt.log").is_file()


@DEFAULT
def test_build_models_leaves_the_warehouse_closed_and_the_schemas_plainly_named(clinics: BuiltClinics):
    assert not Path(f"{clinics.settings.warehouse}.wal").exists()
    with duckdb.connect(str(clinics.settings.warehouse), read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert {"raw", "staging", "intermediate", "marts", "seeds", "audit"} <= schemas


@DEFAULT
def test_generate_docs_writes_a_catalog_of_the_marts(clinics: BuiltClinics):
    target = generate_docs(clinics.settings)
    catalog = json.loads((target / "catalog.json").read_text())
    assert (target / "index.html").is_file()
    columns = catalog["nodes"]["model.kow.fct_response"]["columns"]
    assert {"pct_change", "evaluable", "not_evaluable_reason"} <= {c.lower() for c in columns}


@pytest.fixture(scope="module")
def failed_build(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A full build of a warehouse with one out-of-range score and one missing severity grade (data tests fail) and
    one session date that is not a date (a model fails): the BuildError's message."""
    path = build_clinics_warehouse(tmp_path_factory.mktemp("failing") / "kow.duckdb", fuzz_patients=10)
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO raw.assessments VALUES ('X1', 'T01', DATE '2023-01-03', 'PHQ9', 40, 'load-0001')")
        con.execute("ALTER TABLE raw.sessions ALTER session_date TYPE VARCHAR")
        con.execute("UPDATE raw.sessions SET session_date = 'soon' WHERE session_id = 'T01-02'")
        con.execute("UPDATE raw.adverse_events SET severity_grade = NULL WHERE event_id = 'T-ae1'")
    with pytest.raises(BuildError) as caught:
        build_models(resolve_settings(path, environ={}))
    return str(caught.value)


@FAILING
def test_build_models_names_the_failing_data_test_and_where_its_rows_are(failed_build: str):
    name = "assert_scores_within_instrument_range"
    assert f"test.kow.{name} ({name}): fail" in failed_build
    assert "Got 1 result, configured to fail if != 0" in failed_build
    assert "audit.assert_scores_within_instrument_range" in failed_build


@FAILING
def test_build_models_names_a_failing_generic_test_of_the_project(failed_build: str):
    assert "test.kow.kow_not_null_columns_stg_kow__adverse_events_" in failed_build
    assert "(failing rows stored in kow.audit.kow_not_null_columns_stg_kow__" in failed_build  # long names are hashed


@FAILING
def test_build_models_names_the_failing_model_and_dbts_message(failed_build: str):
    assert "model.kow.int_sessions_numbered (int_sessions_numbered): error" in failed_build
    assert "Conversion Error" in failed_build
    assert "skipped" in failed_build.splitlines()[0]


def test_build_models_says_run_kow_ingest_first_without_a_warehouse(tmp_path: Path):
    with pytest.raises(EmptyWarehouseError, match="Run `kow ingest` first"):
        build_models(resolve_settings(tmp_path / "nothing.duckdb", environ={}))


def test_build_models_says_run_kow_ingest_first_without_raw_tables(tmp_path: Path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(EmptyWarehouseError, match="Run `kow ingest` first"):
        build_models(resolve_settings(path, environ={}))


def test_build_models_says_run_kow_ingest_first_without_patients(tmp_path: Path):
    path = tmp_path / "kow.duckdb"
    create_raw_layer(path)
    with pytest.raises(EmptyWarehouseError, match="Run `kow ingest` first"):
        build_models(resolve_settings(path, environ={}))
    assert not (tmp_path / ".dbt").exists()


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [({"response_cutoff": 0.4}, "response_cutoff"), ({"relapse_consecutive": 0}, "relapse_consecutive must be"),
     ({"serious_grade_min": 6}, "serious_grade_min must be"),
     ({"dose_band_edges_mg_per_kg": [0.6, 0.4]}, "dose_band_edges_mg_per_kg must be"),
     ({"dose_band_edges_mg_per_kg": "0.4"}, "a list of numbers"), ({"serious_grade_min": 3.5}, "a whole number")],
)
def test_build_models_refuses_bad_vars_before_running_dbt(raw_warehouse, overrides, fragment):
    settings = raw_warehouse()
    with pytest.raises(KowError, match=fragment):
        build_models(settings, vars=overrides)
    assert not dbt_dir_for(settings).exists()


@pytest.mark.xdist_group("models_no_sessions")
def test_build_models_builds_a_clinic_that_has_patients_but_no_sessions(tmp_path: Path):
    path = tmp_path / "kow.duckdb"
    create_raw_layer(path)
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO raw.loads VALUES ('L1', 'src', NULL, NULL, 'loaded', ['S1'], NULL)")
        con.execute("INSERT INTO raw.sites VALUES ('S1', 'Only site', NULL, 'L1')")
        con.execute("INSERT INTO raw.patients VALUES ('P1', 'S1', 50, 'male', NULL, 'F33.1', 2, NULL, 'L1')")
    summary = build_models(resolve_settings(path, environ={}))
    assert summary.mart_rows["marts.dim_patients"] == 1
    assert summary.mart_rows["marts.fct_sessions"] == 0
    assert summary.mart_rows["marts.fct_courses"] == 0
    assert summary.mart_rows["marts.agg_data_quality"] == 1
