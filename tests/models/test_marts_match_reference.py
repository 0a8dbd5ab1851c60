"""The marts agree with an independent Python reading of definitions.md (reference.py), on the
hand-made and fuzz clinics, with the shipped definitions and with every rule's var overridden."""

from __future__ import annotations

import math
from typing import Any

import pytest

from core.definitions import load_definitions
from tests.models.conftest import OVERRIDES, BuiltClinics
from tests.models.reference import Expected, expected_from_warehouse

DEFAULT = pytest.mark.xdist_group("models_clinics_default")
OVERRIDDEN = pytest.mark.xdist_group("models_clinics_overridden")


def _expected(built: BuiltClinics) -> Expected:
    return expected_from_warehouse(built.settings.warehouse, built.definitions)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def _differences(expected: dict, actual: dict) -> list[str]:
    problems = [f"missing {key}" for key in expected.keys() - actual.keys()]
    problems += [f"unexpected {key}" for key in actual.keys() - expected.keys()]
    for key in expected.keys() & actual.keys():
        for column, value in expected[key].items():
            if not _same(value, actual[key][column]):
                problems.append(f"{key} {column}: expected {value!r}, mart has {actual[key][column]!r}")
    return sorted(problems)


def check_indications(built: BuiltClinics) -> None:
    expected = {k: {"indication": v} for k, v in _expected(built).indication.items()}
    actual = {r["patient_id"]: r for r in built.query("SELECT patient_id, indication FROM marts.dim_patients")}
    assert _differences(expected, actual) == []


def check_sessions(built: BuiltClinics) -> None:
    expected = {
        k: {"course_number": c, "session_number": n, "phase": p} for k, (c, n, p) in _expected(built).sessions.items()
    }
    actual = {r["session_id"]: r for r in built.query("SELECT * FROM marts.fct_sessions")}
    assert _differences(expected, actual) == []


def check_courses(built: BuiltClinics) -> None:
    expected = _expected(built).courses
    actual = {(r["patient_id"], r["course_number"]): r for r in built.query("SELECT * FROM marts.fct_courses")}
    assert _differences(expected, actual) == []


def check_response(built: BuiltClinics) -> None:
    expected = _expected(built).response
    rows = built.query("SELECT * FROM marts.fct_response")
    actual = {(r["patient_id"], r["course_number"], r["instrument"]): r for r in rows}
    assert _differences(expected, actual) == []


def check_durability(built: BuiltClinics) -> None:
    expected = _expected(built).durability
    rows = built.query("SELECT * FROM marts.fct_durability")
    actual = {(r["patient_id"], r["course_number"], r["instrument"]): r for r in rows}
    assert _differences(expected, actual) == []


def check_derived_events(built: BuiltClinics) -> None:
    rows = built.query("SELECT session_id, event_term FROM marts.fct_adverse_events WHERE source = 'derived'")
    assert {(r["session_id"], r["event_term"]) for r in rows} == _expected(built).derived_events


CHECKS = [check_indications, check_sessions, check_courses, check_response, check_durability, check_derived_events]


@DEFAULT
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_marts_match_reference_with_shipped_definitions(clinics: BuiltClinics, check) -> None:
    check(clinics)


@OVERRIDDEN
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_marts_match_reference_with_every_rule_var_overridden(clinics_overridden: BuiltClinics, check) -> None:
    check(clinics_overridden)


@DEFAULT
def test_reference_comparison_covers_every_outcome(clinics: BuiltClinics) -> None:
    """The clinics exercise each branch, so agreement above is not agreement on empty sets."""
    expected = _expected(clinics)
    reasons = {r["not_evaluable_reason"] for r in expected.response.values()}
    assert reasons == {None, "no_baseline", "below_min_baseline", "no_endpoint"}
    assert {r["responder"] for r in expected.response.values()} == {None, True, False}
    assert {r["lost_response"] for r in expected.durability.values()} == {True, False}
    assert {c["primary_instrument"] for c in expected.courses.values()} >= {"MADRS", "PHQ9", "PCL5", "GAD7"}
    assert {term for _, term in expected.derived_events} == {"hypertension", "desaturation"}
    assert len(expected.courses) > 150
    assert len(expected.durability) > 30


@OVERRIDDEN
@pytest.mark.parametrize("var", sorted(OVERRIDES))
def test_each_overridden_var_matters_on_these_clinics(clinics_overridden: BuiltClinics, var: str) -> None:
    """Putting one var back to its shipped value changes the expected marts, so the agreement above shows
    that the build honoured that var (a var accepted but ignored would fail the comparison)."""
    with_override = _expected(clinics_overridden)
    shipped = load_definitions().as_dict()[var]
    definitions = {**clinics_overridden.definitions, var: shipped}
    without = expected_from_warehouse(clinics_overridden.settings.warehouse, definitions)
    assert with_override != without
