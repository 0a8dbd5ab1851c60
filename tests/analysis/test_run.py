"""analyze_warehouse end to end on a dbt-built warehouse of several generated clinics."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from analysis.durability import KM_SCHEMA
from analysis.literature import LITERATURE_SCHEMA
from analysis.marts import MartsMissingError, read_marts
from analysis.rates import AE_RATES_SCHEMA
from analysis.response import RESPONSE_SCHEMA
from analysis.run import ANALYSIS_STEPS, analyze_warehouse
from analysis.tidy import RATIOS_SCHEMA
from analysis.trajectories import SCORES_MISSING, TRAJECTORY_SCHEMA
from core.config import Settings, resolve_settings
from core.definitions import load_definitions
from core.errors import KowError
from tests.analysis.conftest import RECOVERY_SEEDS, WAREHOUSE_GROUP, Analyzed, BuiltClinics

pytestmark = pytest.mark.xdist_group(WAREHOUSE_GROUP)

SCHEMAS = {
    "ae_rates": AE_RATES_SCHEMA, "ae_rate_ratios": RATIOS_SCHEMA, "response_by_indication": RESPONSE_SCHEMA,
    "response_odds_ratios": RATIOS_SCHEMA, "trajectory_effects": TRAJECTORY_SCHEMA, "durability_km": KM_SCHEMA,
    "durability_hazard_ratios": RATIOS_SCHEMA, "literature_comparison": LITERATURE_SCHEMA,
}


def _query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_table_lands_in_schema_analysis_with_its_fixed_columns(analyzed: Analyzed):
    settings = analyzed.settings
    assert analyzed.progress_calls == [1] * ANALYSIS_STEPS
    columns = _query(settings, "SELECT table_name, column_name FROM information_schema.columns "
                               "WHERE table_schema = 'analysis' ORDER BY table_name, ordinal_position")
    found: dict[str, list[str]] = {}
    for table, column in columns:
        found.setdefault(table, []).append(column)
    assert found.pop("run_info") == ["kind", "name", "value"]
    assert found == {name: list(schema) for name, schema in SCHEMAS.items()}
    for name, rows in analyzed.rows.items():
        assert _query(settings, f"SELECT count(*) FROM analysis.{name}")[0][0] == rows > 0  # noqa: S608


def test_tables_agree_with_the_marts_they_summarise(analyzed: Analyzed):
    settings = analyzed.settings
    [(sessions, events)] = _query(settings, "SELECT (SELECT count(*) FROM marts.fct_sessions), "
                                            "(SELECT count(*) FROM marts.fct_adverse_events)")
    overall = _query(settings, "SELECT events, sessions, status FROM analysis.ae_rates "
                               "WHERE stratum_type = 'overall' AND source = 'all'")
    assert overall == [(events, sessions, "ok")]
    [(evaluable,)] = _query(settings, "SELECT count(*) FROM marts.fct_courses WHERE primary_evaluable")
    assert _query(settings, "SELECT courses FROM analysis.response_by_indication "
                            "WHERE indication = 'all' AND instrument = 'all'") == [(evaluable,)]
    [(responding,)] = _query(settings, "SELECT count(*) FROM marts.fct_durability WHERE is_primary")
    assert _query(settings, "SELECT DISTINCT courses FROM analysis.durability_km WHERE indication = 'all'") == [
        (responding,)]
    statuses = _query(settings, "SELECT DISTINCT status FROM analysis.response_odds_ratios UNION "
                                "SELECT DISTINCT status FROM analysis.ae_rate_ratios UNION "
                                "SELECT DISTINCT status FROM analysis.durability_hazard_ratios UNION "
                                "SELECT DISTINCT status FROM analysis.trajectory_effects")
    assert statuses == [("ok",)], "every model fits on eight ordinary clinics"


def test_report_is_self_contained_and_states_definitions_loads_and_versions(analyzed: Analyzed):
    html = analyzed.report.read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)
    assert html.count("data:image/png;base64,") == 7  # every figure embedded
    loads = _query(analyzed.settings, "SELECT load_id FROM raw.loads WHERE outcome = 'loaded'")
    assert len(loads) == len(RECOVERY_SEEDS)
    assert all(load_id in html for (load_id,) in loads)
    for needle in ("response_reduction", "relapse_consecutive", "min_cell_size", "statsmodels", "duckdb",
                   "McInnes 2022", "Oliver 2022", "Yale 2024", "0.98%", "numbers at risk"):
        assert needle in html


def test_analyze_without_built_marts_says_to_run_kow_build(tmp_path: Path):
    raw_only = tmp_path / "raw_only.duckdb"
    con = duckdb.connect(str(raw_only))
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.loads (load_id VARCHAR)")
    con.close()
    for path in (raw_only, tmp_path / "missing.duckdb"):
        with pytest.raises(MartsMissingError, match=r"Run `kow build` first") as caught:
            analyze_warehouse(resolve_settings(path, environ={}), out_dir=tmp_path / "report")
        assert isinstance(caught.value, KowError)
    assert not (tmp_path / "report").exists()


DAMAGE = """
-- OCD keeps three responding courses, in fct_courses and fct_durability alike
CREATE TEMP TABLE kept AS SELECT patient_id, course_number FROM marts.fct_durability
    WHERE indication = 'OCD' AND is_primary ORDER BY patient_id, course_number LIMIT 3;
DELETE FROM marts.fct_courses c WHERE indication = 'OCD' AND NOT EXISTS (
    SELECT 1 FROM kept k WHERE k.patient_id = c.patient_id AND k.course_number = c.course_number);
DELETE FROM marts.fct_durability d WHERE indication = 'OCD' AND NOT EXISTS (
    SELECT 1 FROM kept k WHERE k.patient_id = d.patient_id AND k.course_number = d.course_number);
-- no emergence reaction anywhere: a zero-event stratum
DELETE FROM marts.fct_adverse_events WHERE event_term = 'emergence_reaction';
DROP TABLE marts.fct_assessment_scores;
-- responders exactly the courses below their instrument's mean baseline: perfect separation
UPDATE marts.fct_courses c SET primary_responder = z.below
FROM (SELECT patient_id, course_number,
             primary_baseline_score < avg(primary_baseline_score) OVER (PARTITION BY primary_instrument) AS below
      FROM marts.fct_courses WHERE primary_evaluable) z
WHERE c.patient_id = z.patient_id AND c.course_number = z.course_number;
"""


def test_thin_or_broken_data_is_reported_and_replaces_the_previous_run(
        analyzed: Analyzed, private_copy: Callable[[Settings], Settings], tmp_path: Path):
    settings = private_copy(analyzed.settings)  # holds a first, healthy run in schema analysis
    before = _query(settings, "SELECT value FROM analysis.run_info WHERE name = 'generated_at'")
    con = duckdb.connect(str(settings.warehouse))
    con.execute(DAMAGE)
    con.close()
    summary = analyze_warehouse(settings, out_dir=tmp_path / "report")
    assert _query(settings, "SELECT courses, status FROM analysis.response_by_indication "
                            "WHERE indication = 'OCD' AND instrument = 'all'") == [(3, "too_few")]
    assert _query(settings, "SELECT term, status FROM analysis.response_odds_ratios") == [
        ("(model)", "not_converged"), ("indication=OCD", "too_few")]
    assert _query(settings, "SELECT courses, status FROM analysis.durability_km WHERE indication = 'OCD'") == [
        (3, "too_few")]
    assert _query(settings, "SELECT status FROM analysis.durability_hazard_ratios "
                            "WHERE term = 'indication=OCD'") == [("too_few",)]
    [(sessions, high, status)] = _query(settings, "SELECT sessions, ci_high, status FROM analysis.ae_rates WHERE "
                                                  "stratum = 'emergence_reaction' AND source = 'all' AND events = 0")
    assert status == "ok"
    assert high == pytest.approx(100 * 3.6889 / sessions, rel=1e-4)  # zero events: 95% upper bound 3.689
    assert _query(settings, "SELECT status FROM analysis.trajectory_effects") == [(SCORES_MISSING,)]
    after = _query(settings, "SELECT value FROM analysis.run_info WHERE name = 'generated_at'")
    assert len(before) == len(after) == 1  # the run's tables replaced the first run's, nothing left over
    tables = _query(settings, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'analysis'")
    assert tables == [(len(SCHEMAS) + 1,)]
    problems = {(p["table"], p["status"]) for p in summary.problems}
    assert {("response_odds_ratios", "not_converged"), ("response_by_indication", "too_few"),
            ("trajectory_effects", SCORES_MISSING)} <= problems
    html = summary.report.read_text(encoding="utf-8")
    assert "Needs attention" in html
    assert "not_converged" in html
    assert SCORES_MISSING in html


def test_marts_built_by_an_older_kow_ask_for_a_rebuild(
        built_clinics: BuiltClinics, private_copy: Callable[[Settings], Settings]):
    settings = private_copy(built_clinics.settings)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("ALTER TABLE marts.fct_adverse_events DROP COLUMN serious_or_severe")
    con.close()
    with pytest.raises(MartsMissingError, match=r"older kow .* Run `kow build`"):
        read_marts(settings.warehouse)


def test_definitions_recorded_by_the_build_win_over_the_project_file(
        built_clinics: BuiltClinics, private_copy: Callable[[Settings], Settings]):
    settings = private_copy(built_clinics.settings)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("CREATE OR REPLACE TABLE marts.dim_definitions AS SELECT * FROM (VALUES ('response_reduction', '0.4'), "
                "('alpha', '0.1'), ('some_future_var', 'x')) t(var_name, var_value)")
    con.close()
    data = read_marts(settings.warehouse)
    assert (data.definitions.response_reduction, data.definitions.alpha) == (0.4, 0.1)
    assert data.definitions.min_cell_size == load_definitions().min_cell_size
    assert data.definitions_from == "marts.dim_definitions"
    as_built = read_marts(built_clinics.settings.warehouse)  # the build records the project's own vars
    assert as_built.definitions_from == "marts.dim_definitions"
    assert as_built.definitions == load_definitions()


def test_marts_without_rows_give_too_few_rows_not_a_crash(built_clinics: BuiltClinics,
                                                          private_copy: Callable[[Settings], Settings],
                                                          tmp_path: Path):
    settings = private_copy(built_clinics.settings)
    con = duckdb.connect(str(settings.warehouse))
    for mart in ("dim_patients", "fct_sessions", "fct_courses", "fct_response", "fct_durability",
                 "fct_adverse_events", "agg_data_quality", "fct_assessment_scores"):
        con.execute(f"DELETE FROM marts.{mart}")  # noqa: S608 - our own table names
    con.close()
    summary = analyze_warehouse(settings, out_dir=tmp_path / "report")
    for table in ("ae_rate_ratios", "response_odds_ratios", "durability_hazard_ratios"):
        assert _query(settings, f"SELECT term, status FROM analysis.{table}") == [("(model)", "too_few")]  # noqa: S608
    assert _query(settings, "SELECT courses, status FROM analysis.response_by_indication") == [(0, "too_few")]
    assert _query(settings, "SELECT DISTINCT status FROM analysis.ae_rates") == [("too_few",)]
    assert summary.report.exists()
