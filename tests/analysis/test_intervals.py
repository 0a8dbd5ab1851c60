"""Intervals against their closed forms and published tables (no warehouse)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.intervals import km_loglog_ci, normal_quantile, poisson_exact_ci, wilson_ci
from core.definitions import load_definitions

ALPHA = load_definitions().alpha


def test_poisson_exact_interval_equals_the_chi_square_formula():
    # Garwood (1936): [chi2(alpha/2; 2k) / 2, chi2(1 - alpha/2; 2k + 2) / 2] for the count, divided by exposure
    events = np.array([0, 1, 2, 3, 7, 10, 25, 100, 1234])
    exposure = np.array([50.0, 100.0, 19341.0, 3.5, 1000.0, 10.0, 77.0, 1e5, 2e6])
    low, high = poisson_exact_ci(events, exposure, ALPHA)
    expected_low = np.where(events > 0, stats.chi2.ppf(ALPHA / 2, 2 * np.maximum(events, 1)) / 2, 0.0) / exposure
    expected_high = stats.chi2.ppf(1 - ALPHA / 2, 2 * events + 2) / 2 / exposure
    np.testing.assert_allclose(low, expected_low, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(high, expected_high, rtol=1e-9)


def test_poisson_exact_interval_matches_the_published_95_percent_table():
    # exact 95% limits for a Poisson count (e.g. Ulm 1990, Am J Epidemiol 131:373): 0 -> (0, 3.689),
    # 1 -> (0.0253, 5.572), 10 -> (4.795, 18.390)
    low, high = poisson_exact_ci(np.array([0, 1, 10]), np.ones(3), 0.05)
    np.testing.assert_allclose(low, [0.0, 0.0253, 4.795], atol=5e-4)
    np.testing.assert_allclose(high, [3.689, 5.572, 18.390], atol=5e-4)


def test_poisson_zero_events_has_zero_lower_and_positive_upper_bound():
    low, high = poisson_exact_ci(np.array([0]), np.array([250.0]), ALPHA)
    assert low[0] == 0.0
    assert high[0] == pytest.approx(-np.log(ALPHA / 2) / 250.0)  # at k = 0 the upper limit is -ln(alpha/2)


def test_poisson_interval_is_undefined_without_exposure():
    low, high = poisson_exact_ci(np.array([0, 3]), np.array([0.0, 10.0]), ALPHA)
    assert np.isnan(low[0])
    assert np.isnan(high[0])
    assert np.isfinite(high[1])


def test_wilson_interval_equals_its_closed_form():
    successes = np.array([0, 1, 5, 37, 50, 99, 100])
    trials = np.array([20, 3, 11, 80, 100, 100, 100])
    z = normal_quantile(ALPHA)
    p = successes / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z / (1 + z**2 / trials) * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2))
    low, high = wilson_ci(successes, trials, ALPHA)
    np.testing.assert_allclose(low, centre - half, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(high, centre + half, rtol=1e-10)


def test_wilson_interval_at_zero_successes_is_not_the_degenerate_wald_interval():
    low, high = wilson_ci(np.array([0]), np.array([20]), 0.05)
    assert low[0] == pytest.approx(0.0, abs=1e-12)
    assert high[0] == pytest.approx(0.16113, abs=1e-5)  # 0/20: Wilson upper limit 0.1611 (Wald would give 0)


def test_km_log_log_interval_equals_the_transformed_normal_interval():
    survival, se = np.array([0.9, 0.5, 0.2]), np.array([0.03, 0.05, 0.04])
    z = normal_quantile(ALPHA)
    theta, se_theta = np.log(-np.log(survival)), se / (survival * np.abs(np.log(survival)))
    # S = exp(-exp(theta)) is decreasing in theta: the upper limit of S comes from theta - z se
    expected_low, expected_high = np.exp(-np.exp(theta + z * se_theta)), np.exp(-np.exp(theta - z * se_theta))
    low, high = km_loglog_ci(survival, se, ALPHA)
    np.testing.assert_allclose(low, expected_low, rtol=1e-12)
    np.testing.assert_allclose(high, expected_high, rtol=1e-12)
    assert np.all((low > 0) & (high < 1))


def test_km_log_log_interval_is_undefined_at_survival_one_or_zero():
    low, high = km_loglog_ci(np.array([1.0, 0.0]), np.array([0.0, 0.0]), ALPHA)
    assert np.all(np.isnan(low))
    assert np.all(np.isnan(high))
