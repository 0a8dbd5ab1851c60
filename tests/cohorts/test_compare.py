"""Comparing cohorts: the difference intervals against their references, and compare_cohorts end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.cohorts.compare import compare_cohorts
from analysis.cohorts.difference import proportion_difference, rate_difference
from core.config import Settings
from core.definitions import load_definitions
from tests.cohorts.clinic import CLINIC_GROUP, REPOSITORY, read_table

COHORTS = REPOSITORY / "cohorts"


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"),
                         [(30, 50, 20, 50), (0, 20, 5, 25), (56, 70, 48, 80), (12, 12, 3, 40)])
def test_proportion_difference_is_newcombes_hybrid_score_interval(x1: int, n1: int, x2: int, n2: int) -> None:
    """Reference: statsmodels' independent implementation of Newcombe (1998) method 10."""
    difference, low, high = proportion_difference([x1], [n1], [x2], [n2], 0.05)
    assert difference[0] == pytest.approx(x1 / n1 - x2 / n2)
    assert (low[0], high[0]) == pytest.approx(confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
                                                                         compare="diff", alpha=0.05))


@pytest.mark.parametrize(("k1", "t1", "k2", "t2"),
                         [(10, 1000.0, 5, 800.0), (0, 500.0, 3, 400.0), (120, 2000.0, 90, 2500.0)])
def test_rate_difference_is_mover_with_exact_poisson_limits(k1: int, t1: float, k2: int, t2: float) -> None:
    """Reference: Garwood limits from the chi-square quantiles, combined by MOVER (Li, Tang & Wong 2014)."""
    def garwood(k: int, t: float) -> tuple[float, float]:
        low = stats.chi2.ppf(0.025, 2 * k) / 2 / t if k else 0.0
        return low, stats.chi2.ppf(0.975, 2 * k + 2) / 2 / t

    (l1, u1), (l2, u2) = garwood(k1, t1), garwood(k2, t2)
    r1, r2 = k1 / t1, k2 / t2
    difference, low, high = rate_difference([k1], [t1], [k2], [t2], 0.05)
    assert difference[0] == pytest.approx(r1 - r2)
    assert low[0] == pytest.approx(r1 - r2 - np.sqrt((r1 - l1) ** 2 + (u2 - r2) ** 2))
    assert high[0] == pytest.approx(r1 - r2 + np.sqrt((u1 - r1) ** 2 + (r2 - l2) ** 2))
    assert low[0] < r1 - r2 < high[0]


def test_rate_difference_at_zero_events_still_has_an_interval() -> None:
    difference, low, high = rate_difference([0], [1000.0], [0], [1000.0], 0.05)
    assert difference[0] == 0
    assert low[0] < 0 < high[0]


@pytest.mark.xdist_group(CLINIC_GROUP)
def test_compare_cohorts_iv_against_intranasal_matches_the_marts(clinic: Settings, tmp_path: Path) -> None:
    summary = compare_cohorts(COHORTS / "depression_iv.yaml", COHORTS / "depression_intranasal.yaml", clinic,
                              tmp_path)
    courses = read_table(clinic, "SELECT c.first_session_route AS route, c.primary_evaluable, c.primary_responder "
                                 "FROM marts.fct_courses c JOIN marts.dim_patients p USING (patient_id) "
                                 "WHERE p.indication IN ('TRD', 'MDD')")
    counts = {route: (int(g["primary_responder"].sum()), int(g["primary_evaluable"].sum()))
              for (route,), g in courses.group_by("route")}
    (x1, n1), (x2, n2) = counts["IV"], counts["INTRANASAL"]
    response = summary.table.filter(pl.col("measure") == "response").row(0, named=True)
    assert (response["a_count"], response["a_denominator"]) == (str(x1), str(n1))
    assert (response["b_count"], response["b_denominator"]) == (str(x2), str(n2))
    expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff",
                                          alpha=load_definitions().alpha)
    assert response["difference"] == pytest.approx(x1 / n1 - x2 / n2)
    assert (response["difference_ci_low"], response["difference_ci_high"]) == pytest.approx(expected)
    assert response["method"] == "newcombe_hybrid_score"
    assert response["status"] == "ok"
    rate = summary.table.filter((pl.col("measure") == "ae_rate") & (pl.col("stratum") == "All")).row(0, named=True)
    assert rate["method"] == "mover_exact_poisson"
    assert rate["difference"] == pytest.approx(rate["a_estimate"] - rate["b_estimate"])
    assert summary.shared_courses == 0  # one route each
    assert (tmp_path / "compare.csv").exists()
    text = summary.describe()
    assert "A = depression_iv" in text
    assert "Newcombe hybrid score" in text
    assert "exact Poisson" in text


@pytest.mark.xdist_group(CLINIC_GROUP)
def test_compare_cohorts_gives_no_difference_where_a_side_is_suppressed(clinic: Settings) -> None:
    summary = compare_cohorts(COHORTS / "trd_only.yaml", COHORTS / "ptsd_recent.yaml", clinic)
    table = summary.table
    hidden = table.filter((pl.col("a_estimate").is_null() | pl.col("b_estimate").is_null())
                          & (pl.col("unit") != "km_proportion"))  # Kaplan-Meier is shown side by side only
    assert hidden.height > 0  # rare event terms in the smaller cohort
    assert hidden["difference"].is_null().all()
    assert hidden["status"].str.starts_with("not_estimable").all()
    assert summary.out_file is None
