"""The vectorised exchangeable GEE against statsmodels GEE: same estimates, robust errors and correlation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.genmod.cov_struct import Exchangeable
from statsmodels.genmod.families import Binomial, Poisson

from analysis.gee import GeeFit, fit_gee
from analysis.tidy import guarded_fit


@pytest.fixture(scope="module")
def clustered() -> pd.DataFrame:
    """Patients with one to four rows each and a shared patient effect, so the correlation is not zero."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 5, 800)
    patient = np.repeat(np.arange(sizes.size), sizes)
    n = patient.size
    frailty, effect = rng.gamma(3, 1 / 3, sizes.size)[patient], rng.normal(0, 1, sizes.size)[patient]
    data = pd.DataFrame({
        "patient_id": [f"P{i}" for i in patient],
        "route": pd.Categorical(rng.choice(["IV", "IM", "INTRANASAL"], n), categories=["IV", "IM", "INTRANASAL"]),
        "dose_mg_per_kg": rng.choice([0.5, 0.75, 1.0], n), "age_per_10_years": rng.normal(4, 1, n),
        "sessions": rng.integers(1, 10, n)})
    data["events"] = rng.poisson(data["sessions"] * 0.3 * np.exp(0.4 * data["dose_mg_per_kg"]) * frailty)
    logit = 0.2 - 0.3 * data["age_per_10_years"] + 0.5 * (data["route"] == "IM") + effect
    data["responded"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return data


def test_poisson_gee_with_exposure_matches_statsmodels(clustered: pd.DataFrame):
    formula = "events ~ route + dose_mg_per_kg + age_per_10_years"
    reference = smf.gee(formula, groups="patient_id", data=clustered, family=Poisson(), cov_struct=Exchangeable(),
                        exposure=clustered["sessions"].to_numpy(np.float64)).fit()
    fit = fit_gee(formula, clustered, groups="patient_id", family="poisson", exposure="sessions")
    assert list(fit.params.index) == list(reference.params.index)
    np.testing.assert_allclose(fit.params.to_numpy(), reference.params.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.bse, reference.bse.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(fit.conf_int(0.05), reference.conf_int(alpha=0.05).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(fit.pvalues, reference.pvalues.to_numpy(), rtol=1e-6, atol=1e-300)
    assert fit.dep_param == pytest.approx(reference.cov_struct.dep_params, rel=1e-9)
    assert fit.dep_param > 0.1  # the planted patient effect shows as within-patient correlation
    assert (fit.converged, fit.clusters, fit.observations) == (True, 800, len(clustered))


def test_logistic_gee_matches_statsmodels(clustered: pd.DataFrame):
    reference = smf.gee("responded ~ route + age_per_10_years", groups="patient_id", data=clustered,
                        family=Binomial(), cov_struct=Exchangeable()).fit()
    fit = fit_gee("responded ~ route + age_per_10_years", clustered, groups="patient_id", family="binomial")
    np.testing.assert_allclose(fit.params.to_numpy(), reference.params.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.bse, reference.bse.to_numpy(), rtol=1e-9)
    assert fit.dep_param == pytest.approx(reference.cov_struct.dep_params, rel=1e-9)


def test_singleton_clusters_give_the_glm_estimate_and_zero_correlation(clustered: pd.DataFrame):
    singles = clustered.drop_duplicates("patient_id")
    fit = fit_gee("events ~ route + dose_mg_per_kg", singles, groups="patient_id", family="poisson",
                  exposure="sessions")
    glm = smf.glm("events ~ route + dose_mg_per_kg", singles, family=Poisson(),
                  exposure=singles["sessions"].to_numpy(np.float64)).fit(cov_type="HC0")
    np.testing.assert_allclose(fit.params.to_numpy(), glm.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(fit.bse, glm.bse.to_numpy(), rtol=1e-8)  # sandwich = HC0 with one row per cluster
    assert fit.dep_param == 0.0


def test_gee_that_runs_out_of_iterations_warns_and_guarded_fit_reports_not_converged(clustered: pd.DataFrame):
    def fit_briefly() -> GeeFit:  # two steps: the correlation moved, the mean has not caught up
        return fit_gee("events ~ route", clustered, groups="patient_id", family="poisson", exposure="sessions",
                       max_iterations=2)

    assert guarded_fit(fit_briefly) == (None, "not_converged")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_briefly()
    assert not fit.converged
    assert any("Iteration limit" in str(w.message) for w in caught)
