"""What the issue pins about the dbt project: mart columns, contracts, docs, vars and no clinical literals."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from core.definitions import PROJECT_DIR, SEEDS_DIR, load_definitions

MODELS = PROJECT_DIR / "models"

# Columns the issue names; the marts may add more but must have these, spelt exactly so.
PINNED = {
    "dim_patients": ["patient_id", "site_id", "indication", "age_band", "sex", "substance_use_history"],
    "fct_sessions": ["session_id", "patient_id", "site_id", "course_number", "session_number", "phase", "route",
                     "dose_mg", "dose_mg_per_kg", "sbp_pre", "dbp_pre", "hr_pre", "sbp_max", "dbp_max", "hr_max",
                     "spo2_min", "sbp_rise_mmhg", "cadss_total", "completed"],
    "fct_courses": ["patient_id", "course_number", "first_session_date", "last_session_date", "sessions",
                    "induction_sessions", "completed_induction", "primary_instrument"],
    "fct_response": ["patient_id", "course_number", "instrument", "is_primary", "baseline_score", "baseline_date",
                     "endpoint_score", "endpoint_date", "pct_change", "evaluable", "not_evaluable_reason",
                     "responder", "remitter"],
    "fct_durability": ["patient_id", "course_number", "instrument", "endpoint_date", "lost_response", "event_date",
                       "days_to_event"],
    "fct_adverse_events": ["event_id", "session_id", "patient_id", "event_term", "severity_grade", "serious",
                           "source"],
    "agg_data_quality": ["site_id", "load_id"],
}


def _properties(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _model_properties(name: str) -> dict:
    path = next(MODELS.rglob(f"{name}.yml"))
    return next(m for m in _properties(path)["models"] if m["name"] == name)


def _sql_without_comments(path: Path) -> str:
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


@pytest.mark.parametrize("mart", sorted(PINNED))
def test_mart_has_an_enforced_contract_and_every_column_typed_and_documented(mart):
    props = _model_properties(mart)
    assert props["config"]["contract"]["enforced"] is True
    columns = props["columns"]
    assert all(c.get("data_type") and c.get("description") for c in columns), mart
    assert [c for c in PINNED[mart] if c not in {c["name"] for c in columns}] == []


@pytest.mark.parametrize("sql", sorted(MODELS.rglob("*.sql")), ids=lambda p: p.stem)
def test_every_model_has_a_properties_file_beside_it(sql: Path):
    assert sql.with_suffix(".yml").is_file()


@pytest.mark.parametrize("sql", sorted(MODELS.rglob("*.sql")), ids=lambda p: p.stem)
def test_models_hold_no_clinical_literals(sql: Path):
    """Thresholds are vars and vocabularies are seeds: no number beyond 0, 1, 7 (days a week) or 100
    (percent), and no instrument, indication, event term or ICD-10 prefix quoted in a model."""
    text = _sql_without_comments(sql)
    code = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
    numbers = {n for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", code)}
    assert numbers <= {"0", "1", "7.0", "100.0"}, numbers
    vocabulary = set()
    for seed, columns in (("instruments", ["instrument"]), ("icd10_indications", ["code_prefix", "indication"]),
                          ("event_terms", ["event_term"]), ("primary_instruments", ["indication"])):
        with (SEEDS_DIR / f"{seed}.csv").open(encoding="utf-8", newline="") as fh:
            vocabulary |= {row[c].lower() for row in csv.DictReader(fh) for c in columns if row[c]}
    quoted = {q.lower() for q in re.findall(r"'([^']*)'", code)}
    assert quoted & vocabulary == set()


def test_every_definition_var_is_used_by_the_models_or_documented_as_reporting_only():
    sql = "\n".join(p.read_text() for p in [*MODELS.rglob("*.sql"), *(PROJECT_DIR / "macros").rglob("*.sql")])
    unused = {name for name in load_definitions().as_dict() if f"var('{name}')" not in sql}
    # used by analysis/, not by the models (min_cell_size by macros/suppression.sql)
    assert unused == {"alpha", "dose_band_edges_mg_per_kg"}


def test_exposures_declare_the_analyses_and_the_dashboard_on_the_marts():
    exposures = _properties(MODELS / "exposures.yml")["exposures"]
    assert {e["type"] for e in exposures} == {"analysis", "dashboard"}
    marts = {f"ref('{m}')" for m in PINNED}
    assert all(set(e["depends_on"]) <= marts for e in exposures)
    assert set().union(*(e["depends_on"] for e in exposures)) == marts
