"""Fits become statuses, never exceptions; table schemas are fixed."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
from statsmodels.tools.sm_exceptions import ConvergenceWarning, IterationLimitWarning

from analysis.tidy import RATIOS_SCHEMA, conform, guarded_fit, model_row, term_label


def _warns(category: type[Warning]) -> str:
    warnings.warn("stopped early", category, stacklevel=1)
    return "estimate"


def test_guarded_fit_turns_convergence_warnings_into_not_converged():
    assert guarded_fit(lambda: _warns(ConvergenceWarning)) == (None, "not_converged")
    assert guarded_fit(lambda: _warns(IterationLimitWarning)) == (None, "not_converged")


def test_guarded_fit_turns_a_singular_matrix_into_a_failed_status():
    result, status = guarded_fit(lambda: np.linalg.inv(np.zeros((2, 2))))
    assert result is None
    assert status == "failed: linear algebra: Singular matrix"


def test_guarded_fit_passes_a_good_result_through():
    assert guarded_fit(lambda: 42) == (42, "ok")


def test_term_labels_are_readable():
    assert [term_label(t) for t in ("route[T.IM]", "site[T.K1-S02]", "age_per_10_years")] == [
        "route=IM", "site=K1-S02", "age_per_10_years"]


def test_conform_gives_the_fixed_schema_even_for_a_lone_status_row():
    table = conform([model_row("too_few", "m", observations=3)], RATIOS_SCHEMA)
    assert dict(table.schema) == RATIOS_SCHEMA
    assert table.row(0, named=True)["status"] == "too_few"
    assert conform([], RATIOS_SCHEMA).schema == pl.Schema(RATIOS_SCHEMA)
