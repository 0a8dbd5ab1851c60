"""Safe by construction: definition values reach SQL only as parameters, the warehouse is only read.

Injection strings go into every field of a definition; each run is refused or treats the string as a
value, and afterwards the warehouse file and every table in it are exactly as before.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from analysis.cohorts.connection import open_marts
from analysis.cohorts.definition import CohortDefinitionError, load_definition
from analysis.cohorts.evaluate import evaluate_cohort
from analysis.cohorts.run import run_cohort
from core.config import Settings
from tests.cohorts.clinic import CLINIC_GROUP

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)

INJECTIONS = (
    "'; DROP TABLE marts.fct_courses; --",
    "TRD') OR 1=1 --",
    "x\"; CREATE TABLE marts.pwned AS SELECT 1; --",
    "' UNION SELECT patient_id FROM raw.patients --",
    "$c1_values",
    "{BASE_SQL} {0} %s",
    "COPY marts.dim_patients TO '{evil}/leak.csv'",
    "'); ATTACH '{evil}/other.duckdb' AS o; --",
    "read_csv('/etc/passwd')",
)
# Every field of the schema, as a template taking one YAML-quoted value.
FIELDS = {
    "name": "name: {v}\ninclude: {{}}\n",
    "description": "name: d\ndescription: {v}\ninclude: {{}}\n",
    "outcome_instrument": "name: d\noutcome_instrument: {v}\ninclude: {{}}\n",
    "include key": "name: d\ninclude:\n  {v}: [TRD]\n",
    "top key": "name: d\n{v}: 1\ninclude: {{}}\n",
    "indication": "name: d\ninclude:\n  indication: [{v}]\n",
    "site": "name: d\ninclude:\n  site: [{v}]\n",
    "route": "name: d\ninclude:\n  route: [{v}]\n",
    "sex": "name: d\nexclude:\n  sex: [{v}]\ninclude: {{}}\n",
    "substance_use_history": "name: d\ninclude:\n  substance_use_history: {v}\n",
    "primary_dx_prefix": "name: d\ninclude:\n  primary_dx_prefix: [{v}]\n",
    "age": "name: d\ninclude:\n  age: {{min: {v}}}\n",
    "course_number": "name: d\ninclude:\n  course_number: [{v}]\n",
    "completed_induction": "name: d\ninclude:\n  completed_induction: {v}\n",
    "min_sessions": "name: d\ninclude:\n  min_sessions: {v}\n",
    "baseline_score instrument": "name: d\ninclude:\n  baseline_score: {{instrument: {v}, min: 1}}\n",
    "baseline_score min": "name: d\ninclude:\n  baseline_score: {{min: {v}}}\n",
    "first_session_date": "name: d\ninclude:\n  first_session_date: {{from: {v}}}\n",
}
# fields whose value is free text that reaches the SQL as a parameter (the others refuse such strings)
FREE_TEXT = {"description", "site", "route", "sex"}


def fingerprints(warehouse: Path) -> dict[str, str]:
    """A hash of every table's sorted rows and every view's definition, in every schema, read-only."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        for schema, table in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY ALL').fetchall()  # noqa: S608
            out[f"{schema}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
        views = con.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
        out |= {f"{schema}.{view} (view)": hashlib.sha256(sql.encode()).hexdigest() for schema, view, sql in views}
        return out
    finally:
        con.close()


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_definitions_with_injection_strings_change_nothing(clinic: Settings, tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    evil.mkdir()
    before, file_before = fingerprints(clinic.warehouse), _file_hash(clinic.warehouse)
    assert any(name.startswith("marts.") for name in before)
    assert any(name.startswith("raw.") for name in before)
    outcomes: dict[str, int] = {"refused": 0, "ran": 0}
    messages: list[str] = []
    for field, template in FIELDS.items():
        for number, injection in enumerate(INJECTIONS):
            definition = tmp_path / f"{field.replace(' ', '_')}_{number}.yaml"
            definition.write_text(template.format(v=json.dumps(injection.replace("{evil}", str(evil)))))
            try:
                if field == "description" and number == 0:  # once the whole run, report included
                    summary = run_cohort(definition, clinic, tmp_path / "out")
                    courses, every_course = summary.courses, summary.courses_in_warehouse
                else:  # the same selection and SQL without drawing figures, to keep the test quick
                    result = evaluate_cohort(load_definition(definition), clinic.warehouse)
                    courses, every_course = result.courses, int(result.attrition["courses"][0])
            except CohortDefinitionError as exc:
                messages.append(str(exc))
                outcomes["refused"] += 1
                continue
            assert field in FREE_TEXT, (field, injection)  # anything else must have been refused
            outcomes["ran"] += 1
            if field in ("site", "route"):
                assert courses == 0  # the string was compared as a value, matching nothing
            else:
                assert courses == every_course  # description; excluding that "sex" removed nothing
    assert outcomes["ran"] == len(INJECTIONS) * len(FREE_TEXT)
    assert outcomes["refused"] == len(INJECTIONS) * (len(FIELDS) - len(FREE_TEXT))
    assert all(", line " in message for message in messages)  # every refusal names its line
    assert fingerprints(clinic.warehouse) == before
    assert _file_hash(clinic.warehouse) == file_before
    assert list(evil.iterdir()) == []
    assert not (clinic.warehouse.parent / f"{clinic.warehouse.name}.wal").exists()


@pytest.mark.parametrize("statement", [
    "CREATE TABLE wh.marts.pwned AS SELECT 1",
    "DELETE FROM wh.marts.fct_courses",
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY (SELECT 1) TO '{tmp}/x.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "SET enable_external_access = true",
    "INSTALL httpfs",
])
def test_cohort_connection_refuses_writes_files_and_extensions(clinic: Settings, tmp_path: Path,
                                                               statement: str) -> None:
    """Even SQL we never write could not escape: the sandbox itself refuses."""
    with open_marts(clinic.warehouse) as con, pytest.raises(duckdb.Error):
        con.execute(statement.format(tmp=tmp_path))
    assert list(tmp_path.iterdir()) == []
