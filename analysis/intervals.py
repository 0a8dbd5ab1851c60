"""Confidence intervals: exact Poisson (Garwood), Wilson, and Kaplan-Meier log-log pointwise.

Every function takes ``alpha`` (from core.definitions) and works on numpy arrays, so a table of strata
is one call. The formulas are checked against their closed forms in tests/analysis/test_intervals.py.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

FloatArray = NDArray[np.float64]


def normal_quantile(alpha: float) -> float:
    """z such that a two-sided normal interval covers 1 - alpha."""
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def poisson_exact_ci(events: ArrayLike, exposure: ArrayLike, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Exact (Garwood) interval for events / exposure; the lower bound is 0 when there are no events.

    statsmodels calls this method "exact-c" (stack-notes: "exact" is not a valid name, and Wald would
    give (0, 0) at zero events). Zero exposure gives NaN: there is no rate to bound.
    """
    k = np.asarray(events, dtype=np.float64)
    t = np.asarray(exposure, dtype=np.float64)
    low, high = np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    ok = t > 0
    if np.any(ok):
        lo, hi = confint_poisson(k[ok], t[ok], method="exact-c", alpha=alpha)
        low[ok], high[ok] = np.maximum(np.asarray(lo, dtype=np.float64), 0.0), hi
    return low, high


def wilson_ci(successes: ArrayLike, trials: ArrayLike, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a proportion (statsmodels defaults to Wald, which gives (0, 0) at 0/n)."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    low, high = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    ok = n > 0
    if np.any(ok):
        lo, hi = proportion_confint(x[ok], n[ok], alpha=alpha, method="wilson")
        low[ok], high[ok] = lo, hi
    return low, high


def km_loglog_ci(survival: ArrayLike, se: ArrayLike, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Pointwise log-log interval of a Kaplan-Meier estimate from its Greenwood standard error.

    On the scale log(-log S) the interval is symmetric, which keeps it inside (0, 1) (R's
    conf.type = "log-log"). SurvfuncRight gives no pointwise interval (stack-notes), hence this.
    Undefined (NaN) where S is 0 or 1: before the first event or after the last at-risk subject.
    """
    s = np.asarray(survival, dtype=np.float64)
    sd = np.asarray(se, dtype=np.float64)
    low, high = np.full(s.shape, np.nan), np.full(s.shape, np.nan)
    ok = (s > 0) & (s < 1) & np.isfinite(sd)
    z = normal_quantile(alpha)
    spread = z * sd[ok] / (s[ok] * np.abs(np.log(s[ok])))
    low[ok] = s[ok] ** np.exp(spread)
    high[ok] = s[ok] ** np.exp(-spread)
    return low, high
