"""Cohort definitions: the schema, and error messages that name the file, line and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analysis.cohorts.criteria import CRITERIA, condition, flags_sql
from analysis.cohorts.definition import (
    PRIMARY,
    CohortDefinitionError,
    definition_from_mapping,
    load_definition,
    parse_definition,
)
from tests.cohorts.clinic import REPOSITORY


def _error(text: str) -> str:
    with pytest.raises(CohortDefinitionError) as caught:
        parse_definition(text, "c.yaml")
    return str(caught.value)


def test_definition_smallest_one_from_the_issue_parses_as_written() -> None:
    definition = parse_definition("name: trd_only\ninclude:\n  indication: [TRD]\n", "c.yaml")
    assert definition.name == "trd_only"
    assert definition.outcome_instrument == PRIMARY
    found = [(c.name, c.stage, c.values, c.line) for c in definition.criteria]
    assert found == [("indication", "include", ("TRD",), 3)]


def test_definition_every_criterion_parses_with_its_values_and_order() -> None:
    text = """\
name: everything
outcome_instrument: phq9
include:
  indication: [trd, MDD]
  site: K7-S01
  route: [iv]
  age: {min: 18, max: 65}
  sex: [Female]
  substance_use_history: false
  primary_dx_prefix: [F33, f43.1]
  course_number: [1, 2]
  completed_induction: true
  min_sessions: 6
  baseline_score: {instrument: MADRS, min: 20, max: 60}
  first_session_date: {from: 2020-01-01, to: 2024-12-31}
exclude:
  course_number: {min: 3}
  baseline_score: {max: 12.5}
"""
    definition = parse_definition(text, "c.yaml")
    got = {(c.stage, c.name): c for c in definition.criteria}
    assert definition.outcome_instrument == "PHQ9"
    assert [c.name for c in definition.include] == list(CRITERIA)  # every criterion, in the order written
    assert got[("include", "indication")].values == ("TRD", "MDD")
    assert got[("include", "site")].values == ("K7-S01",)  # a single value is a one-element list
    assert got[("include", "route")].values == ("IV",)
    assert got[("include", "sex")].values == ("female",)
    assert got[("include", "primary_dx_prefix")].values == ("F33", "F431")  # as dim_patients stores codes
    assert (got[("include", "age")].low, got[("include", "age")].high) == (18, 65)
    assert got[("include", "baseline_score")].instrument == "MADRS"
    assert got[("include", "first_session_date")].low == dt.date(2020, 1, 1)
    assert (got[("exclude", "course_number")].low, got[("exclude", "course_number")].high) == (3, None)
    assert got[("exclude", "baseline_score")].high == 12.5


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\ninclude:\n  indication: [TRD]\n  agee: {min: 3}\n",
     "c.yaml, line 4: include.agee: unknown criterion (did you mean `age`?)"),
    ("name: x\ninclude: {}\nexclud: {}\n", "c.yaml, line 3: exclud: unknown key (did you mean `exclude`?)"),
    ("name: x\ninclude:\n  age: {min: old}\n",
     "c.yaml, line 3: include.age.min: expected a whole number from 0 to 130, got text"),
    ("name: x\ninclude:\n  age:\n    min: 18\n    max: 12\n",
     "c.yaml, line 3: include.age: min (18) is after max (12)"),
    ("name: x\ninclude:\n  completed_induction: yes please\n",
     "c.yaml, line 3: include.completed_induction: expected true or false, got text"),
    ("name: x\ninclude:\n  course_number: [1, two]\n",
     "c.yaml, line 3: include.course_number[1]: expected a whole number"),
    ("name: x\ninclude:\n  min_sessions: 2.5\n",
     "c.yaml, line 3: include.min_sessions: expected a whole number from 0 to 100000, got a number"),
    ("name: x\ninclude:\n  first_session_date: {from: last year}\n",
     "c.yaml, line 3: include.first_session_date.from: expected a date"),
    ("name: x\ninclude:\n  indication: [TDR]\n",
     "c.yaml, line 3: include.indication[0]: unknown indication (did you mean `TRD`?)"),
    ("name: x\ninclude:\n  site: [101]\n",
     "c.yaml, line 3: include.site[0]: expected text of 1 to 200 characters, got an integer (quote it)"),
    ("name: x\ninclude:\n  baseline_score: {instrument: HAMD, min: 3}\n",
     "c.yaml, line 3: include.baseline_score.instrument: unknown instrument"),
    ("name: x\ninclude:\n  age: {minimum: 3}\n",
     "c.yaml, line 3: include.age.minimum: unknown key (did you mean `min`?)"),
    ("name: x\ninclude:\n  baseline_score: {}\n",
     "c.yaml, line 3: include.baseline_score: give at least one of min or max"),
    ("name: x\ninclude:\n  primary_dx_prefix: [\"F3'3\"]\n",
     "c.yaml, line 3: include.primary_dx_prefix[0]: expected an ICD-10 code prefix"),
    ("name: x\noutcome_instrument: NOPE\ninclude: {}\n", "c.yaml, line 2: outcome_instrument: unknown instrument"),
    ("name: x\ninclude:\n  indication: [TRD]\n  indication: [MDD]\n",
     "c.yaml, line 4: include.indication: given twice (first on line 3)"),
    ("name: x\ninclude: [TRD]\n", "c.yaml, line 2: include: expected a mapping"),
    ("name: bad name!\ninclude: {}\n", "c.yaml, line 1: name: must be 1-64 letters"),
    ("name: x\n", "c.yaml, line 1: missing required key `include`"),
    ("include: {}\n", "missing required key `name`"),
    ("name: x\ninclude:\n  indication: [TRD\n", "c.yaml, line 4: not valid YAML"),
    ("name: x\ninclude:\n  indication: !!python/object/apply:os.system ['true']\n",
     "c.yaml, line 3: include.indication: unsupported YAML tag"),
    ("- just\n- a list\n", "c.yaml, line 1: expected a mapping"),
    ("", "c.yaml: empty"),
])
def test_definition_error_names_line_and_key(text: str, expected: str) -> None:
    assert expected in _error(text)


def test_definition_alias_bomb_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True))
    assert "too large for a cohort definition" in _error(bomb + "name: x\ninclude: {}\n")


def test_definition_from_mapping_is_checked_like_yaml() -> None:
    definition = definition_from_mapping({"name": "d", "include": {"indication": ["PTSD"]}})
    assert definition.include[0].values == ("PTSD",)
    with pytest.raises(CohortDefinitionError, match=r"include.nope: unknown criterion"):
        definition_from_mapping({"name": "d", "include": {"nope": 1}})


def test_definition_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(CohortDefinitionError, match="No cohort definition at"):
        load_definition(tmp_path / "absent.yaml")


def test_definition_examples_in_cohorts_folder_all_parse() -> None:
    examples = sorted((REPOSITORY / "cohorts").glob("*.yaml"))
    assert len(examples) >= 4
    names = [load_definition(path).name for path in examples]
    assert len(set(names)) == len(names)


def test_criteria_sql_carries_no_definition_text() -> None:
    """Values go to parameters; the SQL text is the same whatever the values are."""
    base = ("name: x\ninclude:\n  site: [{v}]\n  baseline_score: {{instrument: PHQ9, min: {n}}}\n"
            "exclude:\n  sex: [{v}]\n")
    first, first_params = flags_sql(parse_definition(base.format(v="A", n=1), "c.yaml"))
    second, second_params = flags_sql(parse_definition(base.format(v="\"x'); DROP TABLE t; --\"", n=2), "c.yaml"))
    assert first == second
    assert "DROP" not in second
    assert "DROP" in str(second_params)
    assert set(first_params) == {"c1_values", "c2_instrument", "c2_min", "c3_values"}


def test_criteria_null_means_not_met_for_include_and_not_excluded_for_exclude() -> None:
    definition = parse_definition("name: x\ninclude:\n  age: {min: 18}\nexclude:\n  sex: [male]\n", "c.yaml")
    sql, _ = flags_sql(definition)
    assert "coalesce((b.age >= $c1_min), false) AS step_1" in sql
    assert "NOT coalesce((list_contains($c2_values, b.sex)), false) AS step_2" in sql
    fragment, params = condition(definition.include[0], "c9", PRIMARY)
    assert (fragment, params) == ("b.age >= $c9_min", {"c9_min": 18})
